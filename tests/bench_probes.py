"""Benchmark: a 7 x 7 elastic-net grid trained at once against 49 separate probes.

Run as ``python tests/bench_probes.py``; prints both timings and the ratio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.naive import train_probe_alone  # noqa: E402
from utils.probes import train_linear_probes  # noqa: E402


def main(n: int = 4000, d: int = 768, n_classes: int = 12, epochs: int = 2) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=gen)
    y = (x[:, :n_classes] + 0.5 * torch.randn(n, n_classes, generator=gen)).argmax(1)
    values = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    l1 = [a for a in values for _ in values]
    l2 = [b for _ in values for b in values]
    kwargs = dict(epochs=epochs, batch_size=128, lr=1e-3, seed=0)

    start = time.perf_counter()
    train_linear_probes(x, y, l1=l1, l2=l2, progress=False, **kwargs)
    t_grid = time.perf_counter() - start
    start = time.perf_counter()
    for a, b in zip(l1, l2):
        train_probe_alone(x, y, n_classes, a, b, **kwargs)
    t_loop = time.perf_counter() - start

    print(f"{len(l1)} grid points, {n} examples x {d} neurons, {epochs} epochs")
    print(f"one probe at a time: {t_loop:7.2f} s")
    print(f"whole grid at once:  {t_grid:7.2f} s")
    print(f"speed-up:            {t_loop / t_grid:7.1f}x")


if __name__ == "__main__":
    main()
