"""Probing on the top-k neurons of a ranking: the multivariate Gaussian probe with its greedy
neuron selection, and linear probes retrained for every k in one batched pass.

The Gaussian probe (Torroba Hennigen et al. 2020, as used by Antverg and Belinkov 2022, §2.1)
models each class ``z`` as ``h | z ~ N(mu_z, Sigma_z)`` over all ``d`` neurons, with the MAP
estimate under a Normal-Inverse-Wishart prior whose hyperparameters come from the data::

    mu_z    = mean of class z
    Sigma_z = (diag(C_z) + S_z) / (nu_0 + N_z + d + 2),    nu_0 = d + 2,

where ``C_z`` is the class's (N - 1)-normalised covariance and ``S_z`` its scatter matrix.
A subset of neurons is evaluated by *marginalisation*, not by retraining: the marginal of a
Gaussian on ``S`` is ``N(mu_S, Sigma_SS)``. For the nested subsets of a ranking, the chain
rule gives every prefix at once from one Cholesky factor ``L`` of the permuted covariance::

    log N(h_[:k]) = sum_{t < k} [ -z_t^2 / 2 - log L_tt - log(2 pi) / 2 ],  z = L^-1 (h - mu).

The GAUSSIAN ranking adds, at every step, the neuron that maximises (or, for the
bottom-to-top ranking, minimises) the mutual information between the label and the selected
neurons on held-out data. All candidates are scored at once: conditioning on the neurons
selected so far leaves, for every other neuron ``j``, a residual ``r_j = h_j - E[h_j | h_S]``
with variance ``v_j`` (a Schur complement), and ``log N(h_{S + j}) = log N(h_S) +
log N(r_j; 0, v_j)``. Adding neuron ``s`` to ``S`` is a rank-one update of the residuals and
of the conditional covariance, so a step costs ``O(C (N d + d^2))`` instead of ``d`` refits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from utils.probes import LinearProbe, train_linear_probes

LOG_2PI = math.log(2 * math.pi)
# elements of the largest (classes, examples, neurons) intermediate a kernel holds at once
CHUNK_ELEMENTS = 2**26
# elements of the greedy search's residuals (C, N, d) above which they are recomputed per chunk
STATE_ELEMENTS = 2**28


@dataclass
class GaussianProbe:
    """One Gaussian per class over all neurons.

    Attributes
    ----------
    means
        ``(C, d)`` class means.
    covariances
        ``(C, d, d)`` MAP class covariances (positive definite).
    log_prior
        ``(C,)`` log class frequencies of the training data.
    """

    means: torch.Tensor
    covariances: torch.Tensor
    log_prior: torch.Tensor

    @property
    def n_classes(self) -> int:
        return self.means.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.means.shape[1]

    def prefix_log_joint(self, x: torch.Tensor, ranking: torch.Tensor) -> torch.Tensor:
        """``(k, N, C)``: ``log p(h_[:j+1], z)`` for every prefix ``ranking[:j+1]``.

        The marginal of the class Gaussians on each nested subset, by the chain rule over one
        Cholesky factor per class (module docstring).
        """
        ranking = _check_ranking(ranking, self.n_neurons)
        x = _check_x(x, self.n_neurons).to(self.means)
        return self._prefix_log_joint(x, ranking, self._prefix_cholesky(ranking))

    def _prefix_cholesky(self, ranking: torch.Tensor) -> torch.Tensor:
        sigma = self.covariances[:, ranking][:, :, ranking]  # (C, k, k)
        return torch.linalg.cholesky(sigma)

    def _prefix_log_joint(
        self, x: torch.Tensor, ranking: torch.Tensor, chol: torch.Tensor
    ) -> torch.Tensor:
        centred = x[None, :, ranking] - self.means[:, None, ranking]  # (C, N, k)
        z = torch.linalg.solve_triangular(chol, centred.transpose(1, 2), upper=False)
        per_step = -0.5 * z.pow(2) - torch.diagonal(chol, dim1=1, dim2=2).log()[:, :, None]
        log_lik = (per_step - 0.5 * LOG_2PI).cumsum(1)  # (C, k, N)
        return log_lik.permute(1, 2, 0) + self.log_prior

    def _prefix_chunks(self, x: torch.Tensor, ranking: torch.Tensor, max_elements: int):
        """``(rows, log joint (k, len(rows), C))`` over chunks of the examples, each chunk's
        ``(C, rows, k)`` intermediates at most ``max_elements``: the ``(k, N, C)`` scores of
        all examples are never held at once."""
        ranking = _check_ranking(ranking, self.n_neurons)
        x = _check_x(x, self.n_neurons).to(self.means)
        chol = self._prefix_cholesky(ranking)
        per_row = self.n_classes * len(ranking)
        rows = max(1, max_elements // per_row)
        for start in range(0, len(x), rows):
            yield (
                slice(start, start + rows),
                self._prefix_log_joint(x[start : start + rows], ranking, chol),
            )

    def prefix_accuracy(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        ranking: torch.Tensor,
        *,
        max_elements: int = CHUNK_ELEMENTS,
    ) -> torch.Tensor:
        """``(k,)`` accuracy of the probe marginalised to every prefix of ``ranking`` (the
        examples read in chunks of at most ``max_elements`` classes x examples x k)."""
        chunks = list(_single(self._prefix_chunks(x, ranking, max_elements)))
        if len(chunks) == 1:
            log_joint = chunks[0][1]
            return (log_joint.argmax(-1) == y.to(log_joint.device)).float().mean(-1)
        correct = None
        for rows, log_joint in self._prefix_chunks(x, ranking, max_elements):
            hits = (log_joint.argmax(-1) == y[rows].to(log_joint.device)).sum(-1)
            correct = hits if correct is None else correct + hits
        return correct.float() / len(y)

    def prefix_mutual_information(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        ranking: torch.Tensor,
        *,
        max_elements: int = CHUNK_ELEMENTS,
    ) -> torch.Tensor:
        """``(k,)`` mutual information (bits) between labels and every prefix of ``ranking``
        (the examples read in chunks, as :meth:`prefix_accuracy`)."""
        chunks = list(_single(self._prefix_chunks(x, ranking, max_elements)))
        if len(chunks) == 1:
            return mutual_information_bits(chunks[0][1], y)
        total = None
        for rows, log_joint in self._prefix_chunks(x, ranking, max_elements):
            part = mutual_information_bits(log_joint, y[rows], entropy=0.0) * len(log_joint[0])
            total = part if total is None else total + part
        return total / len(y) + _label_entropy(y, self.n_classes).to(total) / math.log(2)


def _single(chunks):
    """The first chunk of ``chunks``, and a second one if there is one (to tell a single
    chunk, computed as one tensor, from several)."""
    for i, chunk in enumerate(chunks):
        yield chunk
        if i == 1:
            return


def _check_x(x: torch.Tensor, d: int | None = None) -> torch.Tensor:
    if x.ndim != 2:
        raise ValueError(f"x must be (n_examples, n_neurons), got shape {tuple(x.shape)}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"x has {x.shape[1]} neurons but the probe was fit on {d}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    return x


def _check_ranking(ranking: torch.Tensor, d: int) -> torch.Tensor:
    ranking = torch.as_tensor(ranking, dtype=torch.long).reshape(-1)
    if len(ranking) == 0:
        raise ValueError("ranking is empty")
    if ranking.min() < 0 or ranking.max() >= d or len(ranking.unique()) != len(ranking):
        raise ValueError(f"ranking must hold distinct neuron indices in [0, {d})")
    return ranking


def _label_entropy(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Entropy (nats) of the empirical label distribution of ``y``."""
    freq = torch.bincount(y, minlength=n_classes).double() / len(y)
    return -(freq[freq > 0] * freq[freq > 0].log()).sum()


