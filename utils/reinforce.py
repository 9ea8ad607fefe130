"""REINFORCE for sparse interventions: a Bernoulli mask and the score-function gradient.

De Cao et al. (2021), Sec. 5 "Efficiency" and Table 3: the alternative to DiffMask's
Hard Concrete treats each mask entry as ``m_i ~ Bernoulli(sigmoid(loc_i))`` and follows the
score-function estimator (Williams, 1992),

    grad_loc E_m[L(m)] = E_m[(L(m) - c) grad_loc log p(m)],

with ``c`` a moving-average control variate of the loss. The L0 constraint is exact,
``E[C_0] = sum_i sigmoid(loc_i)``. :func:`utils.diffmask.train_masks` runs it with
``estimator="reinforce"`` in the same loop as DiffMask, at the same budgets.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def sample_bernoulli(loc: torch.Tensor, samples: int, generator: torch.Generator) -> torch.Tensor:
    """``samples`` Bernoulli(sigmoid(loc)) masks per run, ``(R, samples, k)`` (no gradient:
    REINFORCE differentiates :func:`score_function_surrogate` instead)."""
    runs, units = loc.shape
    probs = torch.sigmoid(loc.detach())[:, None].expand(runs, samples, units)
    return torch.bernoulli(probs, generator=generator)


def bernoulli_l0(loc: torch.Tensor) -> torch.Tensor:
    """``E[C_0] / k = mean_i sigmoid(loc_i)`` per run, ``(R,)``: the exact expected share
    of the units a Bernoulli mask intervenes on (Eqs. 3, 5)."""
    return torch.sigmoid(loc).mean(-1)


def score_function_surrogate(
    cost: torch.Tensor, control: torch.Tensor, mask: torch.Tensor, loc: torch.Tensor
) -> torch.Tensor:
    """A term whose gradient in ``loc`` is ``mean((cost - control) grad log p(mask))``.

    ``cost`` is ``(R, S)`` (detached) for the ``S`` mask samples ``(R, S, k)`` of each run,
    ``control`` the ``(R,)`` moving-average control variate (Williams, 1992)."""
    log_prob = -F.binary_cross_entropy_with_logits(
        loc[:, None].expand_as(mask), mask, reduction="none"
    ).sum(-1)
    return ((cost - control[:, None]) * log_prob).mean(-1)


def update_control(control: torch.Tensor | None, cost: torch.Tensor, decay: float) -> torch.Tensor:
    """The moving average ``decay * c + (1 - decay) * mean(cost)`` per run, ``(R,)``,
    started at the first step's mean cost (``control`` None)."""
    mean = cost.mean(-1)
    return mean if control is None else decay * control + (1 - decay) * mean
