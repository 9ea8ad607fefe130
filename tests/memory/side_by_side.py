"""Chapter 6's own heavy kernels: planted activations with the readout's mean-ablation flips,
and the probes retrained on every method's top k (one probe per method and k, each seeing only
its units, as the chapter's probing accuracy does).

The probes on the top k have a third data dimension, the probes (methods times k values), so
that kernel scales it with the tokens and the neurons: a ``(probes, N, d)`` tensor would grow as
``factor**3``. The rankings, the masks and the scan are the kernels of Chapters 1 and 2.
"""

from __future__ import annotations

import torch

from utils.gaussian_probe import prefix_masks
from utils.probes import train_linear_probes
from utils.side_by_side import planted_activations, readout_flip_rate

KS = (1, 2, 4, 8, 16, 32)


def _planted_inputs(n_tokens: int, n_neurons: int, device: str):
    return n_tokens, n_neurons


def _planted(inputs) -> None:
    n, d = inputs
    planted = planted_activations(n, d, seed=0)
    readout_flip_rate(planted, [[u] for u in range(0, d, 8)])


def _top_k_probe_inputs(factor: int, device: str):
    gen = torch.Generator().manual_seed(0)
    n, d, methods = 4000 * factor, 64 * factor, 4 * factor
    x = torch.randn(n, d, generator=gen).to(device)
    y = torch.randint(0, 2, (n,), generator=gen).to(device)
    rankings = [torch.randperm(d, generator=gen) for _ in range(methods)]
    return x, y, prefix_masks(rankings, KS, d).to(device)


def _top_k_probes(inputs) -> None:
    x, y, keep = inputs
    train_linear_probes(x, y, n_classes=2, l1=1e-3, l2=1e-2, epochs=1, batch_size=64, keep=keep,
                        progress=False)  # fmt: skip


KERNELS = {
    "planted_and_flips": (_planted_inputs, _planted, (40_000, 256)),
    "probes_on_top_k": (_top_k_probe_inputs, _top_k_probes),
}
