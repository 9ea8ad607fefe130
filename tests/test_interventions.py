import sys
import types

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from utils.diffmask import (
    DiffMaskConfig,
    constraint_violations,
    intervention_objective,
    sample_masks,
    steps_to_converge,
    train_masks,
)
from utils.exhaustive_search import all_unit_sets, unit_set_masks
from utils.hard_concrete import HardConcrete
from utils.intervention_tasks import build_task
from utils.interventions import UnitIntervention, intervene, replace_units
from utils.lstm import LSTMNetwork, Vocabulary
from utils.mask_evaluation import evaluate_masks
from utils.reinforce import score_function_surrogate
from utils.word_language_model import load_word_language_model

HIDDEN, LAYERS = 6, 2
UNITS = HIDDEN * LAYERS
WORDS = ["the", "dog", "dogs", "cat", "cats", "runs", "run", "near", "house", "houses"]


def small_model(seed: int = 0) -> LSTMNetwork:
    torch.manual_seed(seed)
    return LSTMNetwork(len(WORDS) + 4, len(WORDS) + 4, embedding_dim=5, hidden_dim=HIDDEN).eval()


def vocab() -> Vocabulary:
    return Vocabulary.build([WORDS])


def tokens(batch: int = 4, steps: int = 7, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        4, len(WORDS) + 4, (batch, steps), generator=torch.Generator().manual_seed(seed)
    )


def naive_intervention(model, row, mask, baseline, position):
    """One sequence, with a hand-written edit: Eq. 1 at one step (or every step)."""

    def edit(layer, t, h):
        if position is not None and t != position:
            return h
        m = mask[layer * HIDDEN : (layer + 1) * HIDDEN]
        b = baseline[layer * HIDDEN : (layer + 1) * HIDDEN]
        return (1 - m) * h + m * b

    logits, hidden, _ = model.unrolled(row[None], edit=edit)
    return logits[0], hidden[:, 0]


def test_zero_mask_reproduces_the_plain_lstm_exactly():
    model, x = small_model(), tokens()
    plain, hidden, _ = model.unrolled(x)
    for positions in (None, torch.tensor([1, 2, 3, 0])):
        logits, edited = intervene(model, x, torch.zeros(UNITS), torch.randn(UNITS), positions)
        assert torch.equal(logits, plain)
        assert torch.equal(edited, hidden.permute(1, 2, 0, 3).reshape(4, 7, UNITS))
    torch.testing.assert_close(plain, model(x), atol=1e-5, rtol=0)


def test_single_step_touches_only_its_step_and_its_units():
    model, x = small_model(), tokens()
    positions = torch.tensor([1, 2, 3, 5])
    mask = torch.zeros(UNITS)
    mask[[0, 7]] = 1.0
    baseline = torch.linspace(-1, 1, UNITS)
    _, plain = intervene(model, x, torch.zeros(UNITS), baseline)
    _, edited = intervene(model, x, mask, baseline, positions)
    for row, step in enumerate(positions.tolist()):
        assert torch.equal(edited[row, :step], plain[row, :step])
        assert torch.equal(edited[row, step, [0, 7]], baseline[[0, 7]])
        assert not torch.allclose(edited[row, step + 1 :], plain[row, step + 1 :])


@pytest.mark.parametrize("single", [True, False])
def test_batched_intervention_agrees_with_a_per_example_loop(single):
    model, x = small_model(1), tokens(5, 6, seed=1)
    masks = torch.rand(5, UNITS)
    baseline = torch.randn(5, UNITS)
    positions = torch.tensor([0, 1, 2, 3, 4]) if single else None
    logits, hidden = intervene(model, x, masks, baseline, positions)
    for row in range(5):
        step = None if positions is None else int(positions[row])
        ref_logits, ref_hidden = naive_intervention(model, x[row], masks[row], baseline[row], step)
        torch.testing.assert_close(logits[row], ref_logits, atol=1e-6, rtol=0)
        torch.testing.assert_close(hidden[row], ref_hidden.permute(1, 0, 2).reshape(6, UNITS))


