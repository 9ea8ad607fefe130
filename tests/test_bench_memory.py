"""The memory benchmark tells a kernel holding a (K, N, D) tensor from a linear one."""

import torch

from tests.bench_memory import FACTORS, TOLERANCE, measure


def _inputs(factor: int, device: str, n_tokens: int = 600):
    """N tokens, D neurons and K masks, all scaled by ``factor``."""
    n, d, k = n_tokens * factor, 100 * factor, 8 * factor
    return torch.randn(n, d), torch.randn(k, d, 4)


def _more_tokens(factor: int, device: str):
    """As :func:`_inputs` with more tokens, so that the matmul's (N, K * 4) output is large
    enough (about 1 MiB at 1x) to measure."""
    return _inputs(factor, device, n_tokens=8000)


def _broadcast(inputs) -> None:
    x, w = inputs
    (x[None, :, :, None] * w[:, None]).sum(2)  # (K, N, D, 4): a product of three data sizes


def _matmul(inputs) -> None:
    x, w = inputs
    x @ w.permute(1, 0, 2).reshape(x.shape[1], -1)  # (N, K * 4)


KERNELS = {"broadcast": (_inputs, _broadcast), "matmul": (_more_tokens, _matmul)}


def test_growth_faster_than_the_square_is_caught():
    where = "tests.test_bench_memory"
    growth = {}
    for name in ("broadcast", "matmul"):
        peaks = [max(measure(f"test_bench_memory.{name}", s, "cpu", where), 1) for s in FACTORS]
        growth[name] = peaks[-1] / peaks[0]
    assert growth["broadcast"] > TOLERANCE * FACTORS[-1] ** 2, growth
    assert growth["matmul"] < TOLERANCE * FACTORS[-1] ** 2, growth
