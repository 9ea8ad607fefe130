"""DiffMask on a planted problem whose answer is known: the decision flips only when all
``K`` planted units are replaced, and no other unit affects anything."""

import pytest
import torch

from utils.diffmask import DiffMaskConfig, train_masks
from utils.intervention_tasks import InterventionTask
from utils.lstm import LSTMNetwork

HIDDEN, LAYERS, VOCAB = 8, 2, 6
UNITS = HIDDEN * LAYERS
PLANTED = [HIDDEN + 1, HIDDEN + 4, HIDDEN + 6]  # three layer-2 units
D, T = 4, 5  # the model's current choice d and the desired form t


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one thread avoids the cost of contended thread pools."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def planted_model() -> LSTMNetwork:
    """An LSTM whose hidden units are all constant, tanh(0.5), whatever the input (zero
    input and recurrent weights, saturated gates, no memory), and whose decoder gives
    ``logit(d) - logit(t) = sum of the planted units' activations + bias``, with the bias
    chosen so that the decision flips only when all planted units are set to -1."""
    torch.manual_seed(0)
    model = LSTMNetwork(VOCAB, VOCAB, embedding_dim=3, hidden_dim=HIDDEN, n_layers=LAYERS)
    with torch.no_grad():
        for name, param in model.lstm.named_parameters():
            param.zero_()
            if name.startswith("bias_ih"):
                i, f, g, o = param.view(4, HIDDEN)
                i.fill_(20.0), f.fill_(-20.0), g.fill_(0.5493), o.fill_(20.0)  # h = tanh(0.5)
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
        h = torch.tanh(torch.tensor(0.5)).item()
        for unit in PLANTED:
            model.decoder.weight[D, unit - HIDDEN] = 1.0
        # replacing j planted units by -1 lowers the gap by j (1 + h): flip only at j = K
        gap = (len(PLANTED) - 0.5) * (1 + h)
        model.decoder.bias[D] = gap - len(PLANTED) * h
    return model.eval()


def planted_task(model: LSTMNetwork, n: int = 16) -> InterventionTask:
    tokens = torch.randint(1, VOCAB, (n, 6), generator=torch.Generator().manual_seed(0))
    return InterventionTask(
        tokens,
        torch.full((n,), 5),
        torch.full((n,), 2),
        torch.full((n,), D),
        torch.full((n,), T),
    )


def train(alpha: float, steps: int = 200, runs: int = 3, **settings) -> tuple:
    model = planted_model()
    task = planted_task(model)
    config = DiffMaskConfig(
        mode="every",
        alpha=alpha,
        kl_weight=0.0,
        steps=200,
        batch_size=8,
        eval_every=50,
        **settings,
    )
    return train_masks(model, task, task, config, runs=runs, seed=0, progress=False), config


def test_planted_problem_original_decision_needs_all_units():
    model = planted_model()
    task = planted_task(model)
    logits = model(task.tokens)[:, 5]
    assert (logits[:, D] > logits[:, T]).all()


def test_trained_mask_finds_exactly_the_planted_units():
    result, _ = train(alpha=0.25)  # a budget of 4 units, 3 needed
    masks = result.masks()
    expected = torch.zeros(UNITS)
    expected[PLANTED] = 1.0
    assert torch.equal(masks, expected.expand_as(masks)), masks
    assert (result.history["accuracy"][-1] == 1.0).all()
    assert (result.baseline[:, PLANTED] < -0.5).all()  # pushed towards -1


def test_trained_mask_respects_a_budget_that_binds():
    result, config = train(alpha=1 / UNITS)  # one unit allowed, three needed
    expected_units = result.history["expected_units"][-1]
    assert (expected_units <= config.alpha * UNITS + 0.5).all(), expected_units
    assert (result.masks().sum(1) <= 1).all()


def test_reinforce_with_one_sample_per_example_runs():
    result, _ = train(alpha=0.25, steps=20, estimator="reinforce", shared_sample=False)
    assert result.loc.shape == (3, UNITS) and torch.isfinite(result.loc).all()
    result, _ = train(alpha=0.25, steps=20, estimator="reinforce", shared_sample=True)
    assert torch.isfinite(result.loc).all()