def test_replace_units_and_bad_shapes():
    h = torch.randn(3, 4)
    assert torch.equal(
        replace_units(h, torch.ones(4), torch.full((4,), 0.5)), torch.full((3, 4), 0.5)
    )
    with pytest.raises(ValueError, match="multiple"):
        UnitIntervention(torch.zeros(7), torch.zeros(7), HIDDEN)
    with pytest.raises(ValueError, match="baseline"):
        UnitIntervention(torch.zeros(12), torch.zeros(6), HIDDEN)
    with pytest.raises(ValueError, match="units"):
        intervene(small_model(), tokens(), torch.zeros(6), torch.zeros(6))


def make_task(model):
    v = vocab()
    prefixes = [
        ["the", n, "near", "the", a]
        for n in ("dog", "dogs", "cat", "cats")
        for a in ("house", "houses")
    ]
    prefixes += [[*p[:2]] for p in prefixes[:4]]
    n = len(prefixes)
    task_a = build_task(model, v, prefixes, ["runs"] * n, ["run"] * n, [1] * n)
    task_b = build_task(model, v, prefixes, ["run"] * n, ["runs"] * n, [1] * n)
    return task_a if len(task_a) >= len(task_b) else task_b


def naive_objective(model, task, mask, baseline, config):
    """Eq. 2 + kl_weight * Eq. 10 for one run, example by example, from the softmax."""
    out = torch.zeros(mask.shape[:2])
    for r in range(mask.shape[0]):
        for i in range(len(task)):
            row = task.tokens[i]
            step = int(task.subject_position[i]) if config.mode == "single" else None
            m = mask[r, i] if mask.shape[1] > 1 else mask[r, 0]
            logits, _ = naive_intervention(model, row, m, baseline[r], step)
            p = F.softmax(logits, -1)
            target = int(task.target_position[i])
            ratio = p[target, task.current[i]] / p[target, task.desired[i]]
            original = F.softmax(model(row[None])[0], -1)
            kls = [(original[t] * (original[t].log() - p[t].log())).sum() for t in range(target)]
            out[r, i] = ratio + config.kl_weight * (torch.stack(kls).mean() if kls else 0.0)
    return out


