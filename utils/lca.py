"""Linguistic Correlation Analysis (Durrani, Dalvi and Sajjad): grid search and evaluations.

The rankings themselves live in :mod:`utils.rankings`; this module trains and scores the
probes around them, always many at once through :func:`utils.probes.train_linear_probes`:

* :func:`train_probe_jobs`: probes of several tasks, seeds and neuron sets in one call;
* :func:`grid_search`, Algorithm 2: the 7 x 7 grid of ``(lambda_1, lambda_2)`` trained in
  one pass, then the top-``M`` and bottom-``M`` probes of every grid point in a second one;
* :func:`zero_out_accuracy` (Table 2: a trained probe, every neuron outside a set zeroed)
  and :func:`retrained_accuracy` (Tables 3 and 5: a new probe per neuron set);
* :func:`memory_estimate`, the chapter's peak memory from its sizes.

The tasks derived from a corpus are in :mod:`utils.corpus.word_tasks`, a neuron's top words
in :mod:`utils.neuron_words`, the fine-tuning of Table 6 in :mod:`utils.fine_tuning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from utils.memory import tensor_bytes
from utils.probes import EVAL_ELEMENTS, LinearProbe, train_linear_probes
from utils.rankings import neuron_mask, neuron_ordering, select_neurons

GRID_VALUES = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.0)


@dataclass
class ProbeSettings:
    """How every probe of the chapter is trained (Algorithm 1 with the paper's Sec. 3)."""

    epochs: int = 10
    batch_size: int = 512
    lr: float = 1e-3
    seed: int = 0
    device: str | torch.device | None = None
    progress: bool = False
    max_steps: int | None = None  # a step budget instead of ``epochs`` (the paper: ~17k)
    lr_decay: bool = False  # Adam's step size decays linearly to zero over the budget

    def train(self, x: torch.Tensor, y: torch.Tensor, n_classes: int, **grid) -> LinearProbe:
        """:func:`train_linear_probes` with these settings; ``grid`` gives l1, l2, keep,
        neurons or seeds. The probes record their training objective and steps."""
        if self.max_steps is not None:
            grid.setdefault("max_steps", self.max_steps)
        grid.setdefault("record_losses", True)
        return train_linear_probes(
            x,
            y,
            n_classes=n_classes,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            device=self.device,
            progress=self.progress,
            lr_decay=self.lr_decay,
            **grid,
        )

    def steps_per_epoch(self, n_examples: int) -> int:
        return -(-n_examples // self.batch_size)


@dataclass
class ProbeJob:
    """One probe to train in a batch of many (:func:`train_probe_jobs`): its labels, its
    number of classes, its penalties, its seed and, optionally, the neurons it reads."""

    targets: torch.Tensor
    n_classes: int
    l1: float = 0.0
    l2: float = 0.0
    seed: int = 0
    neurons: torch.Tensor | None = None


def train_probe_jobs(
    x: torch.Tensor, jobs: Sequence[ProbeJob], settings: ProbeSettings
) -> list[LinearProbe]:
    """Train every job's probe on ``x`` in **one** call of
    :func:`utils.probes.train_linear_probes` (per-probe labels, class counts, penalties,
    seeds and neuron sets), and return each as a probe of its own ``(1, D, n_classes)``.
    Each is the probe a separate run of the job would give; the batch shares the mini-batch
    loop, which is what costs on a CPU when the probes are small."""
    if not jobs:
        return []
    d = x.shape[1]
    neurons = [torch.arange(d) if j.neurons is None else j.neurons for j in jobs]
    batch = settings.train(
        x,
        jobs[0].targets,
        max(j.n_classes for j in jobs),
        l1=[j.l1 for j in jobs],
        l2=[j.l2 for j in jobs],
        seeds=[j.seed for j in jobs],
        neurons=None if all(j.neurons is None for j in jobs) else neurons,
        targets=[j.targets for j in jobs],
        class_counts=[j.n_classes for j in jobs],
    )
    return [
        LinearProbe(
            batch.weight[g : g + 1, :, : j.n_classes],
            batch.bias[g : g + 1, : j.n_classes],
            batch.l1[g : g + 1],
            batch.l2[g : g + 1],
            losses=None if batch.losses is None else batch.losses[:, g : g + 1],
            steps=batch.steps,
        )
        for g, j in enumerate(jobs)
    ]


def zero_out_accuracy(
    probe: LinearProbe,
    x: torch.Tensor,
    y: torch.Tensor,
    subsets: torch.Tensor,
    index: int = 0,
    *,
    max_elements: int = 1 << 24,
) -> torch.Tensor:
    """Accuracy of trained probe ``index`` when only each neuron subset is left on.

    ``subsets`` ``(K, D)`` boolean; every other activation is set to zero and the probe is
    not retrained (``ABLATEBOTTOMNEURONS`` / ``ABLATETOPNEURONS``, Table 2). Zeroing inputs
    is zeroing the probe's rows, so each subset is one masked weight ``(D, C)``, and the ``K``
    of them side by side are one ``(D, K C)`` matrix: a chunk of words is one matrix product.
    The words go through (and, from the host, onto the probe's device) in chunks, so that no
    ``(K, N, C)`` block over ``max_elements`` is held; the memory is linear in the words and
    the neurons (never a ``(K, N, D)`` product).

    Returns
    -------
    torch.Tensor
        ``(K,)`` accuracies.
    """
    if subsets.ndim != 2 or subsets.shape[1] != x.shape[1] or subsets.dtype != torch.bool:
        raise ValueError(f"subsets must be (K, {x.shape[1]}) boolean, got {tuple(subsets.shape)}")
    weight = probe.weight[index]
    k, (d, c) = len(subsets), weight.shape
    # mask k's weight in columns k C .. (k + 1) C: every subset in one (n, D) @ (D, K C)
    fused = (subsets.to(weight).T[:, :, None] * weight[:, None, :]).reshape(d, k * c)
    y = y.to(weight.device)
    chunk = max(1, max_elements // (k * c))
    correct = torch.zeros(k, device=weight.device)
    for start in range(0, len(x), chunk):
        rows = x[start : start + chunk].to(weight)  # only a chunk of words on the device
        logits = (rows @ fused).view(len(rows), k, c) + probe.bias[index]
        correct += (logits.argmax(-1) == y[start : start + chunk, None]).sum(0)
    return (correct / len(x)).cpu()


def retrained_accuracy(
    train: tuple[torch.Tensor, torch.Tensor],
    evaluations: Sequence[tuple[torch.Tensor, torch.Tensor]],
    subsets: torch.Tensor,
    settings: ProbeSettings,
    *,
    n_classes: int,
    l1: float | Sequence[float] = 0.0,
    l2: float | Sequence[float] = 0.0,
    by_index: bool = False,
) -> torch.Tensor:
    """Accuracy of a new probe trained on each neuron subset (``SELECTTOPNEURONS`` then
    ``TRAINPROBE``), all ``K`` subsets in one batched training.

    The inputs are first cut to the union of the subsets, so that a curve over the top 1-20 %
    of the neurons costs a fifth of the full width.

    Parameters
    ----------
    train
        ``(x, y)``: ``(N, D)`` activations and ``(N,)`` labels.
    evaluations
        ``(x, y)`` pairs to measure accuracy on (development, test, ...).
    subsets
        ``(K, D)`` boolean masks of the neurons each probe keeps.
    settings
        Training settings.
    n_classes
        Number of classes of the task.
    l1, l2
        Penalties: one value, or one per subset.
    by_index
        Train each probe on its own neuron indices (``neurons=`` of
        :func:`utils.probes.train_linear_probes`): the cost grows with the sizes of the
        subsets, not with their union, which pays when many small random sets are retrained.
        The initial weights are then drawn for the full width.

    Returns
    -------
    torch.Tensor
        ``(E, K)`` accuracies: evaluation set, subset.
    """
    x_train, y_train = train
    if subsets.ndim != 2 or subsets.shape[1] != x_train.shape[1] or subsets.dtype != torch.bool:
        raise ValueError(
            f"subsets must be (K, {x_train.shape[1]}) boolean, got {tuple(subsets.shape)}"
        )
    if not subsets.any(1).all():
        raise ValueError("every subset needs at least one neuron")
    if by_index:
        neurons = [row.nonzero()[:, 0] for row in subsets.cpu()]
        probe = settings.train(x_train, y_train, n_classes, l1=l1, l2=l2, neurons=neurons)
        return torch.stack([probe.accuracy(x, y).cpu() for x, y in evaluations])
    support = subsets.any(0)
    probe = settings.train(
        x_train[:, support], y_train, n_classes, l1=l1, l2=l2, keep=subsets[:, support]
    )
    return torch.stack([probe.accuracy(x[:, support], y).cpu() for x, y in evaluations])


@dataclass
class GridSearch:
    """The outcome of :func:`grid_search`; all tensors are ``(G,)`` over the grid points.

    ``score = alpha (A_t - A_b) - beta (A_z - A_l)``; ``best`` indexes its maximum.
    """

    l1: torch.Tensor
    l2: torch.Tensor
    accuracy: torch.Tensor
    top: torch.Tensor
    bottom: torch.Tensor
    unregularised: float
    score: torch.Tensor
    best: int
    probes: LinearProbe = field(repr=False)

    @property
    def best_lambdas(self) -> tuple[float, float]:
        return float(self.l1[self.best]), float(self.l2[self.best])


def grid_search(
    train: tuple[torch.Tensor, torch.Tensor],
    evaluation: tuple[torch.Tensor, torch.Tensor],
    settings: ProbeSettings,
    *,
    n_classes: int,
    values: Sequence[float] = GRID_VALUES,
    fraction: float = 0.2,
    alpha: float = 0.5,
    beta: float = 0.5,
    retrain: bool = True,
) -> GridSearch:
    """Algorithm 2 (GRIDSEARCH): choose ``(lambda_1, lambda_2)`` for LCA.

    Every pair of ``values`` (7 x 7 = 49 in the paper, ``0`` included) is trained in one
    batched call; ``A_z`` is the ``(0, 0)`` grid point, so the unregularised probe costs
    nothing extra. Each probe ranks the neurons (Algorithm 3), and its top and bottom
    ``fraction`` are scored either by retraining on them with the same lambdas (Algorithm 2,
    ``retrain=True``: all ``2 G`` probes in a second batched call) or by zeroing the other
    neurons in the trained probe (the Sec. 2.2 prose, ``retrain=False``). Accuracies are
    measured on ``evaluation`` (the development set).

    Returns
    -------
    GridSearch
    """
    values = [float(v) for v in values]
    if 0.0 not in values:
        raise ValueError("the grid must contain 0, the unregularised probe A_z")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    x_train, y_train = train
    x_eval, y_eval = evaluation
    l1 = torch.tensor([a for a in values for _ in values])
    l2 = torch.tensor([b for _ in values for b in values])
    probes = settings.train(x_train, y_train, n_classes, l1=l1, l2=l2)
    accuracy = probes.accuracy(x_eval, y_eval).cpu()
    unregularised = float(accuracy[((l1 == 0) & (l2 == 0)).nonzero()[0, 0]])

    n_neurons = x_train.shape[1]
    count = max(1, round(fraction * n_neurons))
    masks = []
    for g in range(len(l1)):
        ordering, _ = neuron_ordering(probes.weight[g].cpu())
        for selection in ("top", "bottom"):
            masks.append(neuron_mask(select_neurons(ordering, count, selection), n_neurons))
    masks = torch.stack(masks)  # (2 G, D): top and bottom of each grid point
    if retrain:
        both = retrained_accuracy(
            train,
            [evaluation],
            masks,
            settings,
            n_classes=n_classes,
            l1=l1.repeat_interleave(2),
            l2=l2.repeat_interleave(2),
            by_index=True,  # each probe reads its own neurons: no copy of x cut to their union
        )[0]
    else:
        both = torch.stack(
            [
                zero_out_accuracy(probes, x_eval, y_eval, masks[2 * g : 2 * g + 2], g)
                for g in range(len(l1))
            ]
        ).reshape(-1)
    top, bottom = both[0::2], both[1::2]
    score = alpha * (top - bottom) - beta * (unregularised - accuracy)
    return GridSearch(
        l1, l2, accuracy, top, bottom, unregularised, score, int(score.argmax()), probes
    )


def memory_estimate(
    *,
    n_neurons: int,
    n_classes: int,
    batch_size: int,
    n_seeds: int,
    n_word_tasks: int,
    search_percents: Sequence[float],
    n_masks: int,
    n_grid: int = 49,
    grid_retrain: bool = False,
    fraction: float = 0.2,
    encoder_parameters: int = 0,
    n_encoders: int = 0,
    fine_tuning_tokens: int = 0,
    hidden: int = 0,
    n_layers: int = 0,
    zero_out_elements: int = 1 << 24,
) -> dict[str, int]:
    """The chapter's peak device memory, part by part, from its sizes (for
    :func:`utils.memory.report_memory`): arithmetic, not a measurement.

    The activations stay in host memory (training copies each mini-batch's rows, evaluation
    and zero-out a chunk of words at a time), so the number of words enters only through
    those bounded chunks. The parts: the encoders held on the device (pretrained, random
    weights, fine-tuned); fine-tuning (gradients, AdamW's two moments, the activations of one
    batch of ``fine_tuning_tokens`` tokens, about 20 floats a unit and layer); the largest
    batched probe training (weights, gradients and Adam's two moments of ``G`` probes of
    ``width`` neurons by ``n_classes``, with one mini-batch ``(G, B, width)``, its scores and
    the rows it copies); one evaluation chunk; one zero-out chunk of ``n_masks`` masks.

    ``search_percents`` are the set sizes Algorithm 4 tries (in two calls: up to 10 %, then
    the larger ones), ``n_word_tasks`` the tasks whose oracles train in one call, ``n_seeds``
    the probe seeds; three tasks share a minimal-set search.
    """
    d, c, b = n_neurons, n_classes, batch_size
    small = [p for p in search_percents if p <= 10]
    large = [p for p in search_percents if p > 10]
    calls = {  # probes x neurons each reads, of every batched training the chapter runs
        "grid": (n_grid, d),
        "grid retrained on top and bottom": (2 * n_grid, round(fraction * d)) if grid_retrain
        else (0, 0),
        "oracles": (n_word_tasks * n_seeds, d),
        "minimal sets to 10 %": (3 * n_seeds * len(small), round(max(small, default=0) * d / 100)),
        "larger minimal sets": (3 * n_seeds * len(large), round(max(large, default=0) * d / 100)),
    }  # fmt: skip
    g, width = max(calls.values(), key=lambda gw: gw[0] * gw[1] * (c + b))
    parts = {}
    if n_encoders:
        parts["encoders' weights"] = n_encoders * tensor_bytes(encoder_parameters)
    if fine_tuning_tokens:
        parts["fine-tuning: gradients, AdamW moments, one batch"] = 3 * tensor_bytes(
            encoder_parameters
        ) + tensor_bytes(fine_tuning_tokens, n_layers, hidden, 20)
    parts[f"probe training: {g} probes x {width} neurons, Adam, one batch of {b}"] = (
        4 * tensor_bytes(g, width, c)
        + tensor_bytes(g, b, width)
        + 3 * tensor_bytes(g, b, c)
        + tensor_bytes(min(g, n_seeds) * b, d)
    )
    parts["evaluation: a chunk of words and its scores"] = 2 * tensor_bytes(EVAL_ELEMENTS)
    parts[f"zero-out: {n_masks} masked weights and a chunk"] = tensor_bytes(
        n_masks, d, c
    ) + 2 * tensor_bytes(zero_out_elements)
    return parts
