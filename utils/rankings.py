"""Neuron rankings: from probe weights (Linguistic Correlation Analysis) and without a probe.

Durrani, Dalvi and Sajjad, "Discovering Salient Neurons in Deep NLP Models" rank the ``D``
neurons of a representation by the weights ``W`` ``(D, C)`` of an elastic-net probe:

* per tag ``t`` (GETTOPNEURONSPERTAG), the smallest set of neurons whose ``|W[:, t]|``,
  taken largest first, reaches a fraction ``p`` of the tag's total weight mass;
* globally (Algorithm 3, GETNEURONRANKING), the order in which neurons join the union of
  those per-tag sets as ``p`` grows from 0 to 1;
* the minimal neuron set (Algorithm 4, GETMINIMUMNEURONS): the smallest top-``N`` of that
  order, grown in steps of 1 % of ``D``, whose retrained probe comes within ``delta`` of the
  probe on all neurons.

Baselines: weight magnitude, random and bottom neurons, and Probeless (Antverg and
Belinkov 2022), which ranks neurons by how far apart the class means are, with no probe.
Neuron ``g`` of a layer-concatenated representation is unit ``g % H`` of layer ``g // H``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

SELECTIONS = ("top", "bottom", "random")


def _check_weight(weight: torch.Tensor) -> torch.Tensor:
    if weight.ndim != 2 or weight.shape[0] == 0 or weight.shape[1] == 0:
        raise ValueError(f"weight must be (n_neurons, n_classes), got shape {tuple(weight.shape)}")
    if not torch.isfinite(weight).all():
        raise ValueError("weight contains NaN or infinite values")
    return weight.detach().abs().float()


def mass_cutoffs(weight: torch.Tensor, fractions: torch.Tensor) -> torch.Tensor:
    """How many neurons each tag needs to reach each fraction of its weight mass.

    ``k_t(p) = min {k : sum_{j <= k} |W|_{(j), t} >= p * sum_j |W_{j, t}|}`` with the
    neurons of tag ``t`` sorted by decreasing ``|W[:, t]|``; at ``p = 0`` every tag keeps its
    single top neuron (as NeuroX does).

    Parameters
    ----------
    weight
        ``(D, C)`` probe weights.
    fractions
        ``(S,)`` weight-mass fractions ``p`` in ``[0, 1]``.

    Returns
    -------
    torch.Tensor
        ``(S, C)`` int64 counts ``k_t(p)``, between 1 and ``D``.
    """
    magnitude = _check_weight(weight)
    fractions = torch.as_tensor(fractions, dtype=torch.float32).reshape(-1)
    if ((fractions < 0) | (fractions > 1)).any():
        raise ValueError("weight-mass fractions must lie in [0, 1]")
    cumulative = magnitude.double().sort(0, descending=True).values.cumsum(0)  # (D, C)
    total = cumulative[-1]
    # the prefix sums rise with k: how many lie below each target, by binary search (no
    # (S, D, C) comparison)
    targets = fractions.double()[None, :] * total[:, None]  # (C, S)
    below = torch.searchsorted(cumulative.T.contiguous(), targets.contiguous())  # (C, S)
    return (below.T + 1).clamp(max=magnitude.shape[0])


def top_neurons_per_tag(weight: torch.Tensor, fraction: float) -> list[torch.Tensor]:
    """GETTOPNEURONSPERTAG: for each tag, its neurons that reach ``fraction`` of its mass.

    Returns one int64 tensor of neuron indices per tag, largest ``|W|`` first.
    """
    counts = mass_cutoffs(weight, torch.tensor([fraction]))[0]
    order = _check_weight(weight).argsort(0, descending=True)
    return [order[: int(k), t] for t, k in enumerate(counts)]


def union_fraction(weight: torch.Tensor, n_neurons: int, steps: int = 100) -> float:
    """The first weight-mass fraction of Algorithm 3's steps at which the tags' salient sets
    (:func:`top_neurons_per_tag`) together hold at least ``n_neurons`` neurons: the per-tag
    view of the top ``n_neurons`` of :func:`neuron_ordering` (a minimal set, Fig. 7)."""
    if not 0 < n_neurons <= weight.shape[0]:
        raise ValueError(f"n_neurons must be in [1, {weight.shape[0]}], got {n_neurons}")
    _, cutoffs = neuron_ordering(weight, steps)
    return int((cutoffs >= n_neurons).nonzero()[0, 0]) / steps


def neuron_ordering(weight: torch.Tensor, steps: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 3 (GETNEURONRANKING): neurons in the order they become salient for some tag.

    For ``p = 0, 1/steps, ..., 1`` the union over tags of :func:`top_neurons_per_tag` grows;
    each neuron is placed at the step where it first enters (the paper's union over
    ``L`` is a union over tags). Within one step, where NeuroX leaves the set order
    arbitrary, neurons are ordered by their largest share of a tag's weight mass; so are
    the neurons that never enter (those past every tag's full mass in floating point, or
    with zero weight), which come last.

    Parameters
    ----------
    weight
        ``(D, C)`` probe weights.
    steps
        Number of increments of the weight-mass fraction (NeuroX's ``search_stride``).

    Returns
    -------
    ordering
        ``(D,)`` int64 permutation of the neurons, most salient first.
    cutoffs
        ``(steps + 1,)`` length of the ordering after each step.
    """
    if steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    magnitude = _check_weight(weight)
    n_neurons, n_classes = magnitude.shape
    fractions = torch.arange(steps + 1, dtype=torch.float32) / steps
    counts = mass_cutoffs(magnitude, fractions)  # (S, C), non-decreasing in S
    rank_order = magnitude.argsort(0, descending=True)  # (D, C): neuron at each rank
    ranks = torch.arange(n_neurons)
    # the step at which rank r of tag t enters: the number of steps whose cutoff is <= r
    # (the cutoffs rise with the step: a binary search, no (S, D, C) comparison)
    entry_by_rank = torch.searchsorted(
        counts.T.contiguous(), ranks.expand(n_classes, -1).contiguous(), right=True
    ).T  # (D, C)
    entry = torch.full((n_neurons, n_classes), steps + 1, dtype=torch.long)
    entry.scatter_(0, rank_order, entry_by_rank)
    first_step = entry.min(1).values
    share = magnitude / magnitude.sum(0).clamp_min(torch.finfo(magnitude.dtype).tiny)
    by_share = share.max(1).values.argsort(descending=True, stable=True)
    ordering = by_share[first_step[by_share].argsort(stable=True)]
    cutoffs = torch.bincount(first_step, minlength=steps + 2)[: steps + 1].cumsum(0)
    return ordering, cutoffs


