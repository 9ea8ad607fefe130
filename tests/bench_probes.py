"""Benchmark: a 7 x 7 elastic-net grid trained at once against 49 separate probes, and
zero-out accuracy over K neuron masks (one ``(n, D) @ (D, K C)`` product a chunk of words)
against a loop over the masks and against the three-operand einsum it replaced.

Run as ``python tests/bench_probes.py``; prints the timings and the ratios.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.naive import train_probe_alone  # noqa: E402
from utils.lca import zero_out_accuracy  # noqa: E402
from utils.probes import LinearProbe, train_linear_probes  # noqa: E402


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


def zero_out(n: int = 4000, d: int = 2688, n_classes: int = 45, k: int = 25) -> None:
    """Table 2's zero-out at the chapter's ci width (7 x 384 neurons), 25 masks."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=gen)
    y = torch.randint(0, n_classes, (n,), generator=gen)
    probe = LinearProbe(0.05 * torch.randn(1, d, n_classes, generator=gen),
                        torch.zeros(1, n_classes), torch.zeros(1), torch.zeros(1))  # fmt: skip
    masks = torch.rand(k, d, generator=gen) < 0.2

    start = time.perf_counter()
    batched = zero_out_accuracy(probe, x, y, masks)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    loop = torch.stack([probe.accuracy(x * m, y)[0] for m in masks])
    t_loop = time.perf_counter() - start
    start = time.perf_counter()  # the replaced kernel: materialises (K, N, D)
    logits = torch.einsum("nd,kd,dc->knc", x, masks.float(), probe.weight[0]) + probe.bias[0]
    einsum3 = (logits.argmax(-1) == y).float().mean(-1)
    t_einsum3 = time.perf_counter() - start
    assert torch.allclose(batched, loop, atol=1.01 / n) and torch.allclose(batched, einsum3)
    print(f"zero-out, {k} masks, {n} words x {d} neurons, {n_classes} classes")
    print(f"one mask at a time:       {t_loop:7.2f} s")
    print(f"three-operand einsum:     {t_einsum3:7.2f} s (a ({k}, {n}, {d}) tensor)")
    print(f"one product per chunk:    {t_batched:7.2f} s")
    print(f"speed-up over the loop:   {t_loop / t_batched:7.1f}x")
    print(f"speed-up over the einsum: {t_einsum3 / t_batched:7.1f}x")


if __name__ == "__main__":
    main()
    zero_out()
