"""The Gaussian probe, its greedy ranking and the batched per-subset linear probes, each
against a naive reference (one refit or one training per candidate)."""

import math

import pytest
import torch
from scipy.stats import multivariate_normal

from utils.gaussian_probe import (
    fit_gaussian_probe,
    greedy_ranking,
    mutual_information_bits,
    prefix_masks,
    train_prefix_linear_probes,
)


def planted_data(n=300, d=12, n_classes=3, seed=0):
    """Random correlated neurons; neuron ``d // 2`` alone carries the class."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=gen)
    mixing = torch.randn(d, d, generator=gen) / math.sqrt(d)
    x = torch.randn(n, d, generator=gen) @ mixing
    x[:, d // 2] += 1.5 * y.float()
    return x, y


def naive_log_joint(probe, x, neurons):
    """``(N, C)`` log p(h_S, z) from scipy's multivariate normal on the marginal."""
    columns = []
    for c in range(probe.n_classes):
        mean = probe.means[c, neurons].numpy()
        cov = probe.covariances[c][neurons][:, neurons].numpy()
        columns.append(torch.from_numpy(multivariate_normal(mean, cov).logpdf(x[:, neurons])))
    return torch.stack(columns, -1).reshape(len(x), -1) + probe.log_prior


def naive_greedy(probe, x, y, n_neurons, best=True):
    """Refit the marginal for every candidate at every step."""
    x = x.double()
    order = []
    for _ in range(n_neurons):
        scores = {}
        for j in range(probe.n_neurons):
            if j not in order:
                log_joint = naive_log_joint(probe, x, order + [j])
                scores[j] = float(mutual_information_bits(log_joint, y))
        order.append(max(scores, key=scores.get) if best else min(scores, key=scores.get))
    return order


def test_map_covariance_formula():
    x, y = planted_data(n=50, d=4, n_classes=2)
    probe = fit_gaussian_probe(x, y)
    members = x[y == 0].double()
    scatter = (members - members.mean(0)).T @ (members - members.mean(0))
    expected = (torch.diag(torch.cov(members.T).diagonal()) + scatter) / (len(members) + 12)
    assert torch.allclose(probe.covariances[0], expected)


def test_prefix_log_joint_matches_scipy_marginals():
    x, y = planted_data()
    probe = fit_gaussian_probe(x, y)
    ranking = torch.tensor([7, 2, 5, 0, 11])
    prefix = probe.prefix_log_joint(x, ranking)
    for k in (1, 3, 5):
        naive = naive_log_joint(probe, x.double(), ranking[:k].tolist())
        assert torch.allclose(prefix[k - 1], naive, atol=1e-8)


@pytest.mark.parametrize("best", [True, False])
def test_batched_greedy_equals_refit_per_candidate(best):
    x, y = planted_data()
    probe = fit_gaussian_probe(x[:200], y[:200])
    fast = greedy_ranking(probe, x[200:], y[200:], n_neurons=6, best=best, progress=False)
    assert fast.tolist() == naive_greedy(probe, x[200:], y[200:], 6, best=best)


@pytest.mark.parametrize("best", [True, False])
def test_greedy_over_chunks_of_examples_equals_the_refit(best):
    # chunks of 7 dev examples (the (C, N, d) intermediates are never whole)
    x, y = planted_data()
    probe = fit_gaussian_probe(x[:200], y[:200])
    chunked = greedy_ranking(
        probe, x[200:], y[200:], n_neurons=6, best=best, progress=False, max_elements=3 * 12 * 7
    )
    assert chunked.tolist() == naive_greedy(probe, x[200:], y[200:], 6, best=best)


@pytest.mark.parametrize("best", [True, False])
def test_greedy_without_the_residual_state_equals_the_refit(best):
    # max_state=0: no (C, N, d) tensor; each chunk's residuals recomputed from the regression
    x, y = planted_data()
    probe = fit_gaussian_probe(x[:200], y[:200])
    fast = greedy_ranking(probe, x[200:], y[200:], n_neurons=6, best=best, progress=False)
    for elements in (3 * 12 * 7, 10**9):
        recomputed = greedy_ranking(probe, x[200:], y[200:], n_neurons=6, best=best,
                                    progress=False, max_elements=elements, max_state=0)  # fmt: skip
        assert recomputed.tolist() == fast.tolist()
    assert fast.tolist() == naive_greedy(probe, x[200:], y[200:], 6, best=best)


