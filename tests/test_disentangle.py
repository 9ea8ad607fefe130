"""The disentangling losses (Eq. 3-9), gradient reversal, the two-stream models, their
training and the evaluation helpers (utils/disentangle/, utils/leakage.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from utils.disentangle import (
    Disentangler,
    FinetunedStreams,
    MaskedStreams,
    TrainConfig,
    Untuned,
    classification_loss,
    disentangled_triplet_loss,
    embed,
    evaluate,
    fit_heads,
    group_accuracies,
    group_summary,
    overlap_loss,
    random_masks,
    reverse_gradient,
    shuffled_triplets,
    train_disentangler,
    triplet_loss,
)
from utils.frozen_bottom import encode_bottom, encoder_layers, mean_pool, run_layers
from utils.leakage import leakage
from utils.masks import FactorMasks, apply_masks, magnitude_keep


def naive_triplet_loss(anchor, positive, negative, margin):
    """Eq. 3 one triplet at a time."""
    total = 0.0
    for a, p, n in zip(anchor.tolist(), positive.tolist(), negative.tolist()):
        near = sum((x - y) ** 2 for x, y in zip(a, p)) ** 0.5
        far = sum((x - y) ** 2 for x, y in zip(a, n)) ** 0.5
        total += max(near - far + margin, 0.0)
    return total / len(anchor)


def test_triplet_loss_matches_the_loop():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(3, 7, 5, generator=gen)
    for margin in (0.0, 0.5, 2.0):
        assert triplet_loss(z[0], z[1], z[2], margin).item() == pytest.approx(
            naive_triplet_loss(z[0], z[1], z[2], margin), rel=1e-5
        )


def test_disentangled_triplet_loss_swaps_the_roles_for_factor_b():
    anchor = torch.zeros(1, 2)
    near, far = torch.tensor([[0.1, 0.0]]), torch.tensor([[5.0, 0.0]])
    # factor a: x1 close, x2 far -> no loss; factor b: x2 should be close -> large loss
    z_a = torch.stack([anchor, near, far])
    assert disentangled_triplet_loss(z_a, z_a, margin=2.0).item() == pytest.approx(
        0.5 * (0.0 + (5.0 - 0.1 + 2.0))
    )
    z_b = torch.stack([anchor, far, near])
    assert disentangled_triplet_loss(z_a, z_b, margin=2.0).item() == 0.0
    with pytest.raises(ValueError, match=r"\(3, B, H\)"):
        disentangled_triplet_loss(z_a[:2], z_b[:2])
    with pytest.raises(ValueError, match="shapes differ"):
        triplet_loss(anchor, near, torch.zeros(2, 2))


def test_classification_loss_is_the_mean_of_the_two_heads():
    gen = torch.Generator().manual_seed(1)
    la, lb = torch.randn(4, 2, generator=gen), torch.randn(4, 3, generator=gen)
    ya, yb = torch.tensor([0, 1, 1, 0]), torch.tensor([2, 0, 1, 1])
    expected = 0.5 * (nn.functional.cross_entropy(la, ya) + nn.functional.cross_entropy(lb, yb))
    assert torch.equal(classification_loss(la, ya, lb, yb), expected)


class _Layer(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.dense = nn.Linear(n, n)


def test_overlap_loss_counts_shared_entries_and_has_the_straight_through_gradient():
    layers = nn.ModuleList([_Layer(4), _Layer(2)])
    masks = FactorMasks(layers, "weights", linears=("dense",))
    gen = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for scores in masks.scores.values():
            scores.copy_(torch.rand(scores.shape, generator=gen) * 0.02)
    binary = {n: (masks.scores[n.replace(".", "-")] >= 0.01).float() for n in masks.names}
    # Eq. 8 with the indicator, per layer, normalised by the layer's entries
    count = [(binary[n][0] + binary[n][1] > 1).float().mean() for n in masks.names]
    loss = overlap_loss(masks)
    assert loss.item() == pytest.approx(float(sum(count) / 2))
    loss.backward()
    first = masks.scores["0-dense"].grad
    torch.testing.assert_close(first[0], binary["0.dense"][1] / 16 / 2)
    torch.testing.assert_close(first[1], binary["0.dense"][0] / 16 / 2)
    assert masks.overlap_fraction() == pytest.approx(
        float(sum((binary[n][0] * binary[n][1]).sum() for n in masks.names) / 20)
    )


def test_reverse_gradient():
    x = torch.randn(3, requires_grad=True)
    y = reverse_gradient(x, 0.5)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.equal(x.grad, torch.full((3,), -0.5))


def test_group_accuracies():
    pred = torch.tensor([0, 0, 1, 1, 0, 1])
    target = torch.tensor([0, 0, 1, 1, 1, 0])
    other = torch.tensor([0, 1, 0, 1, 0, 1])
    groups = group_accuracies(pred, target, other)
    assert groups == {(0, 0): 1.0, (0, 1): 0.5, (1, 0): 0.5, (1, 1): 1.0}


def test_leakage_finds_a_planted_factor_and_not_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    z_planted = rng.normal(size=(400, 8)) + 5.0 * y[:, None] * np.eye(8)[0]
    z_noise = rng.normal(size=(400, 8))
    for attacker in ("mlp", "mlp_std", "logreg"):
        assert leakage(z_planted, y, attacker=attacker) > 0.9
        assert leakage(z_noise, y, attacker=attacker) < 0.65
    with pytest.raises(ValueError, match="unknown attacker"):
        leakage(z_noise, y, attacker="svm")
    with pytest.raises(ValueError, match="NaN"):
        leakage(np.full((8, 2), np.nan), y[:8])


def test_standardised_attackers_do_not_see_the_scale():
    """A representation shrunk 100-fold leaks as much to the standardised attackers."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    z = rng.normal(size=(300, 16)) + 1.5 * y[:, None] * np.eye(16)[3]
    for attacker in ("mlp_std", "logreg"):
        assert leakage(0.01 * z, y, attacker=attacker) == pytest.approx(
            leakage(z, y, attacker=attacker), abs=0.02
        )


