"""Where the two representations come from: the frozen top layers under two mask sets
(:class:`MaskedStreams`), two finetuned copies of them (:class:`FinetunedStreams`), or the
frozen encoder itself (:class:`Untuned`), and the model with its heads (:class:`Disentangler`).
All run on the cached output of the frozen bottom layers
(:class:`utils.frozen_bottom.BottomStates`)."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from utils.frozen_bottom import mean_pool, run_layers
from utils.masks import FactorMasks, apply_masks

__all__ = ["Disentangler", "FinetunedStreams", "MaskedStreams", "Untuned", "random_masks"]


class MaskedStreams(nn.Module):
    """``z^(a)``, ``z^(b)``: the frozen ``layers`` run under each factor's masks, mean-pooled.

    Only ``masks`` has parameters; ``layers`` is held as a plain attribute, frozen here
    (``requires_grad_(False)``: no gradient is computed for the encoder's weights) and never
    saved with the streams.
    """

    def __init__(self, layers: nn.ModuleList, masks: FactorMasks) -> None:
        super().__init__()
        self.__dict__["layers"] = layers.requires_grad_(False)
        self.masks = masks

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        out = []
        for factor in range(2):
            with apply_masks(self.layers, self.masks, factor):
                out.append(
                    mean_pool(run_layers(self.layers, hidden, attention_mask), attention_mask)
                )
        return out[0], out[1]


class FinetunedStreams(nn.Module):
    """``z^(a)``, ``z^(b)`` from two trainable copies of ``layers`` (one per factor).

    With ``keep`` (a magnitude-pruning pattern from :func:`utils.masks.magnitude_keep`) each
    copy runs under that fixed pattern: pruned weights get no gradient and stay pruned
    (*Pruned + Finetuned*).
    """

    def __init__(
        self, layers: nn.ModuleList, keep: Mapping[str, torch.Tensor] | None = None
    ) -> None:
        super().__init__()
        self.copies = nn.ModuleList([copy.deepcopy(layers) for _ in range(2)])
        for param in self.copies.parameters():
            param.requires_grad_(True)
        self.pruning = None
        if keep is not None:
            self.pruning = FactorMasks(layers, "weights", n_factors=1).start_from(keep)
            self.pruning.requires_grad_(False)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        out = []
        for layers in self.copies:
            if self.pruning is None:
                top = run_layers(layers, hidden, attention_mask)
            else:
                with apply_masks(layers, self.pruning, 0):
                    top = run_layers(layers, hidden, attention_mask)
            out.append(mean_pool(top, attention_mask))
        return out[0], out[1]


class Disentangler(nn.Module):
    """Two-stream encoder plus the linear heads ``C^(a)``, ``C^(b)`` of Eq. 6 and, optionally,
    adversaries that read the *other* factor through a reversed gradient.

    Parameters
    ----------
    streams
        A :class:`MaskedStreams` or :class:`FinetunedStreams`.
    hidden_size
        Size of ``z``.
    n_classes
        ``(classes of a, classes of b)``, or ``None`` when no labels exist (no heads).
    adversary_width
        Hidden units of each adversary MLP; 0 for none.
    """

    def __init__(
        self,
        streams: nn.Module,
        hidden_size: int,
        n_classes: tuple[int, int] | None = None,
        adversary_width: int = 0,
    ) -> None:
        super().__init__()
        self.streams = streams
        self.heads = None
        self.adversaries = None
        if n_classes is not None:
            self.heads = nn.ModuleList([nn.Linear(hidden_size, c) for c in n_classes])
            if adversary_width:
                # adversary 0 reads z^(a) and predicts b; adversary 1 reads z^(b), predicts a
                self.adversaries = nn.ModuleList(
                    nn.Sequential(
                        nn.Linear(hidden_size, adversary_width),
                        nn.ReLU(),
                        nn.Linear(adversary_width, c),
                    )
                    for c in reversed(n_classes)
                )
        elif adversary_width:
            raise ValueError("adversaries need labels: give n_classes")

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        return self.streams(hidden, attention_mask)

    @property
    def masks(self) -> FactorMasks | None:
        return getattr(self.streams, "masks", None)


class Untuned(nn.Module):
    """The frozen encoder's mean-pooled top layer: the same vector for both factors (the
    paper's *Untuned* baseline; with ``pruning``, fixed one-factor weight masks from
    :meth:`utils.masks.FactorMasks.start_from`, *Pruned + Untuned*)."""

    def __init__(self, layers: nn.ModuleList, pruning: FactorMasks | None = None) -> None:
        super().__init__()
        self.__dict__["layers"] = layers
        self.pruning = pruning
        self.anchor = nn.Parameter(torch.zeros(()), requires_grad=False)  # gives a device

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        if self.pruning is None:
            z = mean_pool(run_layers(self.layers, hidden, attention_mask), attention_mask)
        else:
            with apply_masks(self.layers, self.pruning, 0):
                z = mean_pool(run_layers(self.layers, hidden, attention_mask), attention_mask)
        return z, z


def random_masks(layers: nn.ModuleList, like: FactorMasks, seed: int, init: float) -> FactorMasks:
    """The random-mask control: masks of ``like``'s kind (weights, Eq. 1, or hidden units,
    Eq. 2) over ``layers`` that drop a uniformly random set of entries, as large a share per
    factor as ``like`` drops (scores ``init`` on kept entries, 0 on dropped ones, at
    ``like``'s threshold)."""
    control = FactorMasks(
        layers, like.kind, n_factors=like.n_factors, init=init, threshold=like.threshold
    )
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for scores in control.scores.values():
            for f, keep in enumerate(like.keep_fraction()):
                drop = torch.rand(scores[f].shape, generator=generator) >= keep
                scores[f][drop.to(scores.device)] = 0.0
    return control
