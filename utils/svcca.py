"""Singular Vector Canonical Correlation Analysis (SVCCA; Raghu et al. 2017), as used by
Saphra & Lopez (2019), "Understanding Learning Dynamics of Language Models with SVCCA"
(thesis Ch. 4).

Two views ``A (N, d_A)`` and ``B (N, d_B)`` of the same ``N`` tokens (say, an LM layer and a
tagger layer) are compared in two steps:

1. **SV**: centre each column and keep the top singular directions of each view, those that
   explain a fraction ``keep`` of its variance (Raghu et al.'s 99%), or a fixed number;
2. **CCA** (thesis Eqs. 2.5-2.11): find directions ``u, v`` maximising
   ``corr(A'u, B'v)``, then the next ones orthogonal to them, and so on. With orthonormal
   bases ``Q_A, Q_B`` of the reduced views, the canonical correlations are the singular
   values of ``Q_A^T Q_B``.

The SVCCA similarity is the mean canonical correlation, over every canonical pair by default.
Two choices move it, and the thesis's own script makes both: it calls google/svcca's
``cca_core.get_cca_similarity(A, B)["mean"]`` on the full views, with **no SVD step**
(``keep=None`` here), and that ``"mean"`` averages only the **leading correlations** whose sum
reaches 98% of the sum of all of them (``threshold=0.98`` here, google's default; see
:meth:`CCAResult.leading_mean`). Everything is batched: the leading dimensions of ``a`` and ``b``
broadcast, so all (checkpoint, layer, task) comparisons are one batched SVD each; the views are
read a chunk of tokens at a time (only ``(d, d)`` matrices per view and per pair are kept), so
they may stay on the CPU while the arithmetic runs on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class CCAResult:
    """Canonical correlations of a batch of view pairs.

    Attributes
    ----------
    correlations
        ``(..., r)`` in decreasing order, zero-padded beyond ``n_directions``.
    n_directions
        ``(...,)`` number of canonical pairs, ``min(k_A, k_B)``.
    """

    correlations: torch.Tensor
    n_directions: torch.Tensor

    @property
    def mean(self) -> torch.Tensor:
        """``(...,)`` the SVCCA similarity: the mean canonical correlation."""
        return self.correlations.sum(-1) / self.n_directions

    def leading_mean(self, threshold: float = 0.98) -> torch.Tensor:
        """``(...,)`` google/svcca's ``get_cca_similarity(...)["mean"]``: the mean of the fewest
        leading canonical correlations whose sum reaches ``threshold`` of the sum of all."""
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
        total = self.correlations.sum(-1, keepdim=True)
        cumulative = self.correlations.cumsum(-1)
        count = (cumulative < threshold * total - 1e-12).sum(-1) + 1
        count = torch.minimum(count, self.n_directions.clamp(min=1))
        index = torch.arange(self.correlations.shape[-1], device=self.correlations.device)
        leading = self.correlations * (index < count[..., None])
        return leading.sum(-1) / count


def _kept_directions(
    singular: torch.Tensor, nonzero: torch.Tensor, keep: float | int | None
) -> torch.Tensor:
    """Which of the directions (singular values in descending order) to keep: every nonzero
    one (``keep=None``), the first ``keep`` (an int), or the fewest leading ones whose
    cumulative share of the variance reaches ``keep`` (a fraction)."""
    index = torch.arange(singular.shape[-1], device=singular.device)
    if keep is None:
        return nonzero
    if isinstance(keep, bool) or not isinstance(keep, (int, float)):
        raise ValueError(f"keep must be a fraction, a number of directions or None, got {keep!r}")
    if isinstance(keep, int):
        if not 1 <= keep:
            raise ValueError(f"keep must keep at least one direction, got {keep}")
        return nonzero & (index < keep)
    if not 0 < keep <= 1:
        raise ValueError(f"a variance fraction keep must lie in (0, 1], got {keep}")
    variance = singular**2
    explained = variance.cumsum(-1) / variance.sum(-1, keepdim=True)
    count = (explained < keep - 1e-12).sum(-1, keepdim=True) + 1
    return nonzero & (index < count)


def singular_directions(
    x: torch.Tensor, keep: float | int | None = 0.99
) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthonormal basis of the top singular directions of the centred view ``x``.

    Parameters
    ----------
    x
        ``(..., N, d)`` activations, one row per token.
    keep
        A float in ``(0, 1]``: the fewest directions explaining that fraction of the variance
        (sum of squared singular values); an int: that many directions; None: every direction
        with a non-negligible singular value.

    Returns
    -------
    basis, kept
        ``(..., N, d)`` left singular vectors (descending singular values) with the discarded
        ones zeroed, and ``(...,)`` the number kept. Computed in the input's precision.
    """
    if x.ndim < 2:
        raise ValueError(f"a view must be (..., n_tokens, n_units), got shape {tuple(x.shape)}")
    n, d = x.shape[-2:]
    if n < 2:
        raise ValueError(f"a view needs at least two tokens, got {n}")
    if not torch.isfinite(x).all():
        raise ValueError("the view contains NaN or infinite values")
    x = x - x.mean(dim=-2, keepdim=True)
    # the SVD through the small (d, d) Gram matrix: x = U S V^T with x^T x = V S^2 V^T, U = x V / S
    eigenvalues, right = torch.linalg.eigh(x.transpose(-1, -2) @ x)
    eigenvalues, right = eigenvalues.flip(-1).clamp(min=0), right.flip(-1)
    singular = eigenvalues.sqrt()
    # the Gram matrix squares the condition number: directions below sqrt(eps) are noise
    tol = singular[..., :1] * (max(n, d) * torch.finfo(x.dtype).eps) ** 0.5
    nonzero = singular > tol
    basis = (x @ right) / torch.where(nonzero, singular, 1.0)[..., None, :]
    wanted = _kept_directions(singular, nonzero, keep)
    return basis * wanted[..., None, :], wanted.sum(-1)


