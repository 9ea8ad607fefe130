"""Linear probes: logistic regression with an elastic-net penalty, trained for a whole grid
of regularisation strengths at once.

For grid point ``g`` the loss is that of Linguistic Correlation Analysis (Durrani et al.,
Eq. 1),

    L_g(W, b) = CE(X W_g + b_g, y) + l1_g * ||W_g||_1 + l2_g * ||W_g||_2^2,

with the batch-mean cross-entropy and the bias unpenalised, minimised with Adam on
mini-batches. The L2 term is squared, as the paper prints it; NeuroX's implementation
penalises the un-squared norm ``||W_g||_2``, whose gradient ``W_g / ||W_g||_2`` has unit
norm whatever the size of the weights. The paper's equation is followed because its lambda
grid and its argument (the L2 term spreads weight over correlated neurons) are stated for
it. Adam is element-wise, so training all grid points in one weight tensor ``(G, D, C)``
gives exactly the probes that ``G`` separate runs with the same seed would give, in one pass
over the data and one matrix product per mini-batch. Per-probe seeds, neuron subsets, a
step budget and a record of the per-epoch loss go through a batched variant (one
``(G, B, n) @ (G, n, C)`` product per mini-batch) that gives the same probes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
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
        ``(E, G)`` the mean training objective (cross-entropy plus penalty, as minimised) of
        every epoch, when training was asked to record it (``record_losses=True``).
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


def _placement(
    x: torch.Tensor, device: str | torch.device | None, stream: bool | None
) -> tuple[torch.device, bool]:
    """The training device, and whether ``x`` stays where it is (its mini-batches copied)."""
    device = x.device if device is None else torch.empty(0, device=device).device
    return device, (x.device != device) if stream is None else bool(stream)


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
    seeds: Sequence[int] | None = None,
    neurons: Sequence[torch.Tensor] | None = None,
    max_steps: int | None = None,
    record_losses: bool = False,
    targets: Sequence[torch.Tensor] | None = None,
    class_counts: Sequence[int] | None = None,
    stream: bool | None = None,
    lr_decay: bool = False,
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
        Where to train (default: ``x``'s device). When ``x`` lives elsewhere (the host, for a
        training set larger than the GPU), it stays there and each mini-batch's rows are
        copied to ``device``: the same probes, with only a batch of words on the device.
    keep
        Optional ``(G, D)`` boolean masks: probe ``g`` sees only the neurons where
        ``keep[g]`` is true, the others zeroed (``ABLATE*NEURONS`` then ``TRAINPROBE`` of
        Algorithm 2 in Durrani et al.). The weights of hidden neurons receive no gradient
        from the data, so the probes are those trained on the zeroed inputs.

    seeds
        Optional, one seed per probe (or one for all): probe ``g`` then draws its own
        initialisation and its own shuffles from ``seeds[g]``, exactly as a separate run
        with ``seed=seeds[g]`` would, so that replicates over probe seeds train in one call.
        Without it every probe shares ``seed``.
    neurons
        Optional, one index tensor per probe: probe ``g`` reads only the columns
        ``neurons[g]`` of ``x`` (of any sizes). This gives the probes that ``keep`` masks of
        the same neurons give (the same initial weights, Adam being element-wise), at a cost
        in the size of each set instead of the full width. Not combined with ``keep``.
    max_steps
        Optional step budget: train for exactly this many optimiser steps (the last epoch
        may be partial), instead of ``epochs`` epochs.
    record_losses
        Record the mean training objective of every epoch (``LinearProbe.losses``) and the
        number of steps taken (``LinearProbe.steps``).
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

    Returns
    -------
    LinearProbe
        With ``G = max(len(l1), len(l2), len(keep), len(seeds), len(neurons))`` probes; the
        weights of the neurons a probe did not see are zero.
    """
    _check_inputs(x, y)
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    if n_classes < 2:
        raise ValueError("a probe needs at least two classes")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be a positive number of steps, got {max_steps}")
    if targets is not None:
        targets = [torch.as_tensor(t).reshape(-1) for t in targets]
        if any(len(t) != len(x) for t in targets):
            raise ValueError(f"every target vector needs {len(x)} labels")
        if class_counts is None:
            class_counts = [int(t.max()) + 1 for t in targets]
        n_classes = max(n_classes, max(class_counts))
    batched = seeds is not None or neurons is not None or max_steps is not None or lr_decay
    if batched or record_losses or targets is not None or class_counts is not None:
        return _train_batched(
            x,
            y,
            n_classes=n_classes,
            l1=l1,
            l2=l2,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            device=device,
            progress=progress,
            keep=keep,
            seeds=seeds,
            neurons=neurons,
            max_steps=max_steps,
            targets=targets,
            class_counts=class_counts,
            stream=stream,
            lr_decay=lr_decay,
        )
    size = max(torch.as_tensor(l1).numel(), torch.as_tensor(l2).numel())
    size = max(size, len(keep)) if keep is not None else size
    l1_grid, l2_grid = _as_grid(l1, size, "l1"), _as_grid(l2, size, "l2")
    device, stream = _placement(x, device, stream)
    x = x.to(torch.float32) if stream else x.to(device, torch.float32)
    y = y.to(device)

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
        order_here = torch.randperm(len(x), generator=gen)
        order = order_here.to(device)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            xb = x[order_here[start : start + batch_size]].to(device) if stream else x[idx]
            seen = weight if visible is None else weight * visible
            logits = (xb @ seen + bias).view(-1, n_classes)  # (B * G, C)
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


