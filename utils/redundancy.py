"""Redundant neurons: clusters of correlated activations (Dalvi et al. 2020, as in NeuroX).

Neurons ``j`` and ``k`` are at distance ``1 - |rho_jk|``, with ``rho`` the Pearson
correlation of their activations over the data; average-linkage hierarchical clustering
cut at ``threshold`` groups neurons that carry (nearly) the same signal, and one neuron per
cluster is a less redundant subset of the representation.
"""

from __future__ import annotations

import numpy as np
import torch


def neuron_correlations(
    x: torch.Tensor, *, device: str | torch.device | None = None, max_elements: int = 1 << 24
) -> torch.Tensor:
    """``(D, D)`` Pearson correlations of the columns of ``x`` ``(N, D)``.

    Constant neurons correlate 0 with every other neuron and 1 with themselves. The sums are
    taken in float64 over chunks of at most ``max_elements`` activations, each centred as it
    is read, so that the memory is the ``(D, D)`` result and one chunk, never a float64 copy
    of ``x``; ``device`` (default: ``x``'s) is where the chunks are multiplied.
    """
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must be (n_examples >= 2, n_neurons), got {tuple(x.shape)}")
    device = x.device if device is None else torch.device(device)
    rows = max(1, max_elements // max(1, x.shape[1]))
    chunks = range(0, len(x), rows)
    total = torch.zeros(x.shape[1], dtype=torch.float64, device=device)
    for start in chunks:
        total += x[start : start + rows].to(device, torch.float64).sum(0)
    mean = total / len(x)
    gram = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=device)
    for start in chunks:
        centred = x[start : start + rows].to(device, torch.float64) - mean
        gram.addmm_(centred.T, centred)
    norm = gram.diagonal().clamp_min(0).sqrt()
    norm = torch.where(norm > 0, norm, torch.ones_like(norm))
    corr = gram.div_(norm[:, None]).div_(norm[None, :])
    corr.fill_diagonal_(1.0)
    return corr.clamp(-1, 1).float().cpu()


def correlation_clusters(
    x: torch.Tensor,
    *,
    threshold: float = 0.5,
    absolute: bool = True,
    method: str = "average",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Cluster the neurons of ``x`` ``(N, D)`` by correlation (NeuroX's
    ``create_correlation_clusters``).

    Parameters
    ----------
    threshold
        Cut the dendrogram at this distance ``1 - |rho|`` (``1 - rho`` if not ``absolute``).
    method
        Linkage of :func:`scipy.cluster.hierarchy.linkage`.
    device
        Where the correlations are computed (:func:`neuron_correlations`).

    Returns
    -------
    numpy.ndarray
        ``(D,)`` cluster label of every neuron, from 1.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if not 0 <= threshold <= 2:
        raise ValueError(f"threshold must lie in [0, 2], got {threshold}")
    corr = neuron_correlations(x, device=device).double().numpy()
    distance = 1 - (np.abs(corr) if absolute else corr)
    distance = np.clip((distance + distance.T) / 2, 0, None)
    np.fill_diagonal(distance, 0)
    tree = linkage(squareform(distance, checks=False), method=method)
    return fcluster(tree, t=threshold, criterion="distance")


def cluster_representatives(labels: np.ndarray, *, seed: int = 0) -> torch.Tensor:
    """One neuron drawn at random from each cluster (NeuroX's ``extract_independent_neurons``).

    Returns the chosen neuron indices, sorted.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = [int(rng.choice(np.flatnonzero(labels == c))) for c in np.unique(labels)]
    return torch.tensor(sorted(chosen), dtype=torch.long)
