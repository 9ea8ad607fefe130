"""Benchmark: the batched kernels of the pitfalls chapter against naive loops, at d = 384.

1. Greedy GAUSSIAN selection: all candidates scored at once by rank-one (Schur complement)
   updates, against refitting the marginal Gaussian of every candidate at every step: over
   the first steps, at one late step, and over a whole ranking of 100 neurons.
2. Linear probes on the top-k neurons of several rankings: one batched training against one
   training per (ranking, k).

Run: python tests/bench_gaussian_probe.py
"""

import math
import time

import numpy as np
import torch

from utils.gaussian_probe import (
    fit_gaussian_probe,
    greedy_ranking,
    mutual_information_bits,
    prefix_masks,
    train_prefix_linear_probes,
)

D, N_TRAIN, N_DEV, STEPS, LATE = 384, 4000, 1000, 15, 100


def data(n, seed):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=gen)
    mixing = torch.randn(D, D, generator=gen) / math.sqrt(D)
    x = torch.randn(n, D, generator=gen) @ mixing
    x[:, :20] += 0.3 * y.float()[:, None]
    return x, y


def naive_greedy(probe, x, y, steps, start=()):
    """One Cholesky refit of the marginal per class and candidate at every step."""
    x = x.double()
    order = list(start)
    for _ in range(steps):
        best, best_score = None, -math.inf
        for j in range(D):
            if j in order:
                continue
            subset = order + [j]
            columns = []
            for c in range(probe.n_classes):
                chol = torch.linalg.cholesky(probe.covariances[c][subset][:, subset])
                centred = (x[:, subset] - probe.means[c, subset]).T
                z = torch.linalg.solve_triangular(chol, centred, upper=False)
                log_det = chol.diagonal().log().sum()
                columns.append(
                    -0.5 * z.pow(2).sum(0) - log_det - 0.5 * len(subset) * math.log(2 * math.pi)
                )
            score = float(mutual_information_bits(torch.stack(columns, -1) + probe.log_prior, y))
            if score > best_score:
                best, best_score = j, score
        order.append(best)
    return order


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def bench_greedy():
    x, y = data(N_TRAIN + N_DEV, 0)
    probe = fit_gaussian_probe(x[:N_TRAIN], y[:N_TRAIN])
    dev_x, dev_y = x[N_TRAIN:], y[N_TRAIN:]
    fast, t_fast = timed(
        lambda: greedy_ranking(probe, dev_x, dev_y, n_neurons=STEPS, progress=False)
    )
    slow, t_slow = timed(lambda: naive_greedy(probe, dev_x, dev_y, STEPS))
    assert fast.tolist() == slow, "the batched and naive greedy rankings differ"
    print(f"greedy selection, d={D}, {N_DEV} dev examples, first {STEPS} steps:")
    print(f"  naive refit per candidate {t_slow:8.2f} s")
    print(f"  batched Schur complements {t_fast:8.2f} s   ratio {t_slow / t_fast:6.1f}x")
    # later steps: the naive refit grows with |S|, the batched step does not
    long, t_long = timed(
        lambda: greedy_ranking(probe, dev_x, dev_y, n_neurons=LATE, progress=False)
    )
    _, t_step = timed(lambda: naive_greedy(probe, dev_x, dev_y, 1, start=long[: LATE - 1].tolist()))
    per_step = t_long / LATE
    print(
        f"one step at |S| = {LATE - 1}: naive {t_step:.2f} s, batched {per_step:.3f} s on average"
    )
    print(f"  ratio {t_step / per_step:6.1f}x")
    # a whole ranking of LATE neurons, as the chapter computes one: the naive cost of every
    # step is interpolated between steps timed at a few sizes of S
    sizes = [0, LATE // 4, LATE // 2, 3 * LATE // 4, LATE - 1]
    step_costs = [
        timed(lambda n=n: naive_greedy(probe, dev_x, dev_y, 1, start=long[:n].tolist()))[1]
        for n in sizes
    ]
    naive_total = float(np.interp(np.arange(LATE), sizes, step_costs).sum())
    print(f"a whole ranking of {LATE} neurons (naive steps timed at |S| in {sizes}):")
    ratio = naive_total / t_long
    print(f"  naive ~{naive_total:.0f} s, batched {t_long:.2f} s   ratio {ratio:6.1f}x")


def bench_prefix_probes():
    x, y = data(3000, 1)
    rankings = [torch.randperm(D, generator=torch.Generator().manual_seed(s)) for s in range(7)]
    ks = [1, 10, 50, 150]
    masks = prefix_masks(rankings, ks, D)
    recipe = {"epochs": 2, "batch_size": 32, "lr": 1e-2, "seed": 0, "progress": False}
    _, t_fast = timed(lambda: train_prefix_linear_probes(x, y, masks, **recipe))

    def sequential():
        for row in masks:
            neurons = torch.nonzero(row).squeeze(1)
            train_prefix_linear_probes(x[:, neurons], y, torch.ones(1, len(neurons)), **recipe)

    _, t_slow = timed(sequential)
    print(f"linear probes on top-k neurons, {len(rankings)} rankings x k in {ks}, 3000 examples:")
    print(f"  one training per (ranking, k) {t_slow:8.2f} s")
    print(f"  batched masked training      {t_fast:8.2f} s   ratio {t_slow / t_fast:6.1f}x")


if __name__ == "__main__":
    torch.set_num_threads(1)  # stable timings on a shared machine; both sides get one thread
    bench_greedy()
    bench_prefix_probes()
