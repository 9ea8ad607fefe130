"""Linear probes: logistic regression with an elastic-net penalty, many trained at once.

For probe ``g`` the loss is that of Linguistic Correlation Analysis (Durrani et al., Eq. 1),

    L_g(W, b) = CE(X W_g + b_g, y) + l1_g * ||W_g||_1 + l2_g * ||W_g||_2^2,

with the batch-mean cross-entropy and the bias unpenalised, minimised with Adam on
mini-batches. The L2 term is squared, as the paper prints it; NeuroX's implementation (and
Antverg and Belinkov's) penalises the un-squared norm ``||W_g||_2``, whose gradient
``W_g / ||W_g||_2`` has unit norm whatever the size of the weights: ``l2_penalty="norm"``.
The paper's equation is the default because its lambda grid and its argument (the L2 term
spreads weight over correlated neurons) are stated for it.

Adam is element-wise, so ``G`` probes held in one weight tensor ``(G, n, C)`` are exactly the
probes of ``G`` separate runs: a lambda grid, replicates over seeds, neuron subsets of any
sizes and probes of different tasks all train in one pass over the data, one batched product
``(G, B, n) @ (G, n, C)`` per mini-batch (:func:`train_linear_probes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional
from tqdm.auto import tqdm

# elements of a chunk of words (its activations and its scores) that evaluation or training
# copies from the host to the probes' device at a time
EVAL_ELEMENTS = 1 << 26


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
    losses
        ``(E, G)`` the training objective of every epoch (its mean cross-entropy plus the
        penalty at its end), when training was asked to record it (``record_losses=True``).
    steps
        How many optimiser steps training took, when recorded.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    l1: torch.Tensor
    l2: torch.Tensor
    losses: torch.Tensor | None = None
    steps: int | None = None

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(G, N, C)`` class scores of ``x`` ``(N, D)`` under every probe."""
        x = x.to(self.weight)
        return torch.einsum("nd,gdc->gnc", x, self.weight) + self.bias[:, None, :]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``(G, N)`` predicted classes. Words held on another device than the probes (the
        host, for a training set too large for the GPU) go over in chunks of rows, so that
        neither ``x`` nor its ``(G, N, C)`` scores are ever whole on the probes' device."""
        if x.device == self.weight.device:
            return self.logits(x).argmax(-1)
        rows = max(
            1, EVAL_ELEMENTS // max(1, x.shape[1] + self.weight.shape[0] * self.weight.shape[2])
        )
        return torch.cat(
            [self.logits(x[s : s + rows]).argmax(-1) for s in range(0, len(x), rows)], 1
        )

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
    rows = max(1, (1 << 22) // max(1, x.shape[1]))  # a chunk at a time: no copy of x
    if not all(bool(torch.isfinite(x[s : s + rows]).all()) for s in range(0, len(x), rows)):
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


def _per_probe(values: Sequence | None, default, size: int, name: str) -> list:
    """``values`` as one entry per probe: one value repeated, or ``size`` of them."""
    values = [default] if values is None else list(values)
    if len(values) == 1:
        values = values * size
    if len(values) != size:
        raise ValueError(f"{name} must be one value or {size} of them, got {len(values)}")
    return values


def _neuron_sets(
    keep: torch.Tensor | None, neurons: Sequence[torch.Tensor] | None, n_features: int
) -> list[torch.Tensor] | None:
    """The neurons each probe reads, from ``keep`` masks or index sets (checked)."""
    if keep is not None and neurons is not None:
        raise ValueError("give keep masks or neuron index sets, not both")
    if keep is not None:
        if keep.ndim != 2 or keep.shape[1] != n_features or keep.dtype != torch.bool:
            raise ValueError(
                f"keep must be a (n_probes, {n_features}) boolean mask, got "
                f"{tuple(keep.shape)} of {keep.dtype}"
            )
        neurons = [row.nonzero()[:, 0] for row in keep.cpu()]
    if neurons is None:
        return None
    neurons = [torch.as_tensor(n, dtype=torch.long).reshape(-1).cpu() for n in neurons]
    for n in neurons:
        if len(n) == 0:
            raise ValueError("every neuron set needs at least one neuron")
        if n.min() < 0 or n.max() >= n_features:
            raise ValueError(f"neuron indices must lie in [0, {n_features})")
    return neurons


def _placement(
    x: torch.Tensor, device: str | torch.device | None, stream: bool | None
) -> tuple[torch.device, bool]:
    """The training device, and whether ``x`` stays where it is (its mini-batches copied)."""
    device = x.device if device is None else torch.empty(0, device=device).device
    return device, (x.device != device) if stream is None else bool(stream)


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
    seeds: Sequence[int] | None = None,
    neurons: Sequence[torch.Tensor] | None = None,
    max_steps: int | None = None,
    record_losses: bool = False,
    targets: Sequence[torch.Tensor] | None = None,
    class_counts: Sequence[int] | None = None,
    stream: bool | None = None,
    lr_decay: bool = False,
    l2_penalty: str = "squared",
    init_scale: str = "all",
) -> LinearProbe:
    """Train ``G`` elastic-net logistic-regression probes at once, each as a separate run.

    Probe ``g`` has its own penalties ``(l1[g], l2[g])`` and, optionally, its own seed, neuron
    set, labels and number of classes; the ``G`` probes share one mini-batch loop, and each
    mini-batch is one batched product ``(G, B, n) @ (G, n, C)``.

    Parameters
    ----------
    x, y
        ``(N, D)`` activations and ``(N,)`` class indices.
    n_classes
        Number of classes (default: ``y.max() + 1``).
    l1, l2
        Penalty strengths: scalars, or one per probe (a grid).
    epochs, batch_size, lr
        Adam on shuffled mini-batches.
    seed
        Seeds the initialisation and the shuffles of every probe without a seed of its own.
    device
        Where to train (default: ``x``'s device). When ``x`` lives elsewhere (the host, for a
        training set larger than the GPU), it stays there and each mini-batch's rows are
        copied to ``device``: the same probes, with only a batch of words on the device.
    keep
        Optional ``(G, D)`` boolean masks: probe ``g`` sees only the neurons where
        ``keep[g]`` is true, the others zeroed (``ABLATE*NEURONS`` then ``TRAINPROBE`` of
        Algorithm 2 in Durrani et al.). The same as ``neurons`` of those neurons.
    seeds
        Optional, one seed per probe (or one for all): probe ``g`` then draws its own
        initialisation and its own shuffles from ``seeds[g]``, exactly as a separate run
        with ``seed=seeds[g]`` would, so that replicates over probe seeds train in one call.
    neurons
        Optional, one index tensor per probe: probe ``g`` reads only the columns
        ``neurons[g]`` of ``x`` (of any sizes), at a cost in the size of each set instead of
        the full width. Its initial weights are the rows of a full-width draw (and so the
        probes of ``keep`` masks of the same neurons). Not combined with ``keep``.
    max_steps
        Optional step budget: train for exactly this many optimiser steps (the last epoch
        may be partial), instead of ``epochs`` epochs.
    record_losses
        Return the training objective of every epoch (``LinearProbe.losses``) and the
        number of steps taken (``LinearProbe.steps``); always on with ``max_steps``.
    targets, class_counts
        Optional per-probe labels, ``(N,)`` each (``y`` then only gives the shapes), and
        per-probe numbers of classes: probe ``g`` learns ``targets[g]`` over its first
        ``class_counts[g]`` classes, the others masked out of its softmax (their weights
        zero, their bias ``-inf``), so that probes of different tasks on the same inputs
        train in one call and each is the probe a separate run would give.
    stream
        Leave ``x`` where it is and copy each mini-batch's rows to ``device`` (default: when
        ``x`` is on another device than ``device``). The probes are the same either way.
    lr_decay
        Decay Adam's step size linearly from ``lr`` to zero over the training's steps
        (default: constant, as in the paper). With an L1 penalty, Adam at a constant step
        size leaves every weight whose gradient is below the penalty oscillating around zero
        by about ``lr``; the decay lets the weights settle at the end of the budget.
    l2_penalty
        ``"squared"``: ``l2 ||W||_2^2``, Eq. 1 of Durrani et al.; ``"norm"``: the un-squared
        Frobenius norm ``l2 ||W||_2`` of NeuroX's and Antverg and Belinkov's code.
    init_scale
        ``"all"``: initial weights uniform in ``±1/sqrt(D)`` (``nn.Linear`` on all ``D``
        neurons, the rows of the neurons a probe reads); ``"subset"``: in ``±1/sqrt(n_g)``,
        ``nn.Linear`` on probe ``g``'s ``n_g`` neurons (Antverg and Belinkov's probes on the
        top-k of a ranking).

    Returns
    -------
    LinearProbe
        ``G`` probes; the weights of the neurons a probe did not see are zero.
    """
    _check_inputs(x, y)
    n_examples, n_features = x.shape
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be a positive number of steps, got {max_steps}")
    if l2_penalty not in ("squared", "norm"):
        raise ValueError(f"l2_penalty must be 'squared' or 'norm', got {l2_penalty!r}")
    if init_scale not in ("all", "subset"):
        raise ValueError(f"init_scale must be 'all' or 'subset', got {init_scale!r}")
    neurons = _neuron_sets(keep, neurons, n_features)
    if targets is not None:
        targets = [torch.as_tensor(t).reshape(-1) for t in targets]
        if any(len(t) != n_examples for t in targets):
            raise ValueError(f"every target vector needs {n_examples} labels")
        if class_counts is None:
            class_counts = [int(t.max()) + 1 for t in targets]
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    if class_counts is not None:
        n_classes = max(n_classes, *class_counts)
    if n_classes < 2:
        raise ValueError("a probe needs at least two classes")
    given = [torch.as_tensor(l1).numel(), torch.as_tensor(l2).numel()]
    given += [len(v) for v in (seeds, neurons, targets, class_counts) if v is not None]
    size = max(given)
    l1_grid, l2_grid = _as_grid(l1, size, "l1"), _as_grid(l2, size, "l2")
    seeds = [int(s) for s in _per_probe(seeds, seed, size, "seeds")]
    neurons = None if neurons is None else _per_probe(neurons, None, size, "neurons")
    counts = [int(c) for c in _per_probe(class_counts, n_classes, size, "class_counts")]
    if min(counts) < 2 or max(counts) > n_classes:
        raise ValueError(f"every class count must lie in [2, {n_classes}]")
    targets = _per_probe(targets, y, size, "targets")
    for t, c in zip(targets, counts):
        if t.min() < 0 or t.max() >= c:
            raise ValueError("a probe's targets must lie in [0, its class count)")
    device, stream = _placement(x, device, stream)
    x = x.to(torch.float32) if stream else x.to(device, torch.float32)
    shared_targets = all(t is targets[0] for t in targets)
    y = targets[0].to(device) if shared_targets else torch.stack(targets).to(device)

    # the draws of a separate run with seed seeds[g]: its (D, c) weights and (c,) bias in
    # +-1/sqrt(fan-in) (nn.Linear's initialisation), then one shuffle an epoch
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    fan_in = [n_features if neurons is None or init_scale == "all" else len(n) for n in
              (neurons or [None] * size)]  # fmt: skip
    weight0, bias0 = torch.zeros(size, n_features, n_classes), torch.zeros(size, n_classes)
    for g, (gen, c) in enumerate(zip(generators, counts)):
        bound = 1.0 / np.sqrt(fan_in[g])
        weight0[g, :, :c] = (torch.rand(n_features, c, generator=gen) * 2 - 1) * bound
        bias0[g, :c] = (torch.rand(c, generator=gen) * 2 - 1) * bound
    absent = torch.zeros(size, n_classes)  # -inf on the logits of the classes a probe lacks
    for g, c in enumerate(counts):
        absent[g, c:] = float("-inf")
    columns, reads = None, None  # probe g reads columns[g, :len(neurons[g])] (padded)
    if neurons is not None:
        width = max(len(n) for n in neurons)
        columns = torch.zeros(size, width, dtype=torch.long)
        reads = torch.zeros(size, 1, width)
        for g, n in enumerate(neurons):
            columns[g, : len(n)], reads[g, :, : len(n)] = n, 1.0
        weight0 = torch.gather(weight0, 1, columns[:, :, None].expand(-1, -1, n_classes))
        weight0 *= reads.transpose(1, 2)  # the padding's weights: zero, and they stay zero
        columns, reads = columns.to(device), reads.to(device)
    weight = weight0.to(device).requires_grad_()  # (G, n, C)
    bias = bias0.to(device).requires_grad_()  # (G, C)
    absent = absent.to(device)
    l1_dev, l2_dev = l1_grid.to(device)[:, None, None], l2_grid.to(device)[:, None, None]
    l1_step = l1_dev if bool(l1_grid.any()) else None  # a penalty off for every probe costs
    l2_step = l2_dev if bool(l2_grid.any()) else None  # nothing
    optimizer = torch.optim.Adam([weight, bias], lr=lr, fused=device.type in ("cpu", "cuda"))

    per_epoch = -(-n_examples // batch_size)
    if max_steps is not None:
        epochs = -(-max_steps // per_epoch)
    total = max_steps if max_steps is not None else epochs * per_epoch
    # one shuffle for all when every generator is in the same state: the same seed and the
    # same draws before it (a separate run's initialisation has as many as its classes)
    shared = len(set(zip(seeds, counts))) == 1
    losses, steps = [], 0
    for _ in tqdm(range(epochs), desc="probe epochs", disable=not progress, leave=False):
        if shared:
            order = torch.randperm(n_examples, generator=generators[0])
            for gen in generators[1:]:  # keep every generator in step with a separate run
                torch.randperm(n_examples, generator=gen)
            orders = order.expand(size, -1)
        else:
            orders = torch.stack([torch.randperm(n_examples, generator=g) for g in generators])
        orders_here, orders = orders, orders.to(device)
        epoch_ce, batches = torch.zeros(size, device=device), 0
        for start in range(0, n_examples, batch_size):
            if steps == total:
                break
            idx = orders[:, start : start + batch_size]  # (G, B)
            source, where = x, idx
            if stream:  # the batch's distinct rows, copied once: (R, D) with R <= G B
                here = orders_here[:, start : start + batch_size]
                if shared:
                    source = x[here[0]].to(device)
                    where = torch.arange(here.shape[1], device=device).expand(size, -1)
                else:
                    distinct, inverse = torch.unique(here, return_inverse=True)
                    source, where = x[distinct].to(device), inverse.to(device)
            if columns is None:
                xb = source[where[0]].expand(size, -1, -1) if shared else source[where]
            else:
                rows = where[0][None, :, None] if shared else where[:, :, None]
                xb = source[rows, columns[:, None, :]] * reads  # (G, B, n), padding zeroed
            labels = y[idx] if shared_targets else torch.gather(y, 1, idx)
            logits = torch.bmm(xb, weight) + (bias + absent)[:, None, :]  # (G, B, C)
            ce = functional.cross_entropy(logits.flatten(0, 1), labels.reshape(-1),
                                          reduction="none").view(size, -1).mean(1)  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            ce.sum().backward()  # the data term by autograd, the penalty's in place
            with torch.no_grad():
                _add_penalty_gradient(weight, l1_step, l2_step, l2_penalty)
            if lr_decay:  # linear to zero: step t of T moves by lr (1 - t / T)
                optimizer.param_groups[0]["lr"] = lr * (1 - steps / total)
            optimizer.step()
            epoch_ce += ce.detach()
            batches += 1
            steps += 1
        if batches:  # the epoch's mean cross-entropy, and the penalty at its end
            with torch.no_grad():
                losses.append(epoch_ce / batches + _penalty(weight, l1_dev, l2_dev, l2_penalty))
    weight = weight.detach()
    if columns is not None:  # back to (G, D, C), zero on the neurons a probe did not read
        full = torch.zeros(size, n_features, n_classes, device=device)
        full.scatter_add_(1, columns[:, :, None].expand(-1, -1, n_classes), weight)
        weight = full
    present = torch.isfinite(absent)[:, None, :]
    recorded = record_losses or max_steps is not None
    return LinearProbe(
        (weight * present).contiguous(),
        bias.detach() + absent,
        l1_grid,
        l2_grid,
        losses=torch.stack(losses).cpu() if recorded else None,
        steps=steps if recorded else None,
    )


def _penalty(weight: torch.Tensor, l1: torch.Tensor, l2: torch.Tensor, l2_penalty: str):
    """The ``(G,)`` penalties of Eq. 1: ``l1 ||W||_1 + l2 ||W||_2^2`` (or ``l2 ||W||_2``)."""
    squares = weight.pow(2).sum((1, 2))
    ridge = squares if l2_penalty == "squared" else squares.sqrt()
    return l1.flatten() * weight.abs().sum((1, 2)) + l2.flatten() * ridge


def _add_penalty_gradient(
    weight: torch.Tensor, l1: torch.Tensor | None, l2: torch.Tensor | None, l2_penalty: str
) -> None:
    """Add the penalty's gradient to ``weight.grad`` in place: ``l1 sign(W) + 2 l2 W`` (or
    ``l2 W / ||W||``), the subgradient autograd gives ``|W|`` and ``W^2``, without their
    graph over every weight. ``None`` skips a penalty that is zero for every probe."""
    if l1 is not None:
        weight.grad.addcmul_(torch.sign(weight), l1)
    if l2 is not None:
        if l2_penalty == "squared":
            weight.grad.addcmul_(weight, 2 * l2)
        else:
            norm = weight.pow(2).sum((1, 2), keepdim=True).sqrt().clamp_min(1e-12)
            weight.grad.addcmul_(weight, l2 / norm)


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
