"""A non-linear probe: a one-hidden-layer ReLU MLP (Hewitt and Liang 2019's MLP-1).

Hewitt and Liang find that linear probes are more *selective* than MLP probes: an MLP fits
a control task (each word type given a random label) almost as well as the real one, so the
gap between the two, the selectivity, shrinks. Durrani, Dalvi and Sajjad cite the finding
as the reason for their linear probes (Sec. 3) and say they observed it too. The probe is
trained with Adam on shuffled mini-batches that are copied to the device one at a time, so
the words may stay in host memory, as for :func:`utils.probes.train_linear_probes`.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = ["mlp_accuracy", "seeded_mlp", "train_mlp_probe"]


def seeded_mlp(n_in: int, hidden: int, n_out: int, generator: torch.Generator) -> nn.Sequential:
    """``Linear(n_in, hidden) -> ReLU -> Linear(hidden, n_out)``, each weight and bias drawn
    from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (the distribution of ``nn.Linear``'s own
    initialisation) with ``generator``: reproducible from its seed whatever the global
    generator went through before."""
    net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
    with torch.no_grad():
        for layer in (net[0], net[2]):
            bound = layer.in_features**-0.5
            for param in (layer.weight, layer.bias):
                param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * bound)
    return net


def train_mlp_probe(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    *,
    hidden: int = 256,
    epochs: int = 10,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> nn.Sequential:
    """Fit ``Linear(D, hidden) -> ReLU -> Linear(hidden, n_classes)`` to ``(x, y)`` by
    mean cross-entropy.

    Parameters
    ----------
    x, y
        ``(N, D)`` features and ``(N,)`` labels in ``[0, n_classes)``, on any device.
    hidden
        Hidden units.
    epochs, batch_size, lr
        Adam on shuffled mini-batches.
    seed
        Seeds the initialisation and the shuffles.
    device
        Where the probe trains.

    Returns
    -------
    The trained probe, in eval mode, on ``device``.
    """
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"x must be (N, D) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if len(y) and not 0 <= int(y.min()) <= int(y.max()) < n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes}), got {int(y.min())}..{int(y.max())}")
    generator = torch.Generator().manual_seed(seed)  # the initialisation, then the shuffles
    probe = seeded_mlp(x.shape[1], hidden, n_classes, generator).to(device)
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    for _ in tqdm(range(epochs), desc="MLP probe", disable=not progress, leave=False):
        for rows in torch.randperm(len(x), generator=generator).split(batch_size):
            rows = rows.to(x.device)
            loss = nn.functional.cross_entropy(
                probe(x[rows].to(device, torch.float32)), y[rows].to(device)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return probe.eval()


@torch.no_grad()
def mlp_accuracy(probe: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 4096) -> float:
    """Share of ``(x, y)`` the probe labels right, ``chunk`` rows on its device at a time."""
    device = next(probe.parameters()).device
    right = sum(
        int(
            (
                probe(x[s : s + chunk].to(device, torch.float32)).argmax(1).cpu()
                == y[s : s + chunk].cpu()
            ).sum()
        )
        for s in range(0, len(x), chunk)
    )
    return right / max(1, len(x))