def weight_magnitude_ranking(weight: torch.Tensor) -> torch.Tensor:
    """The weight-magnitude baseline of Table 2: neurons by ``sum_t |W[j, t]|``, largest first.

    The paper does not define the baseline precisely; this is the reading of spec 002.
    """
    return _check_weight(weight).sum(1).argsort(descending=True, stable=True)


def select_neurons(
    ordering: torch.Tensor, count: int, selection: str = "top", *, seed: int = 0
) -> torch.Tensor:
    """The ``top``, ``bottom`` or ``random`` ``count`` neurons of a ranking.

    ``ordering`` is a ranking, most salient first (e.g. from :func:`neuron_ordering`).
    Random neurons are drawn without replacement from all of them with ``seed``.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"unknown selection {selection!r}: choose one of {SELECTIONS}")
    if not 0 <= count <= len(ordering):
        raise ValueError(f"count must lie between 0 and {len(ordering)}, got {count}")
    if selection == "top":
        return ordering[:count].clone()
    if selection == "bottom":
        return ordering[len(ordering) - count :].clone()
    generator = torch.Generator().manual_seed(seed)
    return ordering[torch.randperm(len(ordering), generator=generator)[:count]]


def neuron_mask(neurons: torch.Tensor, n_neurons: int) -> torch.Tensor:
    """``(n_neurons,)`` boolean mask that is true on the given neuron indices."""
    neurons = torch.as_tensor(neurons, dtype=torch.long)
    if len(neurons) and (neurons.min() < 0 or neurons.max() >= n_neurons):
        raise ValueError(f"neuron indices must lie in [0, {n_neurons})")
    mask = torch.zeros(n_neurons, dtype=torch.bool)
    mask[neurons] = True
    return mask


def layer_histogram(neurons: torch.Tensor, hidden_size: int, n_layers: int) -> torch.Tensor:
    """``(n_layers,)`` count of the given neurons in each layer (neuron ``g``: layer
    ``(g // hidden_size) % n_layers``, so concatenated copies, as for dependency arcs,
    fold onto the same layers)."""
    neurons = torch.as_tensor(neurons, dtype=torch.long)
    return torch.bincount((neurons // hidden_size) % n_layers, minlength=n_layers)


def tag_layer_histograms(
    weight: torch.Tensor, n_neurons: int, hidden_size: int, n_layers: int
) -> torch.Tensor:
    """``(C, n_layers)`` :func:`layer_histogram` of each tag's salient set, at the
    :func:`union_fraction` where the sets together hold ``n_neurons`` (where a property's
    neurons sit, Sec. 5.2: JJ low, FW high, PRP, NNS and EXC by architecture)."""
    sets = top_neurons_per_tag(weight, union_fraction(weight, n_neurons))
    return torch.stack([layer_histogram(s, hidden_size, n_layers) for s in sets])


def class_means(x: torch.Tensor, y: torch.Tensor, n_classes: int | None = None) -> torch.Tensor:
    """``(C, D)`` mean activation ``q_c`` of each class; every class needs an example."""
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"x must be (N, D) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    counts = torch.bincount(y, minlength=n_classes)
    if (counts == 0).any():
        empty = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"classes {empty[:5]} have no examples")
    sums = torch.zeros(n_classes, x.shape[1], dtype=torch.float64)
    sums.index_add_(0, y.to(torch.long), x.double())
    return (sums / counts[:, None]).float()


def probeless_scores(
    x: torch.Tensor, y: torch.Tensor, n_classes: int | None = None
) -> torch.Tensor:
    """Probeless saliency of each neuron (Antverg and Belinkov 2022, Eq. 1).

    ``r(j) = sum_{c < c'} |q_c[j] - q_{c'}[j]|`` with ``q_c`` the class means. The sum over
    pairs is computed from the sorted means in ``O(C log C)`` per neuron:
    ``sum_{c < c'} |a_c - a_{c'}| = sum_i (2 i - C + 1) a_(i)`` for ``a`` sorted ascending.

    ``n_classes`` makes every class up to it count (each then needs an example); by default
    the classes present in ``y`` are compared.

    Returns
    -------
    torch.Tensor
        ``(D,)`` scores; larger is more salient.
    """
    if n_classes is None:  # classes absent from y would otherwise have no mean
        y = torch.unique(y, return_inverse=True)[1]
    means = class_means(x, y, n_classes).double().sort(0).values  # (C, D)
    n = means.shape[0]
    coefficient = 2 * torch.arange(n, dtype=torch.float64) - n + 1
    return (coefficient[:, None] * means).sum(0).float()


def probeless_ranking(
    x: torch.Tensor, y: torch.Tensor, n_classes: int | None = None
) -> torch.Tensor:
    """Neurons by decreasing :func:`probeless_scores` (``(D,)`` int64)."""
    return probeless_scores(x, y, n_classes).argsort(descending=True, stable=True)


@dataclass
class MinimalSet:
    """The result of :func:`minimal_neuron_set`.

    Attributes
    ----------
    count
        Number of neurons in the minimal set (the top ``count`` of the ordering).
    fraction
        ``count`` as a fraction of all neurons.
    reached
        Whether the set comes within ``delta`` of the oracle (else it is every step tried).
    counts, accuracies
        Every set size tried and its retrained accuracy, in order.
    """

    count: int
    fraction: float
    reached: bool
    counts: list[int]
    accuracies: list[float]


def minimal_neuron_set(
    n_neurons: int,
    evaluate: Callable[[Sequence[int]], Sequence[float]],
    oracle_accuracy: float,
    *,
    delta: float = 0.01,
    step: float = 0.01,
    max_fraction: float = 1.0,
    chunk: int = 5,
) -> MinimalSet:
    """Algorithm 4 (GETMINIMUMNEURONS): the smallest top set within ``delta`` of the oracle.

    Sizes grow by ``step`` of all neurons (1 % in the paper's text) until the retrained
    accuracy ``S`` satisfies ``O - S < delta``. The paper's pseudo-code stops
    ``until N < length or O - S < delta``, which ends after one step; the condition meant,
    used here, is ``until N >= length or O - S < delta``.

    Parameters
    ----------
    n_neurons
        ``D``, the number of ranked neurons.
    evaluate
        Maps a list of set sizes to the accuracies of probes retrained on the top neurons
        of those sizes; it is called with ``chunk`` sizes at a time so that the caller can
        train them in one batch.
    oracle_accuracy
        ``O``, the accuracy with all neurons.
    delta, step, max_fraction
        Tolerance (1 point = 0.01), increment and largest fraction tried.

    Returns
    -------
    MinimalSet
    """
    if not 0 < step <= max_fraction <= 1:
        raise ValueError(f"need 0 < step <= max_fraction <= 1, got {step} and {max_fraction}")
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    sizes = []
    for i in range(1, int(round(max_fraction / step)) + 1):
        size = min(n_neurons, max(1, round(i * step * n_neurons)))
        if not sizes or size > sizes[-1]:
            sizes.append(size)
    counts: list[int] = []
    accuracies: list[float] = []
    for start in range(0, len(sizes), chunk):
        batch = sizes[start : start + chunk]
        scores = [float(a) for a in evaluate(batch)]
        if len(scores) != len(batch):
            raise ValueError(f"evaluate returned {len(scores)} accuracies for {len(batch)} sizes")
        for size, accuracy in zip(batch, scores):
            counts.append(size)
            accuracies.append(accuracy)
            if oracle_accuracy - accuracy < delta:
                return MinimalSet(size, size / n_neurons, True, counts, accuracies)
    return MinimalSet(counts[-1], counts[-1] / n_neurons, False, counts, accuracies)
