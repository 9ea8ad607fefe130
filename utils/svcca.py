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
broadcast, so all (checkpoint, layer, task) comparisons are one batched SVD each.
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
    index = torch.arange(d, device=x.device)
    if keep is None:
        wanted = nonzero
    elif isinstance(keep, bool) or not isinstance(keep, (int, float)):
        raise ValueError(f"keep must be a fraction, a number of directions or None, got {keep!r}")
    elif isinstance(keep, int):
        if not 1 <= keep:
            raise ValueError(f"keep must keep at least one direction, got {keep}")
        wanted = nonzero & (index < keep)
    else:
        if not 0 < keep <= 1:
            raise ValueError(f"a variance fraction keep must lie in (0, 1], got {keep}")
        variance = singular**2
        explained = variance.cumsum(-1) / variance.sum(-1, keepdim=True)
        # the fewest leading directions whose cumulative share reaches keep
        count = (explained < keep - 1e-12).sum(-1, keepdim=True) + 1
        wanted = nonzero & (index < count)
    return basis * wanted[..., None, :], wanted.sum(-1)


def canonical_correlations(
    a: torch.Tensor, b: torch.Tensor, keep: float | int | None = 0.99
) -> CCAResult:
    """SVD-truncate both views, then CCA; see the module docstring.

    Parameters
    ----------
    a, b
        ``(..., N, d_A)`` and ``(..., N, d_B)``: the same ``N`` tokens; leading dimensions
        broadcast. Computed in float64.
    keep
        The SVD truncation, as in :func:`singular_directions`.
    """
    if a.shape[-2] != b.shape[-2]:
        raise ValueError(
            f"both views must describe the same tokens: {a.shape[-2]} vs {b.shape[-2]} rows"
        )
    basis_a, kept_a = singular_directions(a.double(), keep)
    basis_b, kept_b = singular_directions(b.double(), keep)
    correlations = torch.linalg.svdvals(_cross(basis_a, basis_b)).clamp(max=1.0)
    n_directions = torch.minimum(kept_a, kept_b)
    index = torch.arange(correlations.shape[-1], device=correlations.device)
    correlations = correlations * (index < n_directions[..., None])
    return CCAResult(correlations, n_directions)


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a^T b`` over the tokens for views ``(..., N, d_A)`` and ``(..., N, d_B)`` whose
    leading dimensions broadcast. A broadcasting matmul would first copy both operands to the
    whole broadcast shape (every pair's ``N`` tokens); views of different leading shapes go
    pair by pair instead, so memory grows with the views, not with their pairs."""
    if a.shape[:-2] == b.shape[:-2]:
        return a.transpose(-1, -2) @ b
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    flat_a, flat_b = a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *b.shape[-2:])
    index_a = torch.arange(len(flat_a)).reshape(a.shape[:-2]).expand(batch).reshape(-1)
    index_b = torch.arange(len(flat_b)).reshape(b.shape[:-2]).expand(batch).reshape(-1)
    pairs = [flat_a[i].T @ flat_b[j] for i, j in zip(index_a.tolist(), index_b.tolist())]
    return torch.stack(pairs).reshape(*batch, a.shape[-1], b.shape[-1])


def svcca(
    a: torch.Tensor,
    b: torch.Tensor,
    keep: float | int | None = 0.99,
    threshold: float | None = None,
) -> torch.Tensor:
    """``(...,)`` SVCCA similarity of views ``a`` and ``b``: the mean canonical correlation
    (``threshold=None``), or the mean of the leading ones that sum to ``threshold`` of the
    total (google/svcca's ``"mean"``, :meth:`CCAResult.leading_mean`)."""
    result = canonical_correlations(a, b, keep)
    return result.mean if threshold is None else result.leading_mean(threshold)