#: tokens per chunk and pairs per group that :func:`canonical_correlations` holds at once:
#: its working memory is about ``PAIR_GROUP * (CHUNK_TOKENS * (d_A + d_B) + 6 * d**2)``
#: float64 numbers, whatever the number of tokens, views and pairs
CHUNK_TOKENS = 2048
PAIR_GROUP = 32


def _chunks(n: int, chunk_tokens: int | None) -> range:
    """Token offsets of chunks of ``chunk_tokens`` rows (None: :data:`CHUNK_TOKENS`)."""
    return range(0, n, chunk_tokens or CHUNK_TOKENS)


def _whitening(
    x: torch.Tensor,
    index: torch.Tensor,
    keep: float | int | None,
    device: torch.device,
    chunk_tokens: int | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean ``(k, d)``, whitening map ``(k, d, d)`` and number of kept directions ``(k,)`` of
    the views ``x[index]`` of ``x`` ``(V, N, d)``, from their centred Gram matrices accumulated
    over token chunks (in float64 on ``device``): the kept orthonormal directions of
    :func:`singular_directions` are ``(x - mean) @ map``, which is never formed."""
    n, d = x.shape[-2:]
    offsets = _chunks(n, chunk_tokens)
    step = offsets.step
    total = torch.zeros(len(index), d, dtype=torch.float64, device=device)
    for start in offsets:
        part = x[index, start : start + step].to(device, torch.float64)
        if not torch.isfinite(part).all():
            raise ValueError("the view contains NaN or infinite values")
        total += part.sum(-2)
    mean = total / n
    gram = torch.zeros(len(index), d, d, dtype=torch.float64, device=device)
    for start in offsets:
        part = x[index, start : start + step].to(device, torch.float64) - mean[:, None]
        gram += part.transpose(-1, -2) @ part
    # x = U S V^T with x^T x = V S^2 V^T: the directions U = x V / S
    eigenvalues, right = torch.linalg.eigh(gram)
    eigenvalues, right = eigenvalues.flip(-1).clamp(min=0), right.flip(-1)
    singular = eigenvalues.sqrt()
    # the Gram matrix squares the condition number: directions below sqrt(eps) are noise
    tol = singular[..., :1] * (max(n, d) * torch.finfo(torch.float64).eps) ** 0.5
    nonzero = singular > tol
    wanted = _kept_directions(singular, nonzero, keep)
    scale = torch.where(wanted, 1.0 / torch.where(nonzero, singular, 1.0), 0.0)
    return mean, right * scale[..., None, :], wanted.sum(-1)


def canonical_correlations(
    a: torch.Tensor,
    b: torch.Tensor,
    keep: float | int | None = 0.99,
    *,
    device: str | torch.device | None = None,
    chunk_tokens: int | None = None,
) -> CCAResult:
    """SVD-truncate both views, then CCA; see the module docstring.

    Parameters
    ----------
    a, b
        ``(..., N, d_A)`` and ``(..., N, d_B)``: the same ``N`` tokens; leading dimensions
        broadcast. Computed in float64.
    keep
        The SVD truncation, as in :func:`singular_directions`.
    device
        Where to compute (None: ``a``'s device); the views may stay elsewhere (on the CPU),
        they are moved a chunk of tokens at a time.
    chunk_tokens
        Tokens per chunk (None: :data:`CHUNK_TOKENS`).

    Notes
    -----
    Memory: nothing of the size of the views is copied (beyond a copy of a view that is not
    contiguous). Each view contributes its centred Gram matrix ``(d, d)`` and each pair its
    cross-covariance ``(d_A, d_B)``, accumulated over chunks of tokens, for a group of pairs
    at a time (:data:`CHUNK_TOKENS`, :data:`PAIR_GROUP`: memory does not grow with the number
    of tokens, pairs or views); with orthonormal bases ``Q = (x - mean) M``
    (``M`` from the Gram matrix), ``Q_A^T Q_B = M_A^T [(a - mean_a)^T (b - mean_b)] M_B``.
    """
    if a.shape[-2] != b.shape[-2]:
        raise ValueError(
            f"both views must describe the same tokens: {a.shape[-2]} vs {b.shape[-2]} rows"
        )
    for x in (a, b):
        if x.ndim < 2:
            raise ValueError(f"a view must be (..., n_tokens, n_units), got shape {tuple(x.shape)}")
    n, d_a, d_b = a.shape[-2], a.shape[-1], b.shape[-1]
    if n < 2:
        raise ValueError(f"a view needs at least two tokens, got {n}")
    device = torch.device(device) if device is not None else a.device
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    # the pairs, flattened, as indices into each side's own views (no broadcast copy)
    flat_a, flat_b = a.reshape(-1, n, d_a), b.reshape(-1, n, d_b)
    index_a = torch.arange(len(flat_a)).reshape(a.shape[:-2]).expand(batch).reshape(-1)
    index_b = torch.arange(len(flat_b)).reshape(b.shape[:-2]).expand(batch).reshape(-1)
    # groups of PAIR_GROUP pairs (their views whitened for each group: a view in several
    # groups is whitened in each), each read CHUNK_TOKENS tokens at a time
    group = PAIR_GROUP
    correlations, n_directions = [], []
    for first in range(0, len(index_a), group):
        pair_a, pair_b = index_a[first : first + group], index_b[first : first + group]
        views_a, of_a = torch.unique(pair_a, return_inverse=True)
        views_b, of_b = torch.unique(pair_b, return_inverse=True)
        mean_a, map_a, kept_a = _whitening(flat_a, views_a, keep, device, chunk_tokens)
        mean_b, map_b, kept_b = _whitening(flat_b, views_b, keep, device, chunk_tokens)
        of_a, of_b = of_a.to(device), of_b.to(device)
        offsets = _chunks(n, chunk_tokens)
        cross = torch.zeros(len(pair_a), d_a, d_b, dtype=torch.float64, device=device)
        for start in offsets:
            stop = start + offsets.step
            part_a = flat_a[pair_a, start:stop].to(device, torch.float64) - mean_a[of_a, None]
            part_b = flat_b[pair_b, start:stop].to(device, torch.float64) - mean_b[of_b, None]
            cross += part_a.transpose(-1, -2) @ part_b
        whitened = map_a[of_a].transpose(-1, -2) @ cross @ map_b[of_b]
        correlations.append(torch.linalg.svdvals(whitened).clamp(max=1.0))
        n_directions.append(torch.minimum(kept_a[of_a], kept_b[of_b]))
    correlations = torch.cat(correlations).reshape(*batch, -1)
    n_directions = torch.cat(n_directions).reshape(batch)
    index = torch.arange(correlations.shape[-1], device=correlations.device)
    correlations = correlations * (index < n_directions[..., None])
    return CCAResult(correlations, n_directions)


def svcca(
    a: torch.Tensor,
    b: torch.Tensor,
    keep: float | int | None = 0.99,
    threshold: float | None = None,
    *,
    device: str | torch.device | None = None,
    chunk_tokens: int | None = None,
) -> torch.Tensor:
    """``(...,)`` SVCCA similarity of views ``a`` and ``b``: the mean canonical correlation
    (``threshold=None``), or the mean of the leading ones that sum to ``threshold`` of the
    total (google/svcca's ``"mean"``, :meth:`CCAResult.leading_mean`). ``device`` and
    ``chunk_tokens`` as in :func:`canonical_correlations`."""
    result = canonical_correlations(a, b, keep, device=device, chunk_tokens=chunk_tokens)
    return result.mean if threshold is None else result.leading_mean(threshold)
