"""Interventions on the hidden units of an LSTM, inside the time step (DiffMask, Eq. 1).

The units of all layers are concatenated: unit ``u`` of a network with ``H`` hidden units
per layer is unit ``u % H`` of layer ``u // H`` (layer 0 first, as the paper's 1,300 units
of a 2 x 650 LSTM). An intervention replaces the selected units of a hidden state by a
baseline vector,

    h_hat = (1 - m) * h + m * b                                              (Eq. 1)

with ``m`` a mask (1 = intervene; entries in ``[0, 1]`` while training with Hard Concrete
samples) and ``b`` the baseline. It is applied through
:meth:`utils.lstm.LSTMNetwork.unrolled`, right after a layer computes its hidden state, so
the layer above at the same step and the same layer at the next step see the edit; cell
states are left alone. *Single-step* interventions edit one step per example (the subject,
in the paper), *every-step* interventions edit all steps.
"""

from __future__ import annotations

import torch

from utils.lstm import LSTMNetwork


def replace_units(h: torch.Tensor, mask: torch.Tensor, baseline: torch.Tensor) -> torch.Tensor:
    """Eq. 1: ``(1 - mask) * h + mask * baseline`` (broadcasting). A zero mask returns ``h``
    exactly."""
    return (1 - mask) * h + mask * baseline


class UnitIntervention:
    """An ``edit(layer, t, h)`` for :meth:`LSTMNetwork.unrolled` applying Eq. 1.

    Parameters
    ----------
    mask
        ``(n_units,)`` shared by the batch, or ``(B, n_units)`` per row; ``n_units`` is
        ``n_layers * hidden_dim``.
    baseline
        ``(n_units,)`` or ``(B, n_units)``.
    hidden_dim
        Units per layer.
    positions
        ``(B,)`` step of each row for a single-step intervention; None: every step.
    """

    def __init__(
        self,
        mask: torch.Tensor,
        baseline: torch.Tensor,
        hidden_dim: int,
        positions: torch.Tensor | None = None,
    ) -> None:
        n_units = mask.shape[-1]
        if n_units % hidden_dim:
            raise ValueError(f"mask has {n_units} units, not a multiple of {hidden_dim} per layer")
        if baseline.shape[-1] != n_units:
            raise ValueError(f"baseline has {baseline.shape[-1]} units but the mask {n_units}")
        if positions is not None and positions.dim() != 1:
            raise ValueError(f"positions must be a (batch,) tensor, got {tuple(positions.shape)}")
        self.mask, self.baseline, self.hidden_dim = mask, baseline, hidden_dim
        self.positions = positions
        self.steps = None if positions is None else set(positions.tolist())

    def _layer(self, values: torch.Tensor, layer: int) -> torch.Tensor:
        return values[..., layer * self.hidden_dim : (layer + 1) * self.hidden_dim]

    def __call__(self, layer: int, t: int, h: torch.Tensor) -> torch.Tensor:
        if self.steps is not None and t not in self.steps:
            return h
        mask = self._layer(self.mask, layer)
        if self.positions is not None:
            mask = mask * (self.positions == t).to(mask.dtype)[:, None]
        return replace_units(h, mask, self._layer(self.baseline, layer))


def intervene(
    model: LSTMNetwork,
    tokens: torch.Tensor,
    mask: torch.Tensor,
    baseline: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``model`` on ``tokens`` ``(B, T)`` with Eq. 1 applied to its hidden units.

    Parameters are those of :class:`UnitIntervention`. Returns the logits ``(B, T, V)`` and
    the (edited) hidden states ``(B, T, n_layers * hidden_dim)``, units concatenated by layer.
    """
    n_units = model.n_layers * model.hidden_dim
    if mask.shape[-1] != n_units:
        raise ValueError(f"mask has {mask.shape[-1]} units but the model has {n_units}")
    edit = UnitIntervention(mask, baseline, model.hidden_dim, positions)
    logits, hidden, _ = model.unrolled(tokens, edit=edit)
    return logits, concatenate_layers(hidden)


def concatenate_layers(hidden: torch.Tensor) -> torch.Tensor:
    """``(L, B, T, H)`` hidden states -> ``(B, T, L * H)``, layer 0's units first."""
    n_layers, batch, steps, width = hidden.shape
    return hidden.permute(1, 2, 0, 3).reshape(batch, steps, n_layers * width)
