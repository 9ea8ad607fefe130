"""The word types a neuron responds to most (Durrani, Dalvi and Sajjad, Table 4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def top_words(values: torch.Tensor, forms: Sequence[str], k: int = 10) -> list[tuple[str, float]]:
    """The word types a neuron responds to most (NeuroX's ``get_top_words``).

    The neuron's activations are z-scored over all tokens, ``|z|`` is averaged per word type
    and divided by the largest average, so strongly negative neurons count too.

    Returns
    -------
    list of (word, score)
        The ``k`` types with the largest score, largest first.
    """
    if len(values) != len(forms):
        raise ValueError(f"{len(values)} activations but {len(forms)} word forms")
    z = ((values - values.mean()) / values.std().clamp_min(1e-12)).abs().double()
    types = list(dict.fromkeys(forms))
    index = {t: i for i, t in enumerate(types)}
    ids = torch.tensor([index[f] for f in forms])
    sums = torch.zeros(len(types), dtype=torch.float64).index_add_(0, ids, z)
    mean = sums / torch.bincount(ids, minlength=len(types))
    mean = mean / mean.max()
    best = mean.argsort(descending=True)[:k]
    return [(types[i], float(mean[i])) for i in best.tolist()]