def mutual_information_bits(
    log_joint: torch.Tensor, y: torch.Tensor, entropy: float | None = None
) -> torch.Tensor:
    """Plug-in mutual information, in bits, from log joint scores ``(..., N, C)``.

    ``MI = (H(Z) - mean_i[-log p(z_i | h_i)]) / ln 2``, with ``H(Z)`` the entropy of the empirical
    label distribution of ``y`` (the estimate of Antverg and Belinkov's code), or ``entropy``
    (nats) when given.
    """
    y = y.to(log_joint.device)
    log_post = log_joint - log_joint.logsumexp(-1, keepdim=True)
    picked = log_post.gather(-1, y.expand(*log_post.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    if entropy is None:
        freq = torch.bincount(y, minlength=log_joint.shape[-1]).to(log_joint) / len(y)
        entropy = -(freq[freq > 0] * freq[freq > 0].log()).sum()
    return (entropy + picked.mean(-1)) / math.log(2)


def fit_gaussian_probe(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_classes: int | None = None,
    dtype: torch.dtype = torch.float64,
) -> GaussianProbe:
    """MAP estimate of one Gaussian per class under the data-dependent NIW prior.

    Parameters
    ----------
    x, y
        ``(N, d)`` representations and ``(N,)`` class indices; every class needs two examples.
    n_classes
        Number of classes (default ``y.max() + 1``).
    dtype
        Precision of the parameters (float64: the greedy search conditions on hundreds of
        neurons).

    Returns
    -------
    GaussianProbe
        ``Sigma_z = (diag(C_z) + S_z) / (N_z + 2 d + 4)`` (module docstring), made positive
        definite by the code's fix ``Sigma -= 10 lambda_min I`` when needed.
    """
    x = _check_x(x).to(dtype)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be ({len(x)},) class indices, got shape {tuple(y.shape)}")
    y = y.to(x.device)
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    counts = torch.bincount(y, minlength=n_classes)
    if (counts < 2).any():
        raise ValueError(f"every class needs at least 2 examples; counts are {counts.tolist()}")
    d = x.shape[1]
    nu0 = d + 2  # the prior's degrees of freedom
    means, covariances = [], []
    for c in range(n_classes):
        members = x[y == c]
        mean = members.mean(0)
        scatter = (members - mean).T @ (members - mean)
        prior_scale = torch.diag(scatter.diagonal() / (len(members) - 1))
        sigma = (prior_scale + scatter) / (nu0 + len(members) + d + 2)
        smallest = torch.linalg.eigvalsh(sigma)[0]
        if smallest <= 0:
            sigma = sigma - 10 * smallest * torch.eye(d, dtype=dtype, device=x.device)
        means.append(mean)
        covariances.append(sigma)
    log_prior = (counts.to(dtype) / len(y)).log()
    return GaussianProbe(torch.stack(means), torch.stack(covariances), log_prior)


def greedy_ranking(
    probe: GaussianProbe,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_neurons: int | None = None,
    best: bool = True,
    progress: bool = True,
    max_elements: int = CHUNK_ELEMENTS,
    max_state: int = STATE_ELEMENTS,
) -> torch.Tensor:
    """The GAUSSIAN ranking: greedy forward selection by held-out mutual information.

    Parameters
    ----------
    probe
        A fitted :class:`GaussianProbe`.
    x, y
        Held-out (dev) representations ``(N, d)`` and labels ``(N,)`` scoring the candidates.
    n_neurons
        How many steps to take (default: all ``d``).
    best
        ``True``: add the neuron that maximises the MI of the selected set (top-to-bottom).
        ``False``: the one that minimises it (the paper's bottom-to-top GAUSSIAN, a greedy run
        of its own rather than the reversed list).
    max_elements
        The largest ``(C, examples, d)`` intermediate of a step, in elements: the candidates
        are scored over chunks of the examples.
    max_state
        The residuals of all examples, ``C * N * d`` elements, are kept and updated in place
        when they fit in ``max_state``; above it, no ``(C, N, d)`` tensor is held: each chunk's
        residuals are recomputed from ``x`` and the regression of every neuron on the selected
        ones, ``(C, |S|, d)`` (a matrix product per chunk and step instead of an update).

    Returns
    -------
    torch.Tensor
        ``(n_neurons,)`` neuron indices in the order they were selected.
    """
    d = probe.n_neurons
    x = _check_x(x, d).to(probe.means)
    y = y.to(x.device)
    n_neurons = d if n_neurons is None else n_neurons
    if not 1 <= n_neurons <= d:
        raise ValueError(f"n_neurons must be in [1, {d}], got {n_neurons}")
    # residuals of every neuron given the selected ones, their covariance, and log N(h_S);
    # every (C, N, d) intermediate is computed over chunks of at most max_elements, and the
    # residuals themselves are kept whole only when they fit in max_state
    n_classes = probe.n_classes
    keep = n_classes * len(x) * d <= max_state
    residual = x[None] - probe.means[:, None] if keep else None  # (C, N, d)
    coef = x.new_zeros((n_classes, 0, d))  # (C, |S|, d): E[h | h_S] = mu + (h_S - mu_S) coef
    cond_cov = probe.covariances.clone()  # (C, d, d)
    log_joint = probe.log_prior.expand(len(x), -1).clone()  # (N, C)
    available = torch.ones(d, dtype=torch.bool, device=x.device)
    order = []
    rows = max(1, max_elements // (n_classes * d))
    chunks = [slice(start, start + rows) for start in range(0, len(x), rows)]

    def residual_of(part: slice, neurons=slice(None)) -> torch.Tensor:
        """(C, n, d) residuals of the examples ``part`` (of ``neurons`` only, if given)."""
        if keep:
            return residual[:, part, neurons]
        centred = x[None, part] - probe.means[:, None]  # (C, n, d)
        if not order:
            return centred[:, :, neurons]
        return centred[:, :, neurons] - centred[:, :, order] @ coef[:, :, neurons]

    for _ in tqdm(range(n_neurons), desc="greedy selection", disable=not progress, leave=False):
        var = cond_cov.diagonal(dim1=1, dim2=2).clamp_min(1e-12)  # (C, d)
        scores = torch.zeros(d, dtype=x.dtype, device=x.device)
        for part in chunks:
            # log p(h_{S+j}, z) for every candidate j: log N(h_S) + log N(r_j; 0, v_j), (C, n, d)
            offset = log_joint[part].T[:, :, None] - 0.5 * (var.log() + LOG_2PI)[:, None]
            candidates = torch.addcmul(offset, residual_of(part).square(), -0.5 / var[:, None])
            # mean log posterior of the true class: the MI up to the constant H(Z)
            own_class = y[None, part, None].expand(1, candidates.shape[1], d)
            gap = candidates.gather(0, own_class)[0] - candidates.logsumexp(0)
            if len(chunks) == 1:
                scores = gap.mean(0)
            else:
                scores += gap.sum(0)
        if len(chunks) > 1:
            scores /= len(x)
        scores = scores.masked_fill(~available, -math.inf if best else math.inf)
        chosen = int(scores.argmax() if best else scores.argmin())
        available[chosen] = False
        gain = cond_cov[:, :, chosen] / var[:, chosen, None]  # (C, d)
        if len(chunks) == 1 and keep:
            log_joint = candidates[:, :, chosen].T
        else:  # the chosen candidate's column, recomputed for every example
            column = torch.cat([residual_of(part, [chosen])[:, :, 0] for part in chunks], 1)
            offset = log_joint.T - 0.5 * (var[:, chosen].log() + LOG_2PI)[:, None]
            log_joint = torch.addcmul(offset, column.square(), -0.5 / var[:, chosen, None]).T
        # condition on the chosen neuron: rank-one updates (Schur complement)
        if keep:
            residual.sub_(residual[:, :, chosen, None] * gain[:, None, :])
        else:
            coef = torch.cat([coef - coef[:, :, chosen, None] * gain[:, None, :], gain[:, None]], 1)
        order.append(chosen)
        cond_cov.sub_(gain[:, :, None] * cond_cov[:, None, chosen, :])
    return torch.tensor(order, dtype=torch.long)


def train_prefix_linear_probes(
    x: torch.Tensor,
    y: torch.Tensor,
    masks: torch.Tensor,
    *,
    n_classes: int | None = None,
    l1: float = 1e-3,
    l2: float = 1e-2,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-2,
    seed: int = 0,
    progress: bool = True,
) -> LinearProbe:
    """Train one linear probe per neuron subset, all in one pass over the data.

    Probe ``g`` sees only the neurons where ``masks[g]`` is true: it is exactly
    ``nn.Linear(k_g, C)`` on those neurons (initialised uniformly in ``±1/sqrt(k_g)`` as
    PyTorch does), trained with the recipe of Antverg and Belinkov's code::

        loss_g = CE + l1 * ||W_g||_1 + l2 * ||W_g||_2        (un-squared Frobenius norm),

    Adam on mini-batches (the same shuffles for every probe): the elastic-net trainer
    :func:`utils.probes.train_linear_probes` with ``l2_penalty="norm"`` and
    ``init_scale="subset"``, whose batched probes equal ``G`` separate trainings.

    Parameters
    ----------
    x, y
        ``(N, d)`` representations and ``(N,)`` class indices.
    masks
        ``(G, d)`` boolean: the neurons each probe may use (e.g. the top-k of a ranking).

    Returns
    -------
    LinearProbe
        ``weight`` ``(G, d, C)`` is zero outside each mask; ``l1``, ``l2`` hold the penalties.
    """
    return train_linear_probes(
        x,
        y,
        n_classes=n_classes,
        l1=l1,
        l2=l2,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=progress,
        keep=torch.as_tensor(masks, dtype=torch.bool),
        l2_penalty="norm",
        init_scale="subset",
    )


def prefix_masks(rankings: Sequence[torch.Tensor], ks: Sequence[int], d: int) -> torch.Tensor:
    """``(len(rankings) * len(ks), d)`` boolean masks of the top-k neurons, ranking-major."""
    masks = torch.zeros(len(rankings), len(ks), d, dtype=torch.bool)
    for r, ranking in enumerate(rankings):
        ranking = _check_ranking(ranking, d)
        for i, k in enumerate(ks):
            if not 1 <= k <= len(ranking):
                raise ValueError(f"k = {k} is outside [1, {len(ranking)}] for ranking {r}")
            masks[r, i, ranking[:k]] = True
    return masks.reshape(-1, d)
