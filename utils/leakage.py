"""Leakage (Elazar & Goldberg 2018): how well an attacker recovers the non-targeted factor
from a representation, trained on one half of an (uncorrelated) set and tested on the other.
The masking paper's attacker is a "single layer MLP"; the standardised attackers here do not
see the representation's scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from utils.mlp_probe import seeded_mlp

__all__ = ["ATTACKERS", "leakage", "mlp_attacker"]


def mlp_attacker(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    hidden: int = 64,
    steps: int = 300,
    lr: float = 5e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> nn.Module:
    """A one-hidden-layer ReLU MLP trained full-batch with Adam on ``(x, y)`` (the paper's
    "single layer MLP" attacker; sklearn's ``MLPClassifier((64,))`` in PyTorch)."""
    net = seeded_mlp(x.shape[1], hidden, int(y.max()) + 1, torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net.eval()


ATTACKERS = ("mlp", "mlp_std", "logreg")


def leakage(
    z: torch.Tensor | np.ndarray,
    y_other: torch.Tensor | np.ndarray,
    *,
    attacker: str = "mlp",
    seed: int = 0,
) -> float:
    """Accuracy of an attacker predicting the non-targeted factor from ``z`` (Elazar &
    Goldberg 2018): trained on the first half of the (uncorrelated) set, tested on the second.

    ``attacker="mlp"`` is a one-hidden-layer MLP (64 units) on the raw features
    (:func:`mlp_attacker`, a fixed schedule of 300 Adam steps), as the paper's "single layer
    MLP"; it is *not* invariant to the scale of ``z``, so a representation that is merely
    shrunk can look as if it leaked less. ``"mlp_std"`` is the same MLP on features
    standardised with the training half's mean and deviation, trained for 300 steps with
    weight decay (its training loss converges on these sizes); ``"logreg"`` a logistic
    regression on standardised features. The two standardised attackers give the same
    accuracy for ``z`` and ``c * z``.
    """
    z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y_other), dtype=torch.long)
    if len(z) != len(y) or len(z) < 4:
        raise ValueError(f"need as many labels as vectors (>= 4): {len(z)} vs {len(y)}")
    if attacker not in ATTACKERS:
        raise ValueError(f"unknown attacker {attacker!r}: choose one of {ATTACKERS}")
    if not torch.isfinite(z).all():
        raise ValueError("the representation holds NaN or infinite values")
    half = len(z) // 2
    with _single_thread():  # a problem this small runs fastest (and steadiest) on one core
        if attacker in ("mlp", "mlp_std"):
            train, test = z[:half], z[half:]
            options = {}
            if attacker == "mlp_std":
                mean, std = train.mean(0), train.std(0).clamp_min(1e-8)
                train, test = (train - mean) / std, (test - mean) / std
                options = {"steps": 300, "lr": 1e-3, "weight_decay": 1e-2}
            with torch.enable_grad():
                net = mlp_attacker(train, y[:half], seed=seed, **options)
            with torch.no_grad():
                predicted = net(test).argmax(1)
            return float((predicted == y[half:]).float().mean())
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(z[:half].numpy(), y[:half].numpy())
        return float(model.score(z[half:].numpy(), y[half:].numpy()))


@contextmanager
def _single_thread() -> Iterator[None]:
    """Run PyTorch and the BLAS/OpenMP libraries on one thread inside the block."""
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)