def test_normalised_triplet_loss_ignores_the_scale_and_keeps_the_hinge_active():
    gen = torch.Generator().manual_seed(2)
    z = torch.randn(3, 6, 4, generator=gen)
    scaled = triplet_loss(10 * z[0], 10 * z[1], 10 * z[2], 2.0, normalize=True)
    assert scaled.item() == pytest.approx(triplet_loss(*z, 2.0, normalize=True).item(), rel=1e-5)
    unit = torch.nn.functional.normalize(z, dim=-1)
    assert scaled.item() == pytest.approx(naive_triplet_loss(*unit, 2.0), rel=1e-5)
    # unit distances differ by at most 2, so with margin 2 no triplet is ever inactive
    anchor, positive, negative = z[0].clone().requires_grad_(True), z[1], z[2]
    triplet_loss(anchor, positive, negative, 2.0, normalize=True).backward()
    assert (anchor.grad.norm(dim=-1) > 0).all()


SENTENCES = [
    "The story of the haunted house was truly awful .".split(),
    "The story of the young lawyer was simply amazing .".split(),
    "The story of the evil ghost was simply amazing .".split(),
    "The story of the old farmer was really terrible .".split(),
]
# (x0, x1 same sentiment, x2 same genre) and labels: sentiment, genre
TRIPLETS = torch.tensor([[0, 3, 2], [1, 2, 3], [2, 1, 0], [3, 0, 1]])
LABELS = (torch.tensor([0, 1, 1, 0]), torch.tensor([1, 0, 1, 0]))


@pytest.fixture(scope="module")
def bottom(minilm):
    model, tokenizer = minilm
    return encode_bottom(model, tokenizer, SENTENCES, 5, progress=False)


def test_masked_training_moves_only_the_masks(minilm, bottom):
    model = copy.deepcopy(minilm[0])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layers = encoder_layers(model)[5:]
    net = Disentangler(MaskedStreams(layers, FactorMasks(layers, "weights")), 384, (2, 2))
    config = TrainConfig(steps=6, batch_size=2, lr=5e-3)
    history = train_disentangler(net, bottom, TRIPLETS, LABELS, config, progress=False)
    assert set(history) == {"loss", "triplet", "cls", "overlap", "keep_a", "keep_b"}
    assert len(history["loss"]) == 6
    assert history["keep_a"][-1] < 1.0 and history["overlap"][-1] < 1.0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    # the masks are the streams' only parameters: the encoder is not saved with them
    assert all(k.startswith("masks.") for k in net.streams.state_dict())
    z_a, z_b = embed(net, bottom)
    assert z_a.shape == z_b.shape == (4, 384) and not torch.equal(z_a, z_b)


def test_finetuned_streams_train_copies_and_respect_the_pruning(minilm, bottom):
    model, _ = minilm
    layers = encoder_layers(model)[5:]
    before = {k: v.clone() for k, v in layers.state_dict().items()}
    keep = magnitude_keep(layers, 0.8)
    net = Disentangler(FinetunedStreams(layers, keep), 384, (2, 2), adversary_width=8)
    config = TrainConfig(steps=3, batch_size=2, lr=1e-3, overlap=0.0, adversary=1.0)
    train_disentangler(net, bottom, TRIPLETS, LABELS, config, progress=False)
    assert all(torch.equal(before[k], v) for k, v in layers.state_dict().items())
    for layer_copy in net.streams.copies:
        trained = layer_copy[0].attention.self.query.weight
        original = layers[0].attention.self.query.weight
        pattern = keep["0.attention.self.query"]
        assert not torch.equal(trained[pattern], original[pattern])  # kept weights learnt
        assert torch.equal(trained[~pattern], original[~pattern])  # pruned ones got no update


