import numpy as np
import pytest
import torch

from utils.svcca import canonical_correlations, singular_directions, svcca


def numpy_svcca(a: np.ndarray, b: np.ndarray, keep: float | int = 0.99) -> np.ndarray:
    """Plain reference: SVD-reduce each view, then CCA through the whitened cross-covariance
    ``S_aa^{-1/2} S_ab S_bb^{-1/2}`` (google/svcca's ``cca_core`` route); the correlations."""

    def reduce(x):
        x = x - x.mean(0)
        u, s, _ = np.linalg.svd(x, full_matrices=False)
        if isinstance(keep, int):
            k = keep
        else:
            share = np.cumsum(s**2) / np.sum(s**2)
            k = int(np.searchsorted(share, keep - 1e-12) + 1)
        return u[:, :k] * s[:k]

    def inv_sqrt(m):
        w, v = np.linalg.eigh(m)
        return v @ np.diag(w**-0.5) @ v.T

    ra, rb = reduce(a), reduce(b)
    ra, rb = ra - ra.mean(0), rb - rb.mean(0)
    s_aa, s_bb, s_ab = ra.T @ ra, rb.T @ rb, ra.T @ rb
    rho = np.linalg.svd(inv_sqrt(s_aa) @ s_ab @ inv_sqrt(s_bb), compute_uv=False)
    return rho[: min(ra.shape[1], rb.shape[1])]


def correlated_views(n=400, d_a=12, d_b=9, seed=0):
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, 5))
    a = shared @ rng.normal(size=(5, d_a)) + 0.5 * rng.normal(size=(n, d_a))
    b = shared @ rng.normal(size=(5, d_b)) + 0.8 * rng.normal(size=(n, d_b))
    return a, b


@pytest.mark.parametrize("keep", [0.99, 0.9, 4])
def test_matches_the_numpy_reference(keep):
    a, b = correlated_views()
    expected = numpy_svcca(a, b, keep)
    result = canonical_correlations(torch.tensor(a), torch.tensor(b), keep)
    n = int(result.n_directions)
    assert n == len(expected)
    np.testing.assert_allclose(result.correlations[:n].numpy(), expected, atol=1e-4)
    assert float(result.mean) == pytest.approx(expected.mean(), abs=1e-4)


def test_batched_equals_one_pair_at_a_time():
    pairs = [correlated_views(seed=s) for s in range(4)]
    a = torch.tensor(np.stack([p[0] for p in pairs]))
    b = torch.tensor(np.stack([p[1] for p in pairs]))
    batched = svcca(a, b)
    for i, (x, y) in enumerate(pairs):
        assert float(batched[i]) == pytest.approx(numpy_svcca(x, y).mean(), abs=1e-4)
    # broadcasting: every view of a against the first view of b
    torch.testing.assert_close(svcca(a, b[0]), torch.stack([svcca(x, b[0]) for x in a]))
    # every view of a against every view of b, pair by pair (no broadcast copy of the tokens)
    table = svcca(a[:, None], b[None])
    assert table.shape == (4, 4)
    torch.testing.assert_close(table[2, 1], svcca(a[2], b[1]))
    torch.testing.assert_close(table.diagonal(), batched)


def test_invariant_to_invertible_linear_maps():
    a, b = correlated_views()
    rng = np.random.default_rng(1)
    mixed_a = a @ rng.normal(size=(12, 12)) + 3.0  # invertible map and a shift
    mixed_b = b @ rng.normal(size=(9, 9))
    before = svcca(torch.tensor(a), torch.tensor(b), keep=None)
    after = svcca(torch.tensor(mixed_a), torch.tensor(mixed_b), keep=None)
    assert float(after) == pytest.approx(float(before), abs=1e-6)


def test_identical_and_independent_views():
    a, _ = correlated_views()
    assert float(svcca(torch.tensor(a), torch.tensor(a))) == pytest.approx(1.0, abs=1e-8)
    rng = np.random.default_rng(2)
    noise = torch.tensor(rng.normal(size=(20000, 3)))
    other = torch.tensor(rng.normal(size=(20000, 3)))
    assert float(svcca(noise, other)) < 0.05


