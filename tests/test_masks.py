"""Masks over a frozen transformer: the straight-through binariser, Eq. 1-2, the context
manager and magnitude pruning, on the cached bottom / masked top split."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from utils.frozen_bottom import encode_bottom, encoder_layers, mean_pool, run_layers
from utils.masks import (
    LINEARS,
    FactorMasks,
    apply_masks,
    binarize,
    flip_counts,
    magnitude_keep,
    masked_layers,
    masked_linear,
    randomly_flipped_sparsity,
)

SENTENCES = [
    "The story of the haunted house was truly awful .".split(),
    "Honestly , the story of the young lawyer was amazing , and I saw it on Monday .".split(),
    "The film was long .".split(),
]


def naive_masked_forward(model, tokenizer, sentences, start, masks, factor):
    """The reference: a copy of the whole model whose top-layer weights (or input columns) are
    zeroed in place by the binary masks, run end to end by Hugging Face, mean-pooled."""
    clone = copy.deepcopy(model)
    top = encoder_layers(clone)[start:]
    with torch.no_grad():
        for name in masks.names:
            mask = (masks.scores[name.replace(".", "-")][factor] >= masks.threshold).float()
            linear = top.get_submodule(name)
            linear.weight.mul_(mask if masks.kind == "weights" else mask[None, :])
        enc = tokenizer(
            [list(s) for s in sentences],
            is_split_into_words=True,
            padding=True,
            return_tensors="pt",
        )
        out = clone(**enc).last_hidden_state
    return mean_pool(out, enc["attention_mask"])


def random_masks(layers, kind, seed=0, keep=0.7):
    masks = FactorMasks(layers, kind)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for scores in masks.scores.values():
            scores.copy_(torch.where(torch.rand(scores.shape, generator=gen) < keep, 0.02, 0.0))
    return masks


def test_binarize_is_exact_forward_and_identity_backward():
    scores = torch.tensor([-1.0, 0.0, 0.00999, 0.01, 0.5], requires_grad=True)
    mask = binarize(scores, 0.01)
    assert mask.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    upstream = torch.tensor([1.0, -2.0, 3.0, 4.0, -5.0])
    mask.backward(upstream)
    assert torch.equal(scores.grad, upstream)


@pytest.mark.parametrize("kind", ["weights", "hidden"])
def test_masked_linear_equals_masked_weight_and_passes_gradient_straight_through(kind):
    gen = torch.Generator().manual_seed(0)
    linear = nn.Linear(6, 4)
    x = torch.randn(5, 6, generator=gen)
    shape = (4, 6) if kind == "weights" else (6,)
    scores = torch.rand(shape, generator=gen).requires_grad_()
    mask = binarize(scores, 0.5)
    out = masked_linear(x, linear, mask, kind)
    effective = linear.weight * (mask if kind == "weights" else mask[None, :])
    assert torch.equal(
        out,
        nn.functional.linear(x, linear.weight * mask, linear.bias)
        if kind == "weights"
        else nn.functional.linear(x * mask, linear.weight, linear.bias),
    )
    torch.testing.assert_close(out, nn.functional.linear(x, effective, linear.bias))
    upstream = torch.randn(5, 4, generator=gen)
    out.backward(upstream)
    # Eq. 11: dL/dscores is dL/dM* evaluated at the binary mask
    grad_mask = (
        (upstream.T @ x) * linear.weight
        if kind == "weights"
        else ((upstream @ linear.weight) * x).sum(0)
    )
    torch.testing.assert_close(scores.grad, grad_mask)


def test_masked_linear_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown mask kind"):
        masked_linear(torch.ones(1, 2), nn.Linear(2, 2), torch.ones(2), "heads")


@pytest.mark.parametrize("kind", ["weights", "hidden"])
def test_one_factors_binary_mask_is_its_row_and_back_propagates_to_it_alone(kind):
    layers = nn.ModuleList([nn.ModuleDict({"dense": nn.Linear(6, 4)})])
    masks = FactorMasks(layers, kind, linears=("dense",))
    with torch.no_grad():
        masks.scores["0-dense"].uniform_(0.0, 0.02, generator=torch.Generator().manual_seed(0))
    for factor in (0, 1):
        assert torch.equal(masks.binary("0.dense", factor), masks.binary("0.dense")[factor])
    upstream = torch.randn(masks.scores["0-dense"].shape[1:])
    (masks.binary("0.dense", 1) * upstream).sum().backward()
    grad = masks.scores["0-dense"].grad
    assert torch.equal(grad[1], upstream) and not grad[0].any()


@pytest.mark.parametrize("kind", ["weights", "hidden"])
def test_masked_top_equals_naive_masked_model(minilm, kind):
    model, tokenizer = minilm
    start = 4
    layers = encoder_layers(model)[start:]
    masks = random_masks(layers, kind)
    bottom = encode_bottom(model, tokenizer, SENTENCES, start, batch_size=2, progress=False)
    hidden, attention = bottom.batch(range(len(SENTENCES)))
    for factor in (0, 1):
        with torch.no_grad(), apply_masks(layers, masks, factor):
            fast = mean_pool(run_layers(layers, hidden, attention), attention)
        slow = naive_masked_forward(model, tokenizer, SENTENCES, start, masks, factor)
        assert (fast - slow).abs().max() < 1e-5


def test_dense_masks_leave_the_output_unchanged(minilm):
    model, tokenizer = minilm
    layers = encoder_layers(model)[4:]
    masks = FactorMasks(layers, "weights")  # init 2e-2 >= threshold 1e-2: all kept
    hidden, attention = encode_bottom(model, tokenizer, SENTENCES, 4, progress=False).batch(
        range(3)
    )
    with torch.no_grad():
        plain = run_layers(layers, hidden, attention)
        with apply_masks(layers, masks, 1):
            masked = run_layers(layers, hidden, attention)
    assert torch.equal(plain, masked)


def test_training_masks_never_touches_the_encoder(minilm):
    model, tokenizer = copy.deepcopy(minilm[0]).requires_grad_(False), minilm[1]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layers = encoder_layers(model)[5:]
    masks = FactorMasks(layers, "weights")
    optimizer = torch.optim.Adam(masks.parameters(), lr=1e-2)
    hidden, attention = encode_bottom(model, tokenizer, SENTENCES, 5, progress=False).batch(
        range(3)
    )
    for _ in range(3):
        with apply_masks(layers, masks, 0):
            loss = run_layers(layers, hidden, attention).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())
    assert all(type(layers[0].get_submodule(p)) is nn.Linear for p in LINEARS)
    assert masks.keep_fraction(0) < 1.0  # the masks did move


def test_apply_masks_restores_the_modules_after_an_error():
    layers = nn.ModuleList([_TinyLayer()])
    masks = FactorMasks(layers, "hidden", linears=("dense",))
    original = layers[0].dense
    with pytest.raises(RuntimeError, match="boom"), apply_masks(layers, masks, 0):
        assert layers[0].dense is not original
        raise RuntimeError("boom")
    assert layers[0].dense is original
    with pytest.raises(ValueError, match="factor must be"), apply_masks(layers, masks, 2):
        pass
    with pytest.raises(RuntimeError, match="cannot nest"), apply_masks(layers, masks, 0):
        with apply_masks(layers, masks, 1):
            pass
    assert layers[0].dense is original


class _TinyLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(4, 4)


def test_factor_masks_checks_its_inputs():
    layers = nn.ModuleList([_TinyLayer()])
    with pytest.raises(ValueError, match="unknown mask kind"):
        FactorMasks(layers, "heads", linears=("dense",))
    with pytest.raises(ValueError, match="no layers"):
        FactorMasks([], "weights")
    masks = FactorMasks(layers, "weights", linears=("dense",))
    with pytest.raises(ValueError, match="no keep pattern"):
        masks.start_from({})


def test_keep_and_overlap_fractions_and_threshold_view():
    layers = nn.ModuleList([_TinyLayer(), _TinyLayer()])
    masks = FactorMasks(layers, "weights", linears=("dense",))
    with torch.no_grad():
        masks.scores["0-dense"][0].fill_(0.0)  # factor a drops layer 0 entirely
        masks.scores["1-dense"][1, :2].fill_(0.005)  # factor b drops half of layer 1
    assert masks.keep_fraction() == [0.5, 0.75]
    assert masks.keep_fraction(1, by_layer=True) == {0: 1.0, 1: 0.5}
    assert masks.overlap_fraction() == pytest.approx(0.25)
    lower = masks.at_threshold(0.001)
    assert lower.keep_fraction(1) == 1.0 and masks.keep_fraction(1) == 0.75
    assert lower.scores["0-dense"] is masks.scores["0-dense"]


@pytest.mark.parametrize("sparsity", [0.0, 0.2, 0.8, 0.95])
def test_magnitude_keep_prunes_the_smallest_weights(sparsity):
    torch.manual_seed(0)
    layers = nn.ModuleList([_TinyLayer() for _ in range(2)])
    keep = magnitude_keep(layers, sparsity, linears=("dense",))
    for index, layer in enumerate(layers):
        pattern = keep[f"{index}.dense"]
        magnitude = layer.dense.weight.abs()
        assert (~pattern).sum().item() == round(sparsity * 16)
        if 0 < sparsity:
            assert magnitude[pattern].min() >= magnitude[~pattern].max()
    masks = FactorMasks(layers, "weights", linears=("dense",)).start_from(keep)
    for name in masks.names:
        assert torch.equal(masks.binary(name)[0].bool(), keep[name])
        assert torch.equal(masks.binary(name)[1].bool(), keep[name])
    with pytest.raises(ValueError, match="sparsity"):
        magnitude_keep(layers, 1.0, linears=("dense",))


def test_frozen_pruned_entries_stay_pruned():
    torch.manual_seed(0)
    layers = nn.ModuleList([_TinyLayer()])
    keep = magnitude_keep(layers, 0.5, linears=("dense",))
    masks = FactorMasks(layers, "weights", linears=("dense",))
    masks.start_from(keep, freeze_pruned=True)
    optimizer = torch.optim.Adam(masks.parameters(), lr=0.05)
    for _ in range(5):  # random gradients on every entry
        mask = masks.binary("0.dense")
        (mask * torch.randn(mask.shape)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    scores = masks.scores["0-dense"].detach()
    assert (scores[:, ~keep["0.dense"]] == 0).all()
    assert (scores[:, keep["0.dense"]] != 2e-2).any()


def test_masked_layers_scales_the_papers_share_and_rejects_too_many():
    assert [masked_layers(n) for n in (1, 2, 6, 12, 24)] == [1, 2, 4, 9, 18]
    assert masked_layers(6, 3) == 3 and masked_layers(6, 6) == 6
    for bad in (0, 7, 9, -3, 2.5):
        with pytest.raises(ValueError, match="6 layers: mask 1 to 6"):
            masked_layers(6, bad)


def test_flip_counts_count_the_entries_that_left_the_pruning_pattern():
    layers = nn.ModuleList([nn.Module()])
    layers[0].dense = nn.Linear(4, 3)
    keep = {"0.dense": torch.tensor([[True, False, True, False]] * 3)}
    masks = FactorMasks(layers, "weights", init=2e-2, threshold=1e-2, linears=("dense",))
    masks.start_from(keep)
    assert flip_counts(masks, keep) == [0, 0]
    with torch.no_grad():
        masks.scores["0-dense"][0, 0, 1] = 1.0  # factor a revives one pruned entry
        masks.scores["0-dense"][1, :, 0] = 0.0  # factor b drops three kept ones
    assert flip_counts(masks, keep) == [1, 3]


def test_randomly_flipped_sparsity_matches_its_expectation_and_the_extremes():
    gen = torch.Generator().manual_seed(0)
    keep = {
        "a": torch.rand(200, 300, generator=gen) > 0.9,
        "b": torch.rand(500, generator=gen) > 0.9,
    }
    n = sum(k.numel() for k in keep.values())
    s = 1 - sum(int(k.sum()) for k in keep.values()) / n
    assert randomly_flipped_sparsity(keep, 0, seed=0) == pytest.approx(s)
    assert randomly_flipped_sparsity(keep, n, seed=0) == pytest.approx(1 - s)
    flips = n // 10
    assert randomly_flipped_sparsity(keep, flips, seed=1) == pytest.approx(
        s + flips / n * (1 - 2 * s), abs=3e-3
    )
    with pytest.raises(ValueError, match="n_flips"):
        randomly_flipped_sparsity(keep, n + 1, seed=0)
