"""Plain-loop references for :mod:`utils.rankings`: Algorithm 3 as printed, Probeless by pairs."""

from __future__ import annotations

import itertools

import torch


def naive_top_neurons_per_tag(weight, fraction):
    """GETTOPNEURONSPERTAG, one tag at a time with a running sum (NeuroX's rule)."""
    per_tag = []
    for t in range(weight.shape[1]):
        column = weight[:, t].abs().double()
        order = sorted(range(len(column)), key=lambda j: -float(column[j]))
        total, running, chosen = float(column.sum()), 0.0, []
        for j in order:
            chosen.append(j)
            running += float(column[j])
            if running >= fraction * total:
                break
        per_tag.append(chosen)
    return per_tag


def naive_neuron_ordering(weight, steps=100):
    """Algorithm 3 as printed (union over tags), new neurons of a step by largest mass share."""
    magnitude = weight.abs().double()
    share = (magnitude / magnitude.sum(0)).max(1).values
    ordering = []
    for step in range(steps + 1):
        union = set(itertools.chain(*naive_top_neurons_per_tag(weight, step / steps)))
        new = sorted(union - set(ordering), key=lambda j: (-float(share[j]), j))
        ordering += new
    rest = sorted(set(range(len(weight))) - set(ordering), key=lambda j: (-float(share[j]), j))
    return ordering + rest


def naive_probeless_scores(x, y):
    """Sum over class pairs of the absolute difference of class means, pair by pair."""
    classes = sorted(set(y.tolist()))
    means = {c: x[y == c].double().mean(0) for c in classes}
    scores = torch.zeros(x.shape[1], dtype=torch.float64)
    for c, other in itertools.combinations(classes, 2):
        scores += (means[c] - means[other]).abs()
    return scores.float()
