"""Binary masks over the linear maps of a frozen transformer, one mask set per factor.

After Zhang, van de Meent & Wallace, "Disentangling Representations of Text by Masking
Transformers" (ICLR 2021 submission; EMNLP 2021). Every masked linear map ``h' = h W + b`` of
the top layers gets one real-valued score tensor per factor; the forward pass binarises it at
a global threshold (Eq. 10) and uses either

* **weight masks** (Eq. 1): ``h' = h (W * M*) + b``, ``M*`` of the shape of ``W``; or
* **hidden-unit masks** (Eq. 2): ``h' = (h * M*) W + b``, ``M*`` of the shape of the input,

with the straight-through estimator backward (Eq. 11): the gradient with respect to the
binary mask is passed unchanged to the scores. Biases, LayerNorms and the embeddings are never
masked (footnote 1). Masks are installed with the context manager :func:`apply_masks`, which
swaps each target ``nn.Linear`` for a wrapper and restores it on exit: the encoder's own
parameters are never written to.

The masks act on the top layers only; the frozen bottom below them is run once and cached
(:mod:`utils.frozen_bottom`). How many top layers get masks is :func:`masked_layers` (the
paper's 9 of 12, scaled to the encoder's depth). Section 3.3's magnitude pruning is
:func:`magnitude_keep` plus :meth:`FactorMasks.start_from`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from torch import nn

#: The linear maps of a BERT layer that are masked (those of Zhao et al. 2020's code).
LINEARS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
KINDS = ("weights", "hidden")


class _ThresholdSTE(torch.autograd.Function):
    """Eq. 10 forward (``1[M >= tau]``), Eq. 11 backward (the identity)."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, threshold: float) -> torch.Tensor:
        return (scores >= threshold).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