def test_training_checks_its_inputs(minilm, bottom):
    model = copy.deepcopy(minilm[0])
    layers = encoder_layers(model)[5:]
    net = Disentangler(MaskedStreams(layers, FactorMasks(layers, "hidden")), 384, (2, 2))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        train_disentangler(net, bottom, TRIPLETS[:, :2], LABELS, progress=False)
    with pytest.raises(ValueError, match="indices must lie"):
        train_disentangler(net, bottom, TRIPLETS + 10, LABELS, progress=False)
    with pytest.raises(ValueError, match="labels exactly when"):
        train_disentangler(net, bottom, TRIPLETS, None, progress=False)
    finetuned = Disentangler(FinetunedStreams(layers), 384)
    with pytest.raises(ValueError, match="overlap term"):
        train_disentangler(
            finetuned, bottom, TRIPLETS, None, TrainConfig(overlap=1.0), progress=False
        )
    with pytest.raises(ValueError, match="adversaries need labels"):
        Disentangler(FinetunedStreams(layers), 384, adversary_width=4)


@pytest.mark.parametrize("streams", ["masked", "adversarial"])
def test_micro_batches_add_up_to_the_whole_batch(minilm, bottom, streams):
    layers = encoder_layers(copy.deepcopy(minilm[0]))[5:]
    config = TrainConfig(steps=2, batch_size=4, lr=1e-3, overlap=0.0 if streams != "masked"
                         else 1.0, adversary=1.0 if streams != "masked" else 0.0)  # fmt: skip
    trained = {}
    for micro in (None, 1, 3):
        torch.manual_seed(0)
        if streams == "masked":
            net = Disentangler(MaskedStreams(layers, FactorMasks(layers, "weights")), 384, (2, 2))
        else:
            net = Disentangler(FinetunedStreams(layers), 384, (2, 2), adversary_width=8)
        history = train_disentangler(
            net, bottom, TRIPLETS, LABELS, config, micro_batch=micro, progress=False
        )
        grads = {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
        trained[micro] = (history, net.state_dict(), grads)
    whole, whole_state, whole_grads = trained[None]
    assert whole_grads
    for micro in (1, 3):
        history, state, grads = trained[micro]
        for key in whole:
            np.testing.assert_allclose(history[key], whole[key], rtol=1e-5, atol=1e-6)
        assert set(grads) == set(whole_grads)
        for key, value in whole_grads.items():  # the last step's gradient
            scale = float(value.abs().max())
            torch.testing.assert_close(grads[key], value, rtol=1e-4, atol=max(1e-4 * scale, 1e-8))
        # the trained parameters agree to a thousandth of an Adam step on average (Adam turns
        # a gradient that is 0 but for rounding into a full step of either sign)
        # (the key bias, to which attention is invariant, is left out)
        noise = {k for k, g in whole_grads.items() if float(g.abs().max()) < 1e-6}
        for key, value in whole_state.items():
            if key not in noise:
                assert float((state[key] - value).abs().float().mean()) < 1e-6, key
    with pytest.raises(ValueError, match="micro_batch"):
        train_disentangler(net, bottom, TRIPLETS, LABELS, config, micro_batch=-1, progress=False)


def test_memory_estimate_at_the_papers_sizes_fits_a_24_gb_gpu():
    from utils.disentangle import memory_estimate

    # BERT-base, the paper's 9 masked layers, reviews up to 512 sub-tokens, 32 triplets per
    # step in pieces of 4, the 13 models the chapter holds at full scale (one replicate)
    bert = dict(hidden=768, intermediate=3072, heads=12, n_masked=9, n_params=109_482_240,
                max_tokens=512, batch_size=32, n_models_kept=13)  # fmt: skip
    total = sum(memory_estimate(**bert, micro_batch=4).values())
    assert 10 * 2**30 < total < 24e9
    whole = sum(memory_estimate(**bert).values())
    assert whole > 24e9, "the whole batch at once would not fit: the micro-batches are needed"


def test_untuned_is_the_mean_pooled_top_layer_for_both_factors(minilm, bottom):
    layers = encoder_layers(minilm[0])[5:]
    hidden, attention = bottom.batch(range(4), torch.device("cpu"))
    z_a, z_b = Untuned(layers)(hidden, attention)
    assert torch.equal(z_a, z_b)
    torch.testing.assert_close(z_a, mean_pool(run_layers(layers, hidden, attention), attention))
    keep = magnitude_keep(layers, 0.5)
    pruning = FactorMasks(layers, "weights", n_factors=1).start_from(keep)
    with apply_masks(layers, pruning, 0):
        expected = mean_pool(run_layers(layers, hidden, attention), attention)
    torch.testing.assert_close(Untuned(layers, pruning)(hidden, attention)[0], expected)


@pytest.mark.parametrize("kind", ["weights", "hidden"])
def test_random_masks_drop_as_many_entries_as_the_learned_ones(minilm, kind):
    layers = encoder_layers(minilm[0])[5:]
    learned = FactorMasks(layers, kind, init=2e-2, threshold=1e-2)
    with torch.no_grad():
        for scores in learned.scores.values():
            scores[0].fill_(0.0)  # factor a drops everything but the first entries
            scores[0][:2] = 1.0
            scores[1][: len(scores[1]) // 2] = 0.0  # factor b drops the first half
    control = random_masks(layers, learned, seed=0, init=2e-2)
    assert control.kind == kind
    for want, got in zip(learned.keep_fraction(), control.keep_fraction()):
        assert abs(want - got) < 0.02
    # the dropped entries are not the learned ones: factor b keeps about half of the first half
    first_half = [s[1][: len(s[1]) // 2] for s in control.scores.values()]
    kept = sum(int((h >= 1e-2).sum()) for h in first_half) / sum(h.numel() for h in first_half)
    assert 0.4 < kept < 0.6
    again = random_masks(layers, learned, seed=0, init=2e-2)
    assert all(torch.equal(a, b) for a, b in zip(control.scores.values(), again.scores.values()))


def test_shuffled_triplets_keep_anchors_and_roles_and_break_the_relation():
    triplets = torch.arange(300).view(100, 3)
    shuffled = shuffled_triplets(triplets, seed=0)
    assert torch.equal(shuffled[:, 0], triplets[:, 0]), "anchors stay"
    for column in (1, 2):  # the same sentences, in the same role, in another order
        assert torch.equal(shuffled[:, column].sort().values, triplets[:, column])
        assert (shuffled[:, column] != triplets[:, column]).float().mean() > 0.9
    assert torch.equal(shuffled, shuffled_triplets(triplets, seed=0))
    assert not torch.equal(shuffled, shuffled_triplets(triplets, seed=1))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        shuffled_triplets(torch.zeros(4, 2, dtype=torch.long), seed=0)


def test_group_summary_and_heads():
    target = torch.tensor([0, 0, 1, 1, 0, 1])
    other = torch.tensor([0, 1, 0, 1, 1, 0])
    predicted = torch.tensor([0, 1, 1, 0, 0, 1])
    summary = group_summary(predicted, target, other)
    # groups (target, other): (0,0) 1/1, (0,1) 1/2, (1,0) 2/2, (1,1) 0/1
    assert summary == {"worst": 0.0, "average": 0.625, "aligned": 0.75, "rare": 0.5}
    rng = np.random.default_rng(0)
    labels = [torch.as_tensor(rng.integers(0, 2, 60)) for _ in range(2)]
    z = [
        torch.as_tensor(np.c_[y.numpy() * 3.0, rng.normal(size=(60, 3))], dtype=torch.float32)
        for y in labels
    ]
    heads = fit_heads(z, labels)
    assert [h.score(x.numpy(), y.numpy()) for h, x, y in zip(heads, z, labels)] == [1.0, 1.0]
    assert fit_heads(z, labels, rows=slice(0, 20))[0].n_features_in_ == 4


def test_evaluate_scores_heads_groups_and_every_attacker(minilm, bottom, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    layers = encoder_layers(minilm[0])[5:]
    net = Untuned(layers)
    z = embed(net, bottom)
    labels = (LABELS[0][: len(z[0])], LABELS[1][: len(z[0])])
    heads = fit_heads(z, labels)
    numbers = evaluate(net, bottom, labels, ("a", "b"), heads=heads, seed=0)
    for f, factor in enumerate(("a", "b")):
        predicted = torch.as_tensor(heads[f].predict(z[f].numpy()))
        assert numbers[factor]["main"] == float((predicted == labels[f]).float().mean())
        for attacker in ("mlp", "mlp_std", "logreg"):
            assert numbers[factor][f"leak_{attacker}"] == leakage(
                z[f], labels[1 - f], attacker=attacker, seed=0
            )
        assert numbers[factor]["leak"] == max(
            numbers[factor]["leak_mlp_std"], numbers[factor]["leak_logreg"]
        )
        assert (
            numbers[factor]["worst"] == group_summary(predicted, labels[f], labels[1 - f])["worst"]
        )