def test_word_language_model_checkpoint_in_gulordava_layout(tmp_path):
    """The real-format fixture (a pickled ``model.RNNModel`` and its vocabulary file) loads,
    covers the chapter's words, and gives the checkpoint's own next-word distributions."""
    from tests.tiny_models import build_word_language_model
    from utils.lstm import BOS, EOS
    from utils.word_language_model import _word_language_model_state, load_word_language_model

    checkpoint, vocabulary = build_word_language_model(tmp_path, hidden=8)
    model, vocab = load_word_language_model(checkpoint, vocabulary)
    lines = vocabulary.read_text(encoding="utf-8").splitlines()
    assert EOS in lines and {"The", "the", "he", "she"} <= set(vocab.index)
    assert len(vocab) == len(lines) + 2  # <pad> and <bos> added
    assert model.n_layers == 2 and model.hidden_dim == 8
    state = _word_language_model_state(checkpoint)
    sentence = ["The", "nurse", "said", "that"]
    source = torch.tensor([lines.index(w) for w in [EOS, *sentence]])
    with torch.no_grad():
        lstm = torch.nn.LSTM(8, 8, 2)
        lstm.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("rnn.")})
        hidden, _ = lstm(state["encoder.weight"][source][:, None])
        expected = torch.log_softmax(
            hidden[:, 0] @ state["decoder.weight"].T + state["decoder.bias"], -1
        )
        ours = torch.log_softmax(model(torch.tensor([vocab.encode([BOS, *sentence])])), -1)[0]
    for word in ("the", "he", "she", EOS, "<unk>"):
        torch.testing.assert_close(
            ours[:, vocab.index[word]], expected[:, lines.index(word)], atol=1e-5, rtol=0
        )
    assert (ours[:, vocab.index[BOS]] < -1e3).all()  # never predicted
    assert vocab.encode(["zyzzyva"]) == [vocab.index["<unk>"]]