def _train_batched(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_classes: int,
    l1,
    l2,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    device,
    progress: bool,
    keep: torch.Tensor | None,
    seeds: Sequence[int] | None,
    neurons: Sequence[torch.Tensor] | None,
    max_steps: int | None,
    targets: Sequence[torch.Tensor] | None = None,
    class_counts: Sequence[int] | None = None,
    stream: bool | None = None,
    lr_decay: bool = False,
) -> LinearProbe:
    """:func:`train_linear_probes` with per-probe seeds, neuron sets, a step budget or a loss
    record: every probe's weight is its own ``(n_g, C)`` block (padded to the largest set),
    and every mini-batch is one batched product ``(G, B, n) @ (G, n, C)``."""
    if neurons is not None and keep is not None:
        raise ValueError("give keep masks or neuron index sets, not both")
    n_examples, n_features = x.shape
    sizes = [torch.as_tensor(l1).numel(), torch.as_tensor(l2).numel()]
    sizes += [len(keep)] if keep is not None else []
    sizes += [len(seeds)] if seeds is not None else []
    sizes += [len(neurons)] if neurons is not None else []
    sizes += [len(targets)] if targets is not None else []
    sizes += [len(class_counts)] if class_counts is not None else []
    size = max(sizes)
    l1_grid, l2_grid = _as_grid(l1, size, "l1"), _as_grid(l2, size, "l2")
    if seeds is None:
        seeds = [seed]
    seeds = [int(s) for s in seeds]
    if len(seeds) == 1:
        seeds = seeds * size
    if len(seeds) != size:
        raise ValueError(f"seeds must be one seed or {size} of them, got {len(seeds)}")
    if keep is not None:
        _keep_masks(keep, size, n_features, n_classes, torch.device("cpu"))  # checks shape
        neurons = [row.nonzero()[:, 0] for row in keep.cpu()]
    if neurons is not None:
        neurons = [torch.as_tensor(n, dtype=torch.long).reshape(-1).cpu() for n in neurons]
        if len(neurons) == 1:
            neurons = neurons * size
        if len(neurons) != size:
            raise ValueError(f"neurons must be one index set or {size} of them")
        for n in neurons:
            if len(n) == 0:
                raise ValueError("every neuron set needs at least one neuron")
            if n.min() < 0 or n.max() >= n_features:
                raise ValueError(f"neuron indices must lie in [0, {n_features})")
    counts = [n_classes] * size if class_counts is None else [int(c) for c in class_counts]
    if len(counts) == 1:
        counts = counts * size
    if len(counts) != size or min(counts) < 2 or max(counts) > n_classes:
        raise ValueError(f"class_counts must be one count or {size}, each in [2, {n_classes}]")
    device, stream = _placement(x, device, stream)
    x = x.to(torch.float32) if stream else x.to(device, torch.float32)
    if targets is None:
        targets = [y]
    if len(targets) == 1:
        targets = list(targets) * size
    if len(targets) != size:
        raise ValueError(f"targets must be one label vector or {size} of them")
    for t, c in zip(targets, counts):
        if t.min() < 0 or t.max() >= c:
            raise ValueError("a probe's targets must lie in [0, its class count)")
    shared_targets = all(t is targets[0] for t in targets)
    y = targets[0].to(device) if shared_targets else torch.stack(list(targets)).to(device)
    # -inf on the logits of the classes a probe does not have (a plain softmax if none)
    absent = torch.zeros(size, n_classes)
    for g, c in enumerate(counts):
        absent[g, c:] = float("-inf")
    absent = absent.to(device)
    present = torch.isfinite(absent)[:, None, :].float()  # (G, 1, C)

    # the same draws as a separate run with seed seeds[g]: initial weights, bias, shuffles
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    bound = 1.0 / np.sqrt(n_features)  # the default initialisation of torch.nn.Linear
    inits = []
    for g, c in zip(generators, counts):  # a separate run draws its own (D, c) and (c,)
        w = torch.zeros(n_features, n_classes)
        b = torch.zeros(n_classes)
        w[:, :c] = (torch.rand(n_features, c, generator=g) * 2 - 1) * bound
        b[:c] = (torch.rand(c, generator=g) * 2 - 1) * bound
        inits.append((w, b))
    if neurons is None:
        width = n_features
        columns = None
        valid = torch.ones(size, width, 1, device=device)
        w0 = torch.stack([w for w, _ in inits])
    else:
        width = max(len(n) for n in neurons)
        columns = torch.zeros(size, width, dtype=torch.long)
        valid = torch.zeros(size, width, 1)
        for g, n in enumerate(neurons):
            columns[g, : len(n)], valid[g, : len(n)] = n, 1.0
        w0 = torch.stack([w[columns[g]] for g, (w, _) in enumerate(inits)]) * valid
        columns, valid = columns.to(device), valid.to(device)
    weight = w0.to(device).requires_grad_()  # (G, n, C)
    bias = torch.stack([b for _, b in inits]).to(device).requires_grad_()  # (G, C)
    l1_dev, l2_dev = l1_grid.to(device), l2_grid.to(device)
    optimizer = torch.optim.Adam([weight, bias], lr=lr)

    per_epoch = -(-n_examples // batch_size)
    if max_steps is not None:
        epochs = -(-max_steps // per_epoch)
    total = max_steps if max_steps is not None else epochs * per_epoch
    shared = len(set(seeds)) == 1
    losses, steps = [], 0
    for _ in tqdm(range(epochs), desc="probe epochs", disable=not progress, leave=False):
        if shared:
            order = torch.randperm(n_examples, generator=generators[0])
            for g in generators[1:]:  # keep every generator in step with a separate run
                torch.randperm(n_examples, generator=g)
            orders = order.expand(size, -1)
        else:
            orders = torch.stack([torch.randperm(n_examples, generator=g) for g in generators])
        orders_here, orders = orders, orders.to(device)
        epoch_sum, batches = torch.zeros(size, device=device), 0
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
                xb = source[rows, columns[:, None, :]]  # (G, B, n)
            logits = torch.bmm(xb, weight * valid) + (bias + absent)[:, None, :]  # (G, B, C)
            labels = y[idx] if shared_targets else torch.gather(y, 1, idx)
            ce = (
                torch.nn.functional.cross_entropy(
                    logits.reshape(-1, n_classes), labels.reshape(-1), reduction="none"
                )
                .view(size, -1)
                .mean(1)
            )
            seen = weight * valid
            objective = ce + l1_dev * seen.abs().sum((1, 2)) + l2_dev * seen.pow(2).sum((1, 2))
            optimizer.zero_grad(set_to_none=True)
            objective.sum().backward()
            if lr_decay:  # linear to zero: step t of T moves by lr (1 - t / T)
                optimizer.param_groups[0]["lr"] = lr * (1 - steps / total)
            optimizer.step()
            epoch_sum += objective.detach()
            batches += 1
            steps += 1
        if batches:
            losses.append(epoch_sum / batches)
    weight = weight.detach() * valid
    if columns is not None:
        full = torch.zeros(size, n_features, n_classes, device=device)
        full.scatter_add_(1, columns[:, :, None].expand(-1, -1, n_classes), weight)
        weight = full
    return LinearProbe(
        (weight * present).contiguous(),
        bias.detach() + absent,
        l1_grid,
        l2_grid,
        losses=torch.stack(losses).cpu(),
        steps=steps,
    )


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