def test_prefix_scores_over_chunks_equal_the_whole():
    x, y = planted_data()
    probe = fit_gaussian_probe(x[:200], y[:200])
    ranking = torch.tensor([6, 2, 5, 0, 11])
    for small in (1, 3 * 5 * 9):  # one example per chunk, 9 per chunk
        assert torch.equal(
            probe.prefix_accuracy(x[200:], y[200:], ranking),
            probe.prefix_accuracy(x[200:], y[200:], ranking, max_elements=small),
        )
        assert torch.allclose(
            probe.prefix_mutual_information(x[200:], y[200:], ranking),
            probe.prefix_mutual_information(x[200:], y[200:], ranking, max_elements=small),
            atol=1e-12,
        )


def test_planted_neuron_ranks_first():
    x, y = planted_data(d=30, n=600)
    probe = fit_gaussian_probe(x[:400], y[:400])
    ranking = greedy_ranking(probe, x[400:], y[400:], n_neurons=3, progress=False)
    assert ranking[0] == 15
    worst = greedy_ranking(probe, x[400:], y[400:], n_neurons=29, best=False, progress=False)
    assert 15 not in worst[:10].tolist()


def test_full_greedy_is_a_permutation():
    x, y = planted_data()
    probe = fit_gaussian_probe(x, y)
    ranking = greedy_ranking(probe, x, y, progress=False)
    assert sorted(ranking.tolist()) == list(range(x.shape[1]))


def test_mutual_information_bounds():
    y = torch.tensor([0, 1, 0, 1])
    perfect = torch.tensor([[0.0, -50], [-50, 0], [0, -50], [-50, 0]])
    assert math.isclose(float(mutual_information_bits(perfect, y)), 1.0, abs_tol=1e-6)
    assert float(mutual_information_bits(torch.zeros(4, 2), y)) == pytest.approx(0.0)


def naive_subset_probe(x, y, neurons, mask_row, seed, **recipe):
    """``nn.Linear(k, C)`` on the chosen columns, trained alone with the same recipe."""
    n_classes = int(y.max()) + 1
    gen = torch.Generator().manual_seed(seed)
    unit_w = torch.rand(x.shape[1], n_classes, generator=gen) * 2 - 1
    unit_b = torch.rand(n_classes, generator=gen) * 2 - 1
    bound = 1 / math.sqrt(len(neurons))
    layer = torch.nn.Linear(len(neurons), n_classes)
    with torch.no_grad():
        layer.weight.copy_((unit_w[neurons] * bound).T)
        layer.bias.copy_(unit_b * bound)
    optimizer = torch.optim.Adam(layer.parameters(), lr=recipe["lr"])
    for _ in range(recipe["epochs"]):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), recipe["batch_size"]):
            idx = order[start : start + recipe["batch_size"]]
            loss = torch.nn.functional.cross_entropy(layer(x[idx][:, neurons]), y[idx])
            loss = (
                loss + recipe["l1"] * layer.weight.abs().sum() + recipe["l2"] * layer.weight.norm()
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return layer


def test_batched_subset_probes_equal_separate_trainings():
    x, y = planted_data(n=120, d=10)
    rankings = [torch.arange(10), torch.arange(10).flip(0)]
    masks = prefix_masks(rankings, [1, 4], 10)
    recipe = {"l1": 1e-3, "l2": 1e-2, "epochs": 3, "batch_size": 16, "lr": 1e-2}
    batched = train_prefix_linear_probes(x, y, masks, seed=3, progress=False, **recipe)
    for g, row in enumerate(masks):
        neurons = torch.nonzero(row).squeeze(1)
        naive = naive_subset_probe(x, y, neurons, row, seed=3, **recipe)
        assert torch.allclose(batched.weight[g][neurons].T, naive.weight.detach(), atol=1e-5)
        assert torch.all(batched.weight[g][~row] == 0)
        assert torch.allclose(batched.bias[g], naive.bias.detach(), atol=1e-5)


def test_bad_inputs_are_named():
    x, y = planted_data(n=20, d=4)
    with pytest.raises(ValueError, match="at least 2 examples"):
        fit_gaussian_probe(x[:3], torch.tensor([0, 1, 1]))
    probe = fit_gaussian_probe(x, y)
    with pytest.raises(ValueError, match="distinct neuron"):
        probe.prefix_log_joint(x, torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="neurons but the probe"):
        greedy_ranking(probe, x[:, :3], y)
    with pytest.raises(ValueError, match="at least one neuron"):
        train_prefix_linear_probes(x, y, torch.zeros(2, 4, dtype=torch.bool))
