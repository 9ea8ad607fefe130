"""Putting neuron rankings side by side: overlaps against chance and a planted ground truth.

Every method of the book answers "which units carry property X?" with a ranking of the units
(a probe's weights, class means, a greedy search, a trained mask, an exhaustive causal scan).
This module holds what compares them, whatever produced them:

* :func:`top_k_overlap` and :func:`chance_overlap`, the shared top-``k`` units of two rankings
  and its expected value for two random rankings (Antverg and Belinkov 2022, Appendix A.3:
  ``E_2(d, k) = k^2 / d``);
* :func:`recall_at_k`, the share of a reference set (the planted units, the top of a causal
  scan) among a ranking's top ``k``;
* :func:`planted_activations`, activations with units of known roles: units a fixed readout
  uses, a redundant copy of one of them that the readout uses too, a unit that encodes the
  label as strongly but that the readout ignores (encoded, not used), and noise units of
  different scales; with :func:`readout_flip_rate`, the causal effect of mean-ablating units
  on that readout's decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


def chance_overlap(k: int, d: int) -> float:
    """``E_2 = k^2 / d``: the expected shared units of the top ``k`` of two random rankings of
    ``d`` units (hypergeometric mean; Antverg and Belinkov 2022, Appendix A.3)."""
    if not 0 <= k <= d:
        raise ValueError(f"need 0 <= k <= d, got k={k}, d={d}")
    return k * k / d


def top_k_overlap(first: torch.Tensor, second: torch.Tensor, k: int) -> int:
    """Units shared by the top ``k`` of two rankings (unit ids, best first)."""
    return len(set(first[:k].tolist()) & set(second[:k].tolist()))


def recall_at_k(ranking: torch.Tensor, reference: Sequence[int] | torch.Tensor, k: int) -> float:
    """Share of the ``reference`` units found among the top ``k`` of ``ranking``."""
    reference = set(torch.as_tensor(reference).tolist())
    if not reference:
        raise ValueError("recall_at_k needs at least one reference unit")
    return len(reference & set(ranking[:k].tolist())) / len(reference)


@dataclass
class PlantedActivations:
    """Activations with planted roles (:func:`planted_activations`).

    Attributes
    ----------
    x, y
        ``(N, d)`` activations and ``(N,)`` binary labels.
    weight, bias
        The readout that *uses* some units: its decision is ``x @ weight + bias > 0``.
    used
        Units the readout reads, the strongest first (the first shares its weight with
        ``copy``).
    copy
        A redundant copy of ``used[0]`` (near-identical values), read with the same weight.
    unused
        A unit that encodes the label as strongly as the used ones but is not read.
    """

    x: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor
    bias: float
    used: list[int]
    copy: int
    unused: int

    @property
    def encoded(self) -> list[int]:
        """Every unit that carries the label: the used ones, the copy and the unused one."""
        return [*self.used, self.copy, self.unused]

    @property
    def causal(self) -> list[int]:
        """Every unit the readout reads: the used ones and the copy."""
        return [*self.used, self.copy]


def planted_activations(
    n: int,
    d: int,
    *,
    n_used: int = 4,
    strengths: tuple[float, float] = (0.6, 1.2),
    copy_noise: float = 0.1,
    seed: int = 0,
) -> PlantedActivations:
    """``n`` examples of ``d`` units with known roles, the label ``y`` balanced.

    With ``s = 2 y - 1`` and ``eps`` standard normal noise, unit values are

    * used unit ``i``: ``a_i s + eps``, strengths ``a_i`` evenly from ``strengths[1]`` down to
      ``strengths[0]``;
    * the copy: ``x[used[0]] + copy_noise * eps``;
    * the unused unit: ``a s + eps`` with ``a`` the mean strength;
    * every other unit: ``sigma_j eps``, scales ``sigma_j`` log-uniform in ``[0.5, 2]`` (a unit's
      scale alone says nothing about the label).

    The readout's weight is ``a_i`` on used unit ``i`` (its log-odds slope), split in half
    between ``used[0]`` and its copy; the roles sit at random positions.
    """
    if d < n_used + 2 or n_used < 1:
        raise ValueError(f"need at least one used unit and d >= n_used + 2, got {n_used}, {d}")
    generator = torch.Generator().manual_seed(seed)
    y = torch.randperm(n, generator=generator) % 2
    sign = (2 * y - 1).float()[:, None]
    scales = 0.5 * 4 ** torch.rand(d, generator=generator)  # log-uniform in [0.5, 2]
    x = torch.randn(n, d, generator=generator) * scales
    roles = torch.randperm(d, generator=generator)[: n_used + 2].tolist()
    used, copy, unused = roles[:n_used], roles[n_used], roles[n_used + 1]
    strength = torch.linspace(strengths[1], strengths[0], n_used)
    x[:, used] = strength * sign + torch.randn(n, n_used, generator=generator)
    x[:, copy] = x[:, used[0]] + copy_noise * torch.randn(n, generator=generator)
    x[:, unused] = strength.mean() * sign[:, 0] + torch.randn(n, generator=generator)
    weight = torch.zeros(d)
    weight[used] = strength
    weight[[used[0], copy]] = strength[0] / 2
    return PlantedActivations(x, y, weight, 0.0, used, copy, unused)


def readout_flip_rate(
    planted: PlantedActivations, unit_sets: Sequence[Sequence[int]]
) -> torch.Tensor:
    """For each set of units: the share of examples whose readout decision changes when the
    set is mean-ablated (its values replaced by their mean over the examples), ``(S,)``."""
    x, means = planted.x, planted.x.mean(0)
    decision = x @ planted.weight + planted.bias > 0
    rates = []
    for units in unit_sets:
        ablated = x.clone()
        ablated[:, list(units)] = means[list(units)]
        rates.append(((ablated @ planted.weight + planted.bias > 0) != decision).float().mean())
    return torch.stack(rates)
