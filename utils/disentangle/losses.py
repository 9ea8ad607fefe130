"""The losses of Eq. 9 (Zhang, van de Meent & Wallace 2021): the triplet loss (Eq. 3-5), the
classification loss (Eq. 6-7), the mask-overlap loss (Eq. 8) and the reversed gradient of the
Adversarial baseline."""

from __future__ import annotations

import torch
from torch import nn

from utils.masks import FactorMasks

__all__ = [
    "classification_loss",
    "disentangled_triplet_loss",
    "overlap_loss",
    "reverse_gradient",
    "triplet_loss",
]


def triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 2.0,
    *,
    normalize: bool = False,
) -> torch.Tensor:
    """Eq. 3: ``mean max(||z0 - z+|| - ||z0 - z-|| + margin, 0)`` over the batch (Euclidean,
    not squared, margin 2 in the paper).

    With ``normalize`` the vectors are first scaled to unit length, so that distances lie in
    ``[0, 2]`` whatever the encoder's scale: with the paper's margin of 2 the hinge is then
    active on every triplet (the margin is relative to the largest possible distance), where
    raw distances of a few units can leave it inactive from the first step.
    """
    if not anchor.shape == positive.shape == negative.shape:
        raise ValueError(
            f"triplet shapes differ: {tuple(anchor.shape)}, {tuple(positive.shape)}, "
            f"{tuple(negative.shape)}"
        )
    if normalize:
        anchor, positive, negative = (
            nn.functional.normalize(v, dim=-1) for v in (anchor, positive, negative)
        )
    near = (anchor - positive).norm(dim=-1)
    far = (anchor - negative).norm(dim=-1)
    return torch.relu(near - far + margin).mean()


def disentangled_triplet_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, margin: float = 2.0, *, normalize: bool = False
) -> torch.Tensor:
    """Eq. 5: the mean of Eq. 3 (factor *a*: ``x1`` positive, ``x2`` negative) and Eq. 4
    (factor *b*: ``x2`` positive, ``x1`` negative). ``z_a``, ``z_b``: ``(3, B, H)``, the
    vectors of ``(x0, x1, x2)``."""
    if z_a.ndim != 3 or z_a.shape[0] != 3 or z_a.shape != z_b.shape:
        raise ValueError(
            f"z_a and z_b must both be (3, B, H), got {tuple(z_a.shape)} and {tuple(z_b.shape)}"
        )
    loss_a = triplet_loss(z_a[0], z_a[1], z_a[2], margin, normalize=normalize)
    loss_b = triplet_loss(z_b[0], z_b[2], z_b[1], margin, normalize=normalize)
    return 0.5 * (loss_a + loss_b)


def classification_loss(
    logits_a: torch.Tensor, y_a: torch.Tensor, logits_b: torch.Tensor, y_b: torch.Tensor
) -> torch.Tensor:
    """Eq. 6-7: the mean of the two heads' cross-entropies."""
    ce = nn.functional.cross_entropy
    return 0.5 * (ce(logits_a, y_a) + ce(logits_b, y_b))


def overlap_loss(masks: FactorMasks) -> torch.Tensor:
    """Eq. 8, differentiable and normalised: the fraction of entries kept by both factors,
    averaged over the masked layers.

    The paper counts ``1[M*a + M*b > 1]``, whose gradient is zero; on binary masks it equals
    the product ``M*a M*b``, whose straight-through gradient is ``M*b`` (resp. ``M*a``). The
    count is divided by each layer's number of entries so that the term is O(1) like the
    others (unnormalised it is ~10^6 per BERT layer).
    """
    if masks.n_factors < 2:
        raise ValueError("the overlap loss needs two mask sets")
    both: dict[int, torch.Tensor] = {}
    size: dict[int, int] = {}
    for name in masks.names:
        mask = masks.binary(name)
        layer = masks.layer_of(name)
        both[layer] = both.get(layer, 0.0) + (mask[0] * mask[1]).sum()
        size[layer] = size.get(layer, 0) + mask[0].numel()
    return torch.stack([both[layer] / size[layer] for layer in both]).mean()


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward, ``-scale`` times the gradient backward (Ganin & Lempitsky 2015)."""
    return _ReverseGradient.apply(x, scale)
