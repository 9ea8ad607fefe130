"""Exhaustive search over small unit sets: the ground truth DiffMask approximates.

De Cao et al. (2021), Sec. 1 and 5: an exhaustive search over subsets of ``k`` units is
``O(2^k)`` (the paper: more than ``10^12`` sets of up to 4 of 1,300 units). On a small LM
every single unit and every pair of the best ones can be tried, each set given as a mask
and baseline for :func:`utils.mask_evaluation.evaluate_masks`; :func:`single_unit_scan`
is the single-unit ablation scan of Lakretz et al. (2019), single-step or every-step.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch

from utils.intervention_tasks import CHUNK_BYTES, InterventionTask
from utils.lstm import LSTMNetwork
from utils.mask_evaluation import evaluate_masks


def unit_set_masks(
    unit_sets: torch.Tensor, values: torch.Tensor, n_units: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks and baselines ``(M, n_units)`` that set the units ``unit_sets`` ``(M, s)`` to
    ``values`` ``(M, s)`` and leave all others alone: the candidates of an exhaustive
    search, for :func:`evaluate_masks`."""
    if unit_sets.shape != values.shape:
        raise ValueError(f"unit_sets {tuple(unit_sets.shape)} and values differ in shape")
    masks = torch.zeros(unit_sets.shape[0], n_units, device=values.device)
    baselines = torch.zeros_like(masks)
    masks.scatter_(1, unit_sets, 1.0)
    baselines.scatter_(1, unit_sets, values)
    return masks, baselines


def all_unit_sets(units: Sequence[int], size: int, values: Sequence[float]):
    """Every set of ``size`` distinct units with every assignment of ``values``:
    ``(unit_sets, values)`` long and float tensors of shape ``(M, size)``."""
    combos = list(itertools.combinations(units, size))
    signs = list(itertools.product(values, repeat=size))
    sets = torch.tensor([c for c in combos for _ in signs], dtype=torch.long)
    assigned = torch.tensor([s for _ in combos for s in signs], dtype=torch.float)
    return sets.view(-1, size), assigned.view(-1, size)


def single_unit_scan(
    model: LSTMNetwork,
    task: InterventionTask,
    mode: str,
    values: Sequence[float] = (-1.0, 1.0),
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> dict[str, torch.Tensor]:
    """Every single unit set to each of ``values`` (``mode``: ``"single"`` at the subject,
    ``"every"`` at all steps, as Lakretz et al.'s ablations), scored on ``task``.

    Returns
    -------
    dict
        ``accuracy`` and ``log_ratio`` ``(k, len(values))`` (flip accuracy and mean log of
        Eq. 2 of each unit at each value), ``best_value`` ``(k,)`` (the value lowering the
        log-ratio most) and ``ranking`` ``(k,)`` (units by their best log-ratio, strongest
        first).
    """
    n_units = model.n_layers * model.hidden_dim
    device = task.tokens.device
    sets, assigned = all_unit_sets(range(n_units), 1, values)
    masks, baselines = unit_set_masks(sets.to(device), assigned.to(device), n_units)
    scores = evaluate_masks(model, task, masks, baselines, mode, with_kl=False,
                            chunk_bytes=chunk_bytes)  # fmt: skip
    log_ratio = scores["log_ratio"].view(n_units, len(values)).cpu()
    accuracy = scores["accuracy"].view(n_units, len(values)).cpu()
    best = torch.tensor(list(values), dtype=torch.float)[log_ratio.argmin(1)]
    return {
        "accuracy": accuracy,
        "log_ratio": log_ratio,
        "best_value": best,
        "ranking": log_ratio.min(1).values.argsort(),
    }
