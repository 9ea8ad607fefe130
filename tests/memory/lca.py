"""Chapter 3's heavy kernels: zero-out accuracy over K neuron masks (Table 2 and the
widget's curves), the probes' batched training (the lambda grid, the probes of many tasks
and seeds in one call), scoring a grid of probes, and the neuron-by-neuron correlations of
the redundancy section."""

from __future__ import annotations

import torch

from utils.lca import ProbeJob, ProbeSettings, train_probe_jobs, zero_out_accuracy
from utils.probes import LinearProbe, train_linear_probes
from utils.redundancy import neuron_correlations

N_CLASSES = 17
N_MASKS = 18  # at the base sizes: the widget's 3 selections x 6 sizes (Table 2: 25 masks)
N_GRID = 9
ZERO_OUT_NEURONS = 768  # the base width of the zero-out kernel


def _inputs(n_tokens: int, n_neurons: int, device: str):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_tokens, n_neurons, generator=gen).to(device)
    y = torch.randint(0, N_CLASSES, (n_tokens,), generator=gen).to(device)
    return x, y


def _probe(n_probes: int, n_neurons: int, device: str) -> LinearProbe:
    gen = torch.Generator().manual_seed(1)
    weight = torch.randn(n_probes, n_neurons, N_CLASSES, generator=gen).to(device)
    zeros = torch.zeros(n_probes, device=device)
    return LinearProbe(weight, torch.zeros(n_probes, N_CLASSES, device=device), zeros, zeros)


def _zero_out_inputs(n_tokens: int, n_neurons: int, device: str):
    # the masks scale with the words and the neurons too (a third size): a (K, N, D) tensor,
    # what the three-operand einsum held, then grows s**3 and fails; (D, K C) grows s**2
    n_masks = N_MASKS * max(1, n_neurons // ZERO_OUT_NEURONS)
    x, y = _inputs(n_tokens, n_neurons, device)
    masks = torch.rand(n_masks, n_neurons, generator=torch.Generator().manual_seed(2)) < 0.2
    return _probe(1, n_neurons, device), x, y, masks.to(device)


def _zero_out(inputs) -> None:
    probe, x, y, masks = inputs
    zero_out_accuracy(probe, x, y, masks)


def _grid_scores_inputs(n_tokens: int, n_neurons: int, device: str):
    x, y = _inputs(n_tokens, n_neurons, device)
    return _probe(N_GRID, n_neurons, device), x, y


def _grid_scores(inputs) -> None:
    probe, x, y = inputs
    probe.accuracy(x, y)


def _probe_grid(inputs) -> None:
    x, y = inputs
    values = [0.0, 1e-4, 1e-2]
    train_linear_probes(x, y, n_classes=N_CLASSES, l1=[a for a in values for _ in values],
                        l2=[b for _ in values for b in values], epochs=1, batch_size=256,
                        progress=False)  # fmt: skip


def _probe_jobs(inputs) -> None:
    x, y = inputs
    d = x.shape[1]
    jobs = [ProbeJob(y, N_CLASSES, 1e-4, 0.0, seed) for seed in (0, 1000, 2000)]
    jobs += [ProbeJob(y, N_CLASSES, 1e-4, 0.0, 0, torch.arange(n)) for n in (d // 20, d // 5)]
    train_probe_jobs(x, jobs, ProbeSettings(epochs=1, batch_size=256))


def _correlations(inputs) -> None:
    x, _ = inputs
    neuron_correlations(x)


KERNELS = {
    "zero_out_accuracy": (_zero_out_inputs, _zero_out, (40_000, ZERO_OUT_NEURONS)),
    "grid_accuracy": (_grid_scores_inputs, _grid_scores, (40_000, 768)),
    "probe_grid": (_inputs, _probe_grid, (10_000, 384)),
    "probe_jobs": (_inputs, _probe_jobs, (10_000, 384)),
    "neuron_correlations": (_inputs, _correlations, (20_000, 384)),
}
