"""Linear probes: logistic regression with an elastic-net penalty, trained for a whole grid
of regularisation strengths at once.

For grid point ``g`` the loss is the NeuroX form used by Linguistic Correlation Analysis,

    L_g(W, b) = CE(X W_g + b_g, y) + l1_g * ||W_g||_1 + l2_g * ||W_g||_2^2,

minimised with Adam on mini-batches. Adam is element-wise, so training all grid points in one
weight tensor ``(G, D, C)`` gives exactly the probes that ``G`` separate runs with the same
seed would give, in one pass over the data and one matrix product per mini-batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm


@dataclass
class LinearProbe:
    """``G`` trained linear probes sharing input and label spaces.

    Attributes
    ----------
    weight
        ``(G, D, C)``: grid point, input neuron, class.
    bias
        ``(G, C)``.
    l1, l2
        ``(G,)`` the penalty strengths each probe was trained with.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    l1: torch.Tensor
    l2: torch.Tensor

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(G, N, C)`` class scores of ``x`` ``(N, D)`` under every probe."""
        x = x.to(self.weight)
        return torch.einsum("nd,gdc->gnc", x, self.weight) + self.bias[:, None, :]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``(G, N)`` predicted classes."""
        return self.logits(x).argmax(-1)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``(G,)`` accuracy of every probe on ``(x, y)``."""
        return (self.predict(x) == y.to(self.weight.device)).float().mean(-1)


def encode_labels(
    labels: Sequence[str], classes: Sequence[str] | None = None
) -> tuple[torch.Tensor, list[str]]:
    """Map string labels to class indices; classes are sorted unless given.

    Labels outside a given ``classes`` list are an error naming them.
    """
    classes = sorted(set(labels)) if classes is None else list(classes)
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(labels) - index.keys())
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the {len(classes)} known classes")
    return torch.tensor([index[label] for label in labels], dtype=torch.long), classes


def _check_inputs(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.ndim != 2:
        raise ValueError(f"x must be (n_examples, n_neurons), got shape {tuple(x.shape)}")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be ({len(x)},) class indices, got shape {tuple(y.shape)}")
    if len(x) == 0:
        raise ValueError("no training examples")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    if y.dtype not in (torch.int64, torch.int32) or y.min() < 0:
        raise ValueError("y must hold non-negative integer class indices (see encode_labels)")


def _as_grid(value: float | Sequence[float] | torch.Tensor, size: int, name: str) -> torch.Tensor:
    grid = torch.as_tensor(value, dtype=torch.float32).reshape(-1)
    if len(grid) == 1:
        grid = grid.expand(size)
    if len(grid) != size or (grid < 0).any():
        raise ValueError(f"{name} must be one non-negative value or {size} of them")
    return grid.clone()


def _keep_masks(
    keep: torch.Tensor | None, size: int, n_neurons: int, n_classes: int, device: torch.device
) -> torch.Tensor | None:
    """``keep`` ``(G, D)`` as a float mask laid out like the fused ``(D, G * C)`` weight."""
    if keep is None:
        return None
    if keep.shape != (size, n_neurons) or keep.dtype != torch.bool:
        raise ValueError(
            f"keep must be a ({size}, {n_neurons}) boolean mask, got {tuple(keep.shape)} "
            f"of {keep.dtype}"
        )
    return keep.T.to(device, torch.float32).repeat_interleave(n_classes, dim=1)


def train_linear_probes(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_classes: int | None = None,
    l1: float | Sequence[float] | torch.Tensor = 0.0,
    l2: float | Sequence[float] | torch.Tensor = 0.0,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    keep: torch.Tensor | None = None,
) -> LinearProbe:
    """Train one elastic-net logistic-regression probe per ``(l1[g], l2[g])`` pair at once.

    Parameters
    ----------
    x, y
        ``(N, D)`` activations and ``(N,)`` class indices.
    n_classes
        Number of classes (default: ``y.max() + 1``).
    l1, l2
        Penalty strengths: scalars, or equal-length sequences giving the grid.
    epochs, batch_size, lr
        Adam on shuffled mini-batches (the same shuffles for every grid point).
    seed
        Seeds the initialisation (identical for every grid point) and the shuffles.
    device
        Where to train (default: ``x``'s device).
    keep
        Optional ``(G, D)`` boolean masks: probe ``g`` sees only the neurons where
        ``keep[g]`` is true, the others zeroed (``ABLATE*NEURONS`` then ``TRAINPROBE`` of
        Algorithm 2 in Durrani et al.). The weights of hidden neurons receive no gradient
        from the data, so the probes are those trained on the zeroed inputs.

    Returns
    -------
    LinearProbe
        With ``G = max(len(l1), len(l2), len(keep))`` probes; the weights of the neurons a
        probe did not see are zero.
    """
    _check_inputs(x, y)
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    if n_classes < 2:
        raise ValueError("a probe needs at least two classes")
    size = max(torch.as_tensor(l1).numel(), torch.as_tensor(l2).numel())
    size = max(size, len(keep)) if keep is not None else size
    l1_grid, l2_grid = _as_grid(l1, size, "l1"), _as_grid(l2, size, "l2")
    device = torch.device(device) if device is not None else x.device
    x, y = x.to(device, torch.float32), y.to(device)

    gen = torch.Generator().manual_seed(seed)
    bound = 1.0 / np.sqrt(x.shape[1])  # the default initialisation of torch.nn.Linear
    w0 = (torch.rand(x.shape[1], n_classes, generator=gen) * 2 - 1) * bound
    b0 = (torch.rand(n_classes, generator=gen) * 2 - 1) * bound
    # neurons x (grid point, class): every probe's logits come out of one matrix product
    weight = w0.repeat(1, size).to(device).requires_grad_()  # (D, G * C)
    bias = b0.repeat(size).to(device).requires_grad_()  # (G * C,)
    l1_dev, l2_dev = l1_grid.to(device), l2_grid.to(device)
    visible = _keep_masks(keep, size, x.shape[1], n_classes, device)
    optimizer = torch.optim.Adam([weight, bias], lr=lr)

    for _ in tqdm(range(epochs), desc="probe epochs", disable=not progress, leave=False):
        order = torch.randperm(len(x), generator=gen).to(device)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            seen = weight if visible is None else weight * visible
            logits = (x[idx] @ seen + bias).view(-1, n_classes)  # (B * G, C)
            ce = torch.nn.functional.cross_entropy(
                logits, y[idx].repeat_interleave(size), reduction="none"
            )
            per_probe = weight.view(-1, size, n_classes)
            penalty = l1_dev * per_probe.abs().sum((0, 2)) + l2_dev * per_probe.pow(2).sum((0, 2))
            optimizer.zero_grad(set_to_none=True)
            (ce.view(-1, size).mean(0) + penalty).sum().backward()
            optimizer.step()
    weight = weight.detach() if visible is None else weight.detach() * visible
    weight = weight.view(-1, size, n_classes).permute(1, 0, 2).contiguous()
    bias = bias.detach().view(size, n_classes)
    return LinearProbe(weight, bias, l1_grid, l2_grid)


def control_task_labels(
    forms: Sequence[str], labels: Sequence[str], *, seed: int = 0, case_sensitive: bool = True
) -> list[str]:
    """Hewitt and Liang's control task: one random label per word type.

    Each word type (in order of first appearance) draws a label from the empirical
    distribution of ``labels``, so the control task has the same label marginals as the
    linguistic task but can only be solved by memorising word identities. Selectivity is
    the task accuracy minus the control accuracy of the same probe family on the same
    features (Durrani et al., Sec. 2.5).

    Parameters
    ----------
    forms, labels
        One word form and one task label per token, aligned.
    seed
        Seeds the label draws.
    case_sensitive
        Whether ``"The"`` and ``"the"`` are different types.

    Returns
    -------
    list of str
        The control label of every token.
    """
    if len(forms) != len(labels):
        raise ValueError(f"{len(forms)} word forms but {len(labels)} labels")
    if len(forms) == 0:
        raise ValueError("no tokens given")
    keys = list(forms) if case_sensitive else [f.lower() for f in forms]
    types = list(dict.fromkeys(keys))
    classes, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(classes), size=len(types), p=counts / counts.sum())
    label_of = {t: str(classes[i]) for t, i in zip(types, drawn)}
    return [label_of[k] for k in keys]