def test_rank_deficient_views_keep_only_real_directions():
    a, _ = correlated_views()
    x = torch.tensor(np.concatenate([a, a[:, :3]], axis=1))  # 3 duplicated columns
    _, kept = singular_directions(x, keep=None)
    assert int(kept) == 12


def test_bad_inputs_are_named():
    a = torch.randn(10, 3)
    with pytest.raises(ValueError, match="same tokens"):
        svcca(a, torch.randn(11, 3))
    with pytest.raises(ValueError, match="fraction"):
        svcca(a, a, keep=1.5)
    with pytest.raises(ValueError, match="NaN"):
        svcca(a, torch.full((10, 3), float("nan")))


def google_leading_mean(rho: np.ndarray, threshold: float = 0.98) -> float:
    """google/svcca's summary, written as its loop: the smallest i with sum(rho[:i]) reaching
    `threshold` of the total, then the mean of rho[:i]."""
    for i in range(len(rho) + 1):
        if np.sum(rho[:i]) / np.sum(rho) >= threshold:
            return float(np.mean(rho[:i]))
    return float(np.mean(rho))


@pytest.mark.parametrize("threshold", [0.5, 0.9, 0.98, 1.0])
def test_leading_mean_matches_google_summary(threshold):
    a, b = correlated_views()
    rho = numpy_svcca(a, b, keep=a.shape[1])  # no truncation, as the thesis's script
    ours = svcca(torch.tensor(a), torch.tensor(b), keep=None, threshold=threshold)
    assert float(ours) == pytest.approx(google_leading_mean(rho, threshold), abs=1e-8)
    # the leading correlations are the largest: their mean is at least the plain mean
    assert float(ours) >= float(svcca(torch.tensor(a), torch.tensor(b), keep=None)) - 1e-12
    with pytest.raises(ValueError, match="threshold"):
        svcca(torch.tensor(a), torch.tensor(b), threshold=0.0)


def test_chunked_tokens_and_device_give_the_same_correlations():
    """Token chunks (the memory bound) change nothing; nor does computing elsewhere."""
    pairs = [correlated_views(seed=s) for s in range(3)]
    a = torch.tensor(np.stack([p[0] for p in pairs])).float()
    b = torch.tensor(np.stack([p[1] for p in pairs])).float()
    whole = canonical_correlations(a[:, None], b[None], keep=None)
    for chunk in (1, 7, 128):
        part = canonical_correlations(a[:, None], b[None], keep=None, chunk_tokens=chunk)
        torch.testing.assert_close(part.correlations, whole.correlations, atol=1e-10, rtol=0)
        torch.testing.assert_close(part.n_directions, whole.n_directions)
    on_cpu = svcca(a, b, keep=0.99, threshold=0.98, device="cpu", chunk_tokens=50)
    torch.testing.assert_close(on_cpu, svcca(a, b, keep=0.99, threshold=0.98), atol=1e-10, rtol=0)


def test_matches_the_explicit_bases():
    """The Gram-matrix route equals the singular values of Q_A^T Q_B from the explicit bases."""
    a, b = (torch.tensor(x) for x in correlated_views(seed=3))
    for keep in (None, 0.9, 5):
        qa, ka = singular_directions(a, keep)
        qb, kb = singular_directions(b, keep)
        expected = torch.linalg.svdvals(qa.T @ qb).clamp(max=1.0)[: min(int(ka), int(kb))]
        result = canonical_correlations(a, b, keep, chunk_tokens=33)
        n = int(result.n_directions)
        torch.testing.assert_close(result.correlations[:n], expected, atol=1e-10, rtol=0)


def test_groups_of_pairs_within_a_small_budget(monkeypatch):
    """With a budget of a few pairs' matrices, pairs go group by group: same correlations."""
    import utils.svcca

    a = torch.tensor(np.stack([correlated_views(seed=s)[0] for s in range(5)]))
    b = torch.tensor(np.stack([correlated_views(seed=s)[1] for s in range(3)]))
    whole = svcca(a[:, None], b[None], keep=None)
    monkeypatch.setattr(utils.svcca, "PAIR_GROUP", 2)
    grouped = svcca(a[:, None], b[None], keep=None)
    torch.testing.assert_close(grouped, whole, atol=1e-10, rtol=0)