def binarize(scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Binary mask ``M* = 1[M >= threshold]`` (Eq. 10) with a straight-through gradient (Eq. 11).

    The forward values are exactly 0.0 and 1.0; backward, ``dL/dM = dL/dM*`` (evaluated at the
    binary values, as Eq. 11 prescribes).
    """
    return _ThresholdSTE.apply(scores, threshold)


def masked_linear(
    x: torch.Tensor, linear: nn.Linear, mask: torch.Tensor, kind: str
) -> torch.Tensor:
    """``linear`` applied to ``x`` under a binary ``mask``: Eq. 1 (``kind="weights"``, mask of
    the weight's shape ``(out, in)``) or Eq. 2 (``kind="hidden"``, mask of shape ``(in,)``).
    The bias is never masked."""
    if kind == "weights":
        return nn.functional.linear(x, linear.weight * mask, linear.bias)
    if kind == "hidden":
        return nn.functional.linear(x * mask, linear.weight, linear.bias)
    raise ValueError(f"unknown mask kind {kind!r}: choose one of {KINDS}")


def _key(name: str) -> str:
    return name.replace(".", "-")


class FactorMasks(nn.Module):
    """Real-valued mask scores for the linear maps of some transformer layers, per factor.

    Parameters
    ----------
    layers
        The layers to mask (e.g. ``model.encoder.layer[-2:]``); names are relative to them,
        ``"0.attention.self.query"`` for the first one's query map.
    kind
        ``"weights"`` (Eq. 1) or ``"hidden"`` (Eq. 2).
    n_factors
        Mask sets, one per factor (2 in the paper; 1 for a plain pruning mask).
    init, threshold
        Every score starts at ``init``; the forward pass keeps entries ``>= threshold``.
        ``init > threshold`` starts from the dense model (Zhao et al.'s 2e-2 and 1e-2).
    linears
        Paths of the linear maps inside each layer.

    Attributes
    ----------
    scores
        ``ParameterDict``: for each masked map, a tensor ``(n_factors, out, in)`` (weights) or
        ``(n_factors, in)`` (hidden units).
    """

    def __init__(
        self,
        layers: Sequence[nn.Module],
        kind: str = "weights",
        *,
        n_factors: int = 2,
        init: float = 2e-2,
        threshold: float = 1e-2,
        linears: Sequence[str] = LINEARS,
    ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown mask kind {kind!r}: choose one of {KINDS}")
        if n_factors < 1:
            raise ValueError(f"n_factors must be at least 1, got {n_factors}")
        if len(layers) == 0:
            raise ValueError("no layers to mask")
        self.kind, self.n_factors, self.threshold = kind, n_factors, float(threshold)
        self.names: list[str] = []
        scores = {}
        for index, layer in enumerate(layers):
            for path in linears:
                linear = layer.get_submodule(path)
                if not isinstance(linear, nn.Linear):
                    raise ValueError(f"layer {index}: {path!r} is a {type(linear).__name__}")
                shape = linear.weight.shape if kind == "weights" else linear.weight.shape[1:]
                param = torch.full((n_factors, *shape), float(init), device=linear.weight.device)
                self.names.append(f"{index}.{path}")
                scores[_key(self.names[-1])] = nn.Parameter(param)
        self.scores = nn.ParameterDict(scores)

    def binary(self, name: str, factor: int | None = None) -> torch.Tensor:
        """Binary masks of one map (straight-through, Eq. 10-11): ``(n_factors, ...)``, or
        one factor's alone (which binarises, and back-propagates through, that factor's
        scores only)."""
        scores = self.scores[_key(name)]
        return binarize(scores if factor is None else scores[factor], self.threshold)

    def layer_of(self, name: str) -> int:
        """Index (among the masked layers) of the layer a map belongs to."""
        return int(name.split(".", 1)[0])

    def at_threshold(self, threshold: float) -> FactorMasks:
        """The same scores binarised at another threshold (a view: the scores are shared)."""
        view = copy.copy(self)
        view.threshold = float(threshold)
        return view

    @torch.no_grad()
    def keep_fraction(self, factor: int | None = None, by_layer: bool = False):
        """Fraction of entries kept, by factor (``None``: every factor, a list) or by layer."""
        factors = range(self.n_factors) if factor is None else [factor]
        kept = {f: {} for f in factors}
        for name in self.names:
            mask = self.binary(name)
            for f in factors:
                layer = self.layer_of(name)
                k, n = kept[f].get(layer, (0.0, 0))
                kept[f][layer] = (k + mask[f].sum().item(), n + mask[f].numel())
        out = []
        for f in factors:
            per_layer = {layer: k / n for layer, (k, n) in sorted(kept[f].items())}
            total = sum(k for k, _ in kept[f].values()) / sum(n for _, n in kept[f].values())
            out.append(per_layer if by_layer else total)
        return out[0] if factor is not None else out

    @torch.no_grad()
    def overlap_fraction(self) -> float:
        """Fraction of entries kept by both of the first two factors' masks (Eq. 8's count,
        normalised)."""
        if self.n_factors < 2:
            raise ValueError("overlap needs two factors")
        both = total = 0.0
        for name in self.names:
            mask = self.binary(name)
            both += (mask[0] * mask[1]).sum().item()
            total += mask[0].numel()
        return both / total

    @torch.no_grad()
    def start_from(
        self, keep: Mapping[str, torch.Tensor], *, freeze_pruned: bool = False
    ) -> FactorMasks:
        """Initialise every factor's scores to a subnetwork: ``2 * threshold`` where ``keep``
        is true, 0 elsewhere (Zhao et al.'s controlled initialisation; Section 3.3).

        With ``freeze_pruned``, the scores of pruned entries get no gradient (a hook zeroes
        it), so training can drop more weights but never revive a pruned one.
        """
        if self.kind != "weights":
            raise ValueError("start_from needs weight masks (pruning removes weights)")
        missing = set(self.names) - set(keep)
        if missing:
            raise ValueError(f"no keep pattern for {sorted(missing)[:3]}")
        for name in self.names:
            scores = self.scores[_key(name)]
            pattern = keep[name].to(scores.device, torch.bool)
            if pattern.shape != scores.shape[1:]:
                raise ValueError(
                    f"{name}: keep has shape {tuple(pattern.shape)}, mask {tuple(scores.shape[1:])}"
                )
            scores.copy_(torch.where(pattern, 2 * self.threshold, 0.0).expand_as(scores))
            if freeze_pruned:
                kept = pattern.to(scores.dtype)
                scores.register_hook(lambda grad, kept=kept: grad * kept)
        return self


class _MaskedLinear(nn.Module):
    """Stands in for an ``nn.Linear`` while :func:`apply_masks` is active."""

    def __init__(self, linear: nn.Linear, masks: FactorMasks, name: str, factor: int) -> None:
        super().__init__()
        self.linear = linear
        # a plain attribute, not a submodule: the masks are not part of the encoder
        self.__dict__["masks"] = masks
        self.name, self.factor = name, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = self.masks.binary(self.name, self.factor)
        return masked_linear(x, self.linear, mask, self.masks.kind)


@contextmanager
def apply_masks(layers: Sequence[nn.Module], masks: FactorMasks, factor: int) -> Iterator[None]:
    """Within the block, the masked maps of ``layers`` use ``masks``' binary masks of
    ``factor``. The original ``nn.Linear`` modules are put back on exit, even after an error.

    Examples
    --------
    >>> with apply_masks(top, masks, factor=0):  # doctest: +SKIP
    ...     z_a = mean_pool(run_layers(top, hidden, attention_mask), attention_mask)
    """
    if not 0 <= factor < masks.n_factors:
        raise ValueError(f"factor must be in 0..{masks.n_factors - 1}, got {factor}")
    layers = layers if isinstance(layers, nn.Module) else nn.ModuleList(layers)
    swapped = []
    try:
        for name in masks.names:
            parent_path, _, attr = name.rpartition(".")
            parent = layers.get_submodule(parent_path)
            original = getattr(parent, attr)
            if isinstance(original, _MaskedLinear):
                raise RuntimeError(f"{name} is already masked: apply_masks blocks cannot nest")
            setattr(parent, attr, _MaskedLinear(original, masks, name, factor))
            swapped.append((parent, attr, original))
        yield
    finally:
        for parent, attr, original in reversed(swapped):
            setattr(parent, attr, original)


@torch.no_grad()
def magnitude_keep(
    layers: Sequence[nn.Module], sparsity: float, linears: Sequence[str] = LINEARS
) -> dict[str, torch.Tensor]:
    """Magnitude pruning (Section 3.3): for each linear map, keep the ``1 - sparsity`` fraction
    of weights with the largest ``|W|`` (per matrix, so no map is removed entirely).

    Returns
    -------
    dict
        ``{"0.attention.self.query": bool tensor of the weight's shape, ...}``, named as in
        :class:`FactorMasks`.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    keep = {}
    for index, layer in enumerate(layers):
        for path in linears:
            magnitude = layer.get_submodule(path).weight.abs()
            n_pruned = int(round(sparsity * magnitude.numel()))
            pattern = torch.ones_like(magnitude, dtype=torch.bool)
            if n_pruned:
                smallest = torch.topk(magnitude.flatten(), n_pruned, largest=False).indices
                pattern.view(-1)[smallest] = False
            keep[f"{index}.{path}"] = pattern
    return keep


@torch.no_grad()
def flip_counts(masks: FactorMasks, keep: Mapping[str, torch.Tensor]) -> list[int]:
    """Per factor, how many entries of ``masks`` differ from the pruning pattern ``keep``
    (kept where ``keep`` prunes, or dropped where it keeps): what a refinement moved."""
    counts = [0] * masks.n_factors
    for name in masks.names:
        binary = masks.binary(name).detach().cpu().bool()
        for f in range(masks.n_factors):
            counts[f] += int((binary[f] != keep[name].cpu()).sum())
    return counts


def randomly_flipped_sparsity(keep: Mapping[str, torch.Tensor], n_flips: int, seed: int) -> float:
    """Sparsity of the pattern ``keep`` after ``n_flips`` uniformly random entries (over all
    its maps together) change state: the control of footnote 4's "refinement changes the
    sparsity only slightly". A flip is as likely to hit a pruned entry as its share ``s``, so
    the expected sparsity is ``s + n_flips / n (1 - 2 s)``; a refinement that moves as many
    entries, but with direction, can change the sparsity less.
    """
    flat = torch.cat([pattern.detach().cpu().reshape(-1).bool() for pattern in keep.values()])
    if not 0 <= n_flips <= flat.numel():
        raise ValueError(f"n_flips must be in 0..{flat.numel()}, got {n_flips}")
    generator = torch.Generator().manual_seed(seed)
    flipped = flat.clone()
    chosen = torch.randperm(flat.numel(), generator=generator)[:n_flips]
    flipped[chosen] = ~flipped[chosen]
    return 1.0 - flipped.float().mean().item()


# ---- how many top layers get masks -------------------------------------------------------

#: The paper masks the top 9 of BERT-base's 12 layers.
PAPER_MASKED, PAPER_LAYERS = 9, 12


def masked_layers(n_layers: int, n_masked: int | None = None) -> int:
    """How many top layers of an ``n_layers``-layer encoder get masks.

    ``n_masked=None`` takes the paper's share, 9 of 12, scaled to the depth: 9 for BERT-base,
    4 for the 6-layer MiniLM, 2 for a 2-layer model (rounded, at least 1, at most every
    layer). A given count must lie in ``1 .. n_layers`` (``n_layers``: every layer is masked,
    and the frozen bottom is the embeddings alone); the first masked layer is then
    ``n_layers - n_masked``.

    >>> masked_layers(12), masked_layers(6), masked_layers(2), masked_layers(6, 2)
    (9, 4, 2, 2)
    """
    if n_layers < 1:
        raise ValueError(f"the encoder has {n_layers} layers: nothing to mask")
    if n_masked is None:
        return min(n_layers, max(1, round(PAPER_MASKED * n_layers / PAPER_LAYERS)))
    if isinstance(n_masked, bool) or int(n_masked) != n_masked or not 1 <= n_masked <= n_layers:
        raise ValueError(
            f"N_MASKED = {n_masked!r}, but the encoder has {n_layers} layers: mask 1 to "
            f"{n_layers} top layers, or leave N_MASKED at None for the paper's "
            f"{PAPER_MASKED} of {PAPER_LAYERS} scaled to the depth "
            f"({masked_layers(n_layers)} here)"
        )
    return int(n_masked)
