"""Benchmark the kernels of Linguistic Correlation Analysis against their plain loops.

Run as ``python tests/bench_rankings.py``; prints both timings and the ratio of each:

* the 7 x 7 lambda grid (Algorithm 2) in one batched training, against 49 probes trained
  one after the other, with the largest accuracy difference between the two;
* the top/bottom retraining of Algorithm 2 (98 masked probes in one call) against 98 probes
  on zeroed inputs one by one;
* Algorithm 3 for every grid point, vectorised against the printed loop;
* Probeless, sorted-means closed form against the loop over class pairs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.naive import train_probe_alone  # noqa: E402
from tests.naive_rankings import naive_neuron_ordering, naive_probeless_scores  # noqa: E402
from utils.lca import GRID_VALUES  # noqa: E402
from utils.probes import train_linear_probes  # noqa: E402
from utils.rankings import neuron_ordering, probeless_scores  # noqa: E402


def timed(run):
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def report(name: str, loop: float, batched: float) -> None:
    print(
        f"{name}\n  one at a time: {loop:8.2f} s\n  batched:       {batched:8.2f} s\n"
        f"  speed-up:      {loop / batched:8.1f}x"
    )


def main(n: int = 2000, d: int = 768, n_classes: int = 12, epochs: int = 3) -> None:
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=gen)
    y = (x[:, :n_classes] + 0.5 * torch.randn(n, n_classes, generator=gen)).argmax(1)
    l1 = [a for a in GRID_VALUES for _ in GRID_VALUES]
    l2 = [b for _ in GRID_VALUES for b in GRID_VALUES]
    kwargs = dict(epochs=epochs, batch_size=128, lr=1e-3, seed=0)
    print(f"{n} examples x {d} neurons, {n_classes} classes, {epochs} epochs, 1 thread\n")

    grid, t_grid = timed(lambda: train_linear_probes(x, y, l1=l1, l2=l2, progress=False, **kwargs))
    alone, t_loop = timed(
        lambda: [train_probe_alone(x, y, n_classes, a, b, **kwargs) for a, b in zip(l1, l2)]
    )
    accuracy = grid.accuracy(x, y)
    reference = torch.stack([((x @ w + b).argmax(1) == y).float().mean() for w, b in alone])
    report(f"lambda grid, {len(l1)} probes", t_loop, t_grid)
    print(f"  largest accuracy difference: {100 * (accuracy - reference).abs().max():.3f} points\n")

    count = d // 5
    keep = torch.zeros(2 * len(l1), d, dtype=torch.bool)
    for g in range(len(l1)):
        ordering, _ = neuron_ordering(grid.weight[g])
        keep[2 * g, ordering[:count]] = True
        keep[2 * g + 1, ordering[-count:]] = True
    pairs = dict(l1=torch.tensor(l1).repeat_interleave(2), l2=torch.tensor(l2).repeat_interleave(2))
    _, t_masked = timed(
        lambda: train_linear_probes(x, y, keep=keep, progress=False, **pairs, **kwargs)
    )
    _, t_zeroed = timed(
        lambda: [
            train_probe_alone(
                x * keep[k], y, n_classes, float(pairs["l1"][k]), float(pairs["l2"][k]), **kwargs
            )
            for k in range(len(keep))
        ]
    )
    report(f"top/bottom retraining, {len(keep)} probes", t_zeroed, t_masked)

    weights = grid.weight[:3]
    _, t_fast = timed(lambda: [neuron_ordering(w) for w in weights])
    _, t_naive = timed(lambda: [naive_neuron_ordering(w) for w in weights])
    report(f"\nAlgorithm 3 on {len(weights)} probes of {d} neurons", t_naive, t_fast)

    x_big = torch.randn(20000, 2688, generator=gen)
    y_big = torch.randint(0, 45, (20000,), generator=gen)
    _, t_closed = timed(lambda: probeless_scores(x_big, y_big))
    _, t_pairs = timed(lambda: naive_probeless_scores(x_big, y_big))
    report("\nProbeless, 20000 x 2688, 45 classes", t_pairs, t_closed)


if __name__ == "__main__":
    main()
