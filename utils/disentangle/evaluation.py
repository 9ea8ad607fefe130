"""Evaluation of a two-stream model on the uncorrelated test split (Table 2, Figure 2): the
factors' own heads (main task, per group) and the attackers on the other factor (leakage,
:mod:`utils.leakage`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from utils.cache import cached
from utils.frozen_bottom import BottomStates
from utils.leakage import ATTACKERS, leakage

from .trainer import embed

__all__ = ["LEAK_ATTACKERS", "evaluate", "fit_heads", "group_accuracies", "group_summary"]

LEAK_ATTACKERS = ("mlp_std", "logreg")  # the scale-invariant attackers the claims use


def group_accuracies(
    predicted: torch.Tensor, target: torch.Tensor, other: torch.Tensor
) -> dict[tuple[int, int], float]:
    """Accuracy in each ``(target class, other-factor class)`` group (Figure 2's groups)."""
    correct = (predicted == target).float()
    out = {}
    for t in target.unique().tolist():
        for o in other.unique().tolist():
            cell = (target == t) & (other == o)
            if cell.any():
                out[(t, o)] = correct[cell].mean().item()
    return out


def group_summary(
    predicted: torch.Tensor, target: torch.Tensor, other: torch.Tensor
) -> dict[str, float]:
    """Worst, average, aligned and rare-group accuracy (Figure 2). Classes are sorted
    (negative/positive, drama/horror), so the aligned groups, (positive, drama) and
    (negative, horror), are those whose two class indices differ."""
    groups = group_accuracies(predicted, target, other)
    aligned = [a for (t, o), a in groups.items() if t != o]
    rare = [a for (t, o), a in groups.items() if t == o]
    return {
        "worst": min(groups.values()),
        "average": float(np.mean(list(groups.values()))),
        "aligned": float(np.mean(aligned)),
        "rare": float(np.mean(rare)),
    }


def fit_heads(
    z_train: Sequence[torch.Tensor],
    labels: Sequence[torch.Tensor],
    rows: slice | np.ndarray | torch.Tensor = slice(None),
) -> list[LogisticRegression]:
    """Logistic-regression heads (the Untuned recipe), one per factor, on the training vectors
    ``(z_a, z_b)`` of a frozen model and the factors' class indices (``rows``: a subset)."""
    return [
        LogisticRegression(max_iter=2000).fit(z[rows].numpy(), y[rows].numpy())
        for z, y in zip(z_train, labels, strict=True)
    ]


def evaluate(
    net: nn.Module,
    bottom: BottomStates,
    labels: Sequence[torch.Tensor],
    factors: Sequence[str],
    *,
    heads: Sequence[LogisticRegression] | None = None,
    attackers: Sequence[str] = ATTACKERS,
    z: tuple[torch.Tensor, torch.Tensor] | None = None,
    seed: int = 0,
) -> dict:
    """Main-task, group and leakage numbers of both factors on a test split.

    Parameters
    ----------
    net
        The model; its own heads (``net.heads``) predict unless ``heads`` (fitted
        scikit-learn heads, :func:`fit_heads`) are given.
    bottom, labels, factors
        The test split's bottom-layer states, its two factors' class indices and names.
    attackers
        The leakage attackers (:func:`utils.leakage.leakage`); where both of
        :data:`LEAK_ATTACKERS` are among them, ``leak`` is the stronger of the two.
    z
        The test vectors, if already computed.
    seed
        The attackers' initialisation.

    Returns
    -------
    dict
        ``z`` and, per factor name, ``main``, the :func:`group_summary` numbers and
        ``leak_ATTACKER`` (and ``leak``), fractions in [0, 1]. The numbers are stored in the
        disk cache under the vectors, the predictions, the labels, the attackers and the seed.
    """
    z = embed(net, bottom) if z is None else z
    device = next(net.parameters()).device
    predictions = []
    for f in range(2):
        if heads is None:
            with torch.no_grad():
                predictions.append(net.heads[f](z[f].to(device)).argmax(1).cpu())
        else:
            predictions.append(torch.as_tensor(heads[f].predict(z[f].numpy())))

    def build():
        numbers = {}
        for f, factor in enumerate(factors):
            predicted = predictions[f]
            numbers[factor] = {
                "main": float((predicted == labels[f]).float().mean()),
                **group_summary(predicted, labels[f], labels[1 - f]),
                **{
                    f"leak_{a}": leakage(z[f], labels[1 - f], attacker=a, seed=seed)
                    for a in attackers
                },
            }
            if all(a in attackers for a in LEAK_ATTACKERS):
                numbers[factor]["leak"] = max(numbers[factor][f"leak_{a}"] for a in LEAK_ATTACKERS)
        return numbers

    key = {
        "z": list(z),
        "predicted": predictions,
        "labels": list(labels),
        "attackers": list(attackers),
        "seed": seed,
    }
    return {"z": z, **cached("masking-evaluations", key, build, description="evaluation")}