@pytest.mark.parametrize("mode", ["single", "every"])
def test_batched_objective_and_gradients_agree_with_a_naive_loop(mode):
    model = small_model(2)
    task = make_task(model)
    assert len(task) >= 3
    config = DiffMaskConfig(mode=mode, kl_weight=0.7)
    loc = torch.randn(2, UNITS, requires_grad=True)
    raw = torch.randn(2, UNITS, requires_grad=True)
    mask = sample_masks(loc, config, len(task), torch.Generator().manual_seed(0))
    batched = intervention_objective(model, task, mask, torch.tanh(raw), config)
    (grad_loc, grad_raw) = torch.autograd.grad(batched.sum(), [loc, raw], retain_graph=True)
    naive = naive_objective(model, task, mask, torch.tanh(raw), config)
    torch.testing.assert_close(batched, naive, atol=1e-5, rtol=1e-4)
    ref_loc, ref_raw = torch.autograd.grad(naive.sum(), [loc, raw])
    torch.testing.assert_close(grad_loc, ref_loc, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(grad_raw, ref_raw, atol=1e-5, rtol=1e-4)


def test_score_function_gradient_is_unbiased():
    """The REINFORCE surrogate's mean gradient equals the exact gradient of E[cost]."""
    loc = torch.tensor([[0.3, -0.5, 1.0]], requires_grad=True)
    weights = torch.tensor([1.0, -2.0, 0.5])

    def cost(mask):
        return (mask * weights).sum(-1) ** 2

    masks = torch.tensor([[a, b, c] for a in (0.0, 1.0) for b in (0.0, 1.0) for c in (0.0, 1.0)])
    p = torch.sigmoid(loc[0])
    prob = (masks * p + (1 - masks) * (1 - p)).prod(-1)
    (exact,) = torch.autograd.grad((prob * cost(masks)).sum(), loc)
    config = DiffMaskConfig(estimator="reinforce", shared_sample=False)
    samples = sample_masks(loc, config, 200_000, torch.Generator().manual_seed(0))
    surrogate = score_function_surrogate(cost(samples), torch.tensor([1.0]), samples, loc)
    (estimate,) = torch.autograd.grad(surrogate.sum(), loc)
    torch.testing.assert_close(estimate, exact, atol=0.03, rtol=0)


def test_constraints_are_fractions_of_units():
    loc = torch.zeros(3, 10)
    config = DiffMaskConfig(alpha=0.1, beta=0.2, distribution=HardConcrete())
    dist = config.distribution
    violations = constraint_violations(loc, config)
    torch.testing.assert_close(violations[0], dist.prob_nonzero(loc).mean(-1) - 0.1)
    torch.testing.assert_close(violations[1], dist.prob_open(loc).mean(-1) - 0.2)
    assert torch.equal(constraint_violations(loc, DiffMaskConfig())[1], torch.zeros(3))
    with pytest.raises(ValueError, match="alpha"):
        DiffMaskConfig(alpha=2.0)
    with pytest.raises(ValueError, match="mode"):
        DiffMaskConfig(mode="sometimes")


@pytest.mark.parametrize("estimator", ["hard_concrete", "reinforce"])
def test_training_loop_flips_decisions(estimator):
    model = small_model(3)
    task = make_task(model)
    config = DiffMaskConfig(
        mode="every", alpha=1.0, steps=150, batch_size=16, eval_every=50, estimator=estimator
    )
    trained = train_masks(model, task, task, config, runs=2, progress=False)
    final = evaluate_masks(model, task, trained.masks(), trained.baseline, "every")
    assert torch.equal(final["accuracy"], trained.history["accuracy"][-1])
    assert trained.history["step"] == [0, 50, 100, 150]
    assert trained.losses.shape == (150, 2)
    assert all(p.requires_grad for p in model.parameters())
    if estimator == "hard_concrete":  # without a binding budget, the ratio alone flips all
        assert (final["accuracy"] >= 0.9).all()


def test_unit_sets_and_convergence():
    sets, values = all_unit_sets([0, 3, 5], 2, [-1.0, 1.0])
    assert sets.shape == (12, 2) and values.shape == (12, 2)
    masks, baselines = unit_set_masks(sets, values, 8)
    assert torch.equal(masks.sum(-1), torch.full((12,), 2.0))
    assert baselines[0, 0] == -1 and baselines[0, 3] == -1 and masks[0, 5] == 0
    history = {
        "accuracy": [torch.tensor([0.1, 0.5]), torch.tensor([0.9, 0.5]), torch.tensor([0.9, 0.8])],
        "units": [torch.tensor([9.0, 9.0]), torch.tensor([3.0, 9.0]), torch.tensor([3.0, 4.0])],
    }
    assert steps_to_converge(history).tolist() == [1, 2]


class RNNModel(nn.Module):
    """The layout of PyTorch's word_language_model (Gulordava et al.'s checkpoints)."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(5, 4)
        self.rnn = nn.LSTM(4, 3, 2)
        self.decoder = nn.Linear(3, 5)


@pytest.mark.parametrize("pickled_module", [False, True])
def test_word_language_model_loader_maps_the_weights(tmp_path, monkeypatch, pickled_module):
    words = ["the", "<unk>", "dog", "<eos>", "runs"]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    torch.manual_seed(0)
    original = RNNModel().eval()
    if pickled_module:  # saved as model.RNNModel, a class that is not importable on loading
        fake = types.ModuleType("model")
        fake.RNNModel = RNNModel
        monkeypatch.setattr(RNNModel, "__module__", "model")
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, "model", fake)
            torch.save(original, tmp_path / "state.pt")
    else:
        torch.save(original.state_dict(), tmp_path / "state.pt")
    model, v = load_word_language_model(tmp_path / "state.pt", tmp_path / "vocab.txt")
    assert v.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    sentence = ["<eos>", "the", "dog", "runs"]
    ids = torch.tensor([words.index(w) for w in sentence])
    with torch.no_grad():
        hidden, _ = original.rnn(original.encoder(ids)[:, None])
        expected = F.log_softmax(original.decoder(hidden[:, 0]), -1)
        ours = F.log_softmax(model(torch.tensor([v.encode(["<bos>", *sentence[1:]])])), -1)[0]
    for word in words:
        torch.testing.assert_close(
            ours[:, v.index[word]], expected[:, words.index(word)], atol=1e-5, rtol=0
        )
    with pytest.raises(ValueError, match="tokens"):
        (tmp_path / "short.txt").write_text("the\n<eos>\n")
        load_word_language_model(tmp_path / "state.pt", tmp_path / "short.txt")