def test_word_language_model_rejects_a_vocabulary_of_another_checkpoint(tmp_path):
    from tests.tiny_models import build_word_language_model
    from utils.word_language_model import load_word_language_model

    checkpoint, vocabulary = build_word_language_model(tmp_path / "big", hidden=4)
    _, other = build_word_language_model(tmp_path / "small", ["the", "dog"], hidden=4)
    with pytest.raises(ValueError, match="4 tokens but the checkpoint") as error:
        load_word_language_model(checkpoint, other)
    assert str(other) in str(error.value) and str(checkpoint) in str(error.value)
    twice = tmp_path / "twice.txt"
    twice.write_text(vocabulary.read_text(encoding="utf-8") + "the\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"twice.txt, line \d+: 'the' is listed twice"):
        load_word_language_model(checkpoint, twice)


@pytest.mark.parametrize("estimator", ["hard_concrete", "reinforce"])
def test_a_step_cut_into_chunks_makes_the_same_update(estimator):
    """With a chunk budget of one row, each step's objective is computed sequence by sequence
    and its gradient accumulated: the same training, to float precision."""
    model = planted_model()
    task = planted_task(model)
    settings = dict(mode="single", kl_weight=0.5, steps=6, batch_size=8, eval_every=3,
                    estimator=estimator)  # fmt: skip
    whole = train_masks(model, task, task, DiffMaskConfig(**settings), runs=2, progress=False)
    config = DiffMaskConfig(**settings, chunk_bytes=1)
    chunked = train_masks(model, task, task, config, runs=2, progress=False)
    torch.testing.assert_close(chunked.loc, whole.loc, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(chunked.baseline, whole.baseline, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(chunked.losses, whole.losses, atol=1e-5, rtol=1e-5)


def test_evaluation_cut_into_chunks_gives_the_same_scores():
    from utils.intervention_tasks import original_log_probs
    from utils.mask_evaluation import evaluate_masks, kl_before_target

    model = planted_model()
    task = planted_task(model)
    gen = torch.Generator().manual_seed(1)
    masks = (torch.rand(5, UNITS, generator=gen) > 0.6).float()
    baselines = torch.rand(5, UNITS, generator=gen) * 2 - 1
    whole = evaluate_masks(model, task, masks, baselines, "every")
    for chunk_bytes in (1, 20_000):  # one row at a time; a few examples at a time
        chunked = evaluate_masks(model, task, masks, baselines, "every", chunk_bytes=chunk_bytes)
        for name in ("accuracy", "log_ratio", "kl", "kl_all"):
            torch.testing.assert_close(chunked[name], whole[name], atol=1e-6, rtol=1e-5)
    from utils.intervention_tasks import intervene_on_task

    logits = intervene_on_task(model, task, masks, baselines, "every")
    expected = kl_before_target(logits, task, original_log_probs(model, task)).mean(-1)
    torch.testing.assert_close(whole["kl"], expected)
    zero = evaluate_masks(model, task, torch.zeros(1, UNITS), torch.ones(1, UNITS), "every")
    assert zero["kl_all"].abs().max() < 1e-6 and zero["accuracy"].item() == 0.0


def test_memory_estimate_at_the_papers_sizes_fits_a_24_gb_gpu():
    """Gulordava et al.'s 2 x 650 LSTM with a 50,001-word vocabulary, five of them on the
    device (the robustness section), every direction's prefixes (12,000 agreement items and
    2,873 gender examples, up to 16 steps), Table 3's 25 runs x batch 128 in one step, and
    the chunks of the full scale (CHUNK_GIB = 8)."""
    from utils.intervention_tasks import memory_estimate

    vocab, hidden = 50_001, 650
    parameters = 2 * vocab * hidden + vocab + 2 * 4 * hidden * (2 * hidden + 2)
    parts = memory_estimate(n_items=5 * 2 * (12_000 + 2_873), steps=16, vocab_size=vocab,
                            hidden=hidden, n_layers=2, n_parameters=5 * parameters,
                            rows=25 * 128, chunk_bytes=8 * 2**30)  # fmt: skip
    assert sum(parts.values()) < 0.6 * 24e9, parts


def test_sentence_task_kl_is_eq_10_over_every_prediction():
    """On whole sentences the KL of Eq. 10 averages every prediction up to ``<eos>``; a null
    mask gives 0; the naive per-sentence mean of the per-step KL agrees."""
    from utils.intervention_tasks import intervene_on_task, original_log_probs, sentence_task
    from utils.lstm import Vocabulary
    from utils.mask_evaluation import evaluate_masks, kl_per_step

    vocab = Vocabulary.build([["a", "b", "c"]])
    model = LSTMNetwork(len(vocab), len(vocab), embedding_dim=3, hidden_dim=HIDDEN,
                        n_layers=LAYERS)  # fmt: skip
    sentences = [["a", "b", "c"], ["c", "a"]]
    task = sentence_task(vocab, sentences, [1, 0])
    assert task.target_position.tolist() == [3, 2] and task.subject_position.tolist() == [2, 1]
    masks, baselines = torch.zeros(2, UNITS), torch.ones(2, UNITS)
    masks[1, :3] = 1.0
    scores = evaluate_masks(model, task, masks, baselines, "single")
    assert scores["kl_all"][0].abs() < 1e-6 and scores["kl_all"][1] > 0
    per_step = kl_per_step(
        intervene_on_task(model, task, masks[1:], baselines[1:], "single")[0],
        original_log_probs(model, task),
    )
    naive = torch.stack([per_step[i, : len(s) + 1].mean() for i, s in enumerate(sentences)])
    torch.testing.assert_close(scores["kl_all"][1], naive.mean())
    with pytest.raises(ValueError, match="as many subject positions"):
        sentence_task(vocab, sentences, [1])


def test_concat_tasks_and_steps_to_accuracy():
    from utils.diffmask import steps_to_accuracy
    from utils.intervention_tasks import concat_tasks

    task = planted_task(planted_model(), n=4)
    both = concat_tasks([task, task.subset([0, 1])])
    assert len(both) == 6 and torch.equal(both.tokens[4:], task.tokens[:2])
    wider = InterventionTask(torch.zeros(1, 9, dtype=torch.long), *(torch.zeros(1),) * 4)
    with pytest.raises(ValueError, match="one width"):
        concat_tasks([task, wider])
    accuracy = [torch.tensor([0.2, 0.9]), torch.tensor([0.8, 0.5]), torch.tensor([0.9, 0.95])]
    history = {"step": [0, 5, 10], "accuracy": accuracy}
    # run 0 reaches 0.8 at evaluation 1 and stays; run 1 dips below it and is back at 2
    assert steps_to_accuracy(history, torch.tensor([0.8, 0.8])).tolist() == [1, 2]
    assert steps_to_accuracy(history, torch.tensor([0.99, 0.99])).tolist() == [3, 3]


@pytest.mark.parametrize("mode", ["single", "every"])
def test_single_unit_scan_agrees_with_one_evaluation_per_unit(mode):
    from utils.exhaustive_search import single_unit_scan
    from utils.mask_evaluation import evaluate_masks

    model = planted_model()
    task = planted_task(model)
    scan = single_unit_scan(model, task, mode, values=(-1.0, 1.0))
    assert scan["accuracy"].shape == (UNITS, 2)
    for unit in (0, PLANTED[0]):
        mask, baseline = torch.zeros(1, UNITS), torch.zeros(1, UNITS)
        mask[0, unit], baseline[0, unit] = 1.0, -1.0
        alone = evaluate_masks(model, task, mask, baseline, mode, with_kl=False)
        torch.testing.assert_close(scan["log_ratio"][unit, 0], alone["log_ratio"][0])
    if mode == "single":  # the planted LSTM has no memory: the subject step cannot matter
        assert (scan["log_ratio"] == scan["log_ratio"][0, 0]).all()
        return
    # the planted units lower the decision's log-ratio, the others leave it alone
    assert set(scan["ranking"][: len(PLANTED)].tolist()) == set(PLANTED)
    assert (scan["best_value"][PLANTED] == -1.0).all()
