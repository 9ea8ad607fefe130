"""Chapter 0's heavy kernel: a grid of linear probes over every neuron of a layer."""

from __future__ import annotations

import torch

from utils.probes import train_linear_probes

N_CLASSES = 17


def _probe_inputs(n_tokens: int, n_neurons: int, device: str):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_tokens, n_neurons, generator=gen).to(device)
    y = torch.randint(0, N_CLASSES, (n_tokens,), generator=gen).to(device)
    return x, y


def _probe_grid(inputs) -> None:
    x, y = inputs
    train_linear_probes(x, y, n_classes=N_CLASSES, l1=[0.0, 1e-4], l2=[0.0, 1e-4], epochs=1,
                        batch_size=256, progress=False)  # fmt: skip


KERNELS = {"linear_probe_grid": (_probe_inputs, _probe_grid, (20_000, 384))}
