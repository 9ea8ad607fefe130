"""Kernels on a CUDA device agree with their CPU results (``make gpu-check``; skipped without one).

Each test runs one kernel on the same inputs on the CPU and on ``cuda`` and compares; the
deterministic kernels must agree to floating-point tolerance, the trained ones must reach
the same quality.
"""

from __future__ import annotations

import time

import pytest
import torch

from utils.activations import extract_activations
from utils.gaussian_probe import fit_gaussian_probe, greedy_ranking
from utils.probes import train_linear_probes
from utils.rankings import neuron_ordering, probeless_scores
from utils.svcca import svcca

pytestmark = pytest.mark.gpu
CUDA = torch.device("cuda")


def timed(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and its wall time, the device synchronised around it."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def report(name: str, t_cpu: float, t_gpu: float) -> None:
    print(f"{name}: cpu {t_cpu * 1e3:.1f} ms, cuda {t_gpu * 1e3:.1f} ms ({t_cpu / t_gpu:.1f}x)")


def test_activations_agree(minilm):
    model, tokenizer = minilm
    sentences = [["The", "keys", "to", "the", "cabinet", "are", "on", "the", "table", "."]] * 16
    cpu, t_cpu = timed(extract_activations, model, tokenizer, sentences, progress=False)
    gpu, t_gpu = timed(extract_activations, model.to(CUDA), tokenizer, sentences, progress=False)
    model.cpu()
    report("activations", t_cpu, t_gpu)
    assert torch.allclose(cpu.values, gpu.values.cpu(), atol=1e-4)


def test_rankings_agree():
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(12, 768, generator=gen)
    x, y = torch.randn(4000, 768, generator=gen), torch.randint(0, 12, (4000,), generator=gen)
    order, t_cpu = timed(neuron_ordering, weight)
    order_gpu, t_gpu = timed(neuron_ordering, weight.to(CUDA))
    report("neuron_ordering", t_cpu, t_gpu)
    assert torch.equal(order[0], order_gpu[0].cpu())
    scores, scores_gpu = probeless_scores(x, y), probeless_scores(x.to(CUDA), y.to(CUDA))
    assert torch.allclose(scores, scores_gpu.cpu(), rtol=1e-5, atol=1e-5)


def test_svcca_agrees():
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(2000, 200, generator=gen, dtype=torch.float64)
    b = a @ torch.randn(200, 200, generator=gen, dtype=torch.float64) + torch.randn(
        2000, 200, generator=gen, dtype=torch.float64
    )
    cpu, t_cpu = timed(svcca, a, b)
    gpu, t_gpu = timed(svcca, a.to(CUDA), b.to(CUDA))
    report("svcca", t_cpu, t_gpu)
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-8)


def test_gaussian_probe_agrees():
    gen = torch.Generator().manual_seed(2)
    y = torch.randint(0, 4, (1500,), generator=gen)
    x = torch.randn(1500, 40, generator=gen, dtype=torch.float64)
    x[:, :3] += y[:, None].double()
    split = 1000
    probe = fit_gaussian_probe(x[:split], y[:split])
    ranking, t_cpu = timed(greedy_ranking, probe, x[split:], y[split:], n_neurons=8,
                           progress=False)  # fmt: skip
    probe_gpu = fit_gaussian_probe(x[:split].to(CUDA), y[:split].to(CUDA))
    ranking_gpu, t_gpu = timed(greedy_ranking, probe_gpu, x[split:].to(CUDA), y[split:].to(CUDA),
                               n_neurons=8, progress=False)  # fmt: skip
    report("greedy_ranking", t_cpu, t_gpu)
    assert torch.equal(ranking, ranking_gpu.cpu())


def test_linear_probes_reach_the_same_accuracy():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(4000, 256, generator=gen)
    y = (x[:, :6] + 0.3 * torch.randn(4000, 6, generator=gen)).argmax(1)
    grid = dict(l1=[0.0, 1e-4], l2=[0.0, 1e-4], epochs=20, lr=1e-2, progress=False)
    cpu, t_cpu = timed(train_linear_probes, x, y, **grid)
    gpu, t_gpu = timed(train_linear_probes, x, y, device=CUDA, **grid)
    report("train_linear_probes", t_cpu, t_gpu)
    accuracy = cpu.accuracy(x, y), gpu.accuracy(x, y).cpu()
    assert (accuracy[0] > 0.8).all() and torch.allclose(accuracy[0], accuracy[1], atol=0.02)
