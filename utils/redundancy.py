"""Redundant neurons: clusters of correlated activations (Dalvi et al. 2020, as in NeuroX).

Neurons ``j`` and ``k`` are at distance ``1 - |rho_jk|``, with ``rho`` the Pearson
correlation of their activations over the data; average-linkage hierarchical clustering
cut at ``threshold`` groups neurons that carry (nearly) the same signal, and one neuron per
cluster is a less redundant subset of the representation.
"""

from __future__ import annotations

import numpy as np
import torch


def neuron_correlations(x: torch.Tensor) -> torch.Tensor:
    """``(D, D)`` Pearson correlations of the columns of ``x`` ``(N, D)``.

    Constant neurons correlate 0 with every other neuron and 1 with themselves.
    """
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must be (n_examples >= 2, n_neurons), got {tuple(x.shape)}")
    centred = x.double() - x.double().mean(0)
    norm = centred.norm(dim=0)
    scaled = centred / torch.where(norm > 0, norm, torch.ones_like(norm))
    corr = scaled.T @ scaled
    corr.fill_diagonal_(1.0)
    return corr.clamp(-1, 1).float()


def correlation_clusters(
    x: torch.Tensor, *, threshold: float = 0.5, absolute: bool = True, method: str = "average"
) -> np.ndarray:
    """Cluster the neurons of ``x`` ``(N, D)`` by correlation (NeuroX's
    ``create_correlation_clusters``).

    Parameters
    ----------
    threshold
        Cut the dendrogram at this distance ``1 - |rho|`` (``1 - rho`` if not ``absolute``).
    method
        Linkage of :func:`scipy.cluster.hierarchy.linkage`.

    Returns
    -------
    numpy.ndarray
        ``(D,)`` cluster label of every neuron, from 1.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if not 0 <= threshold <= 2:
        raise ValueError(f"threshold must lie in [0, 2], got {threshold}")
    corr = neuron_correlations(x).double().numpy()
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
