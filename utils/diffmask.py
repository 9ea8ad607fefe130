"""DiffMask for sparse interventions: a global mask and baseline, learned with an L0 Lagrangian.

De Cao, Schmid, Hupkes and Titov (2021), "Sparse Interventions in Language Models with
Differentiable Masking". For a set of prefixes on which the model prefers a form ``d`` over
a form ``t`` (e.g. a plural verb over the singular one), find a mask ``m`` over the hidden
units and a baseline ``b`` such that the intervention of Eq. 1 (:mod:`utils.interventions`)
makes the model prefer ``t``, with as few units as possible:

    L_ratio(x) = p(d | x, h_hat) / p(t | x, h_hat)                           (Eq. 2)
    C_0(m) = #{i : m_i != 0}                                                 (Eq. 3)
    min_{m, b} sum_x L_ratio(x)   s.t.   C_0(m) / k <= alpha                 (Eqs. 4-5)
    max_{lambda >= 0} min_{m, b} sum_x L_ratio(x) + lambda (C_0(m) / k - alpha)  (Eq. 6)

The mask is Hard Concrete (:mod:`utils.hard_concrete`, Appendix B), whose expected L0 is
differentiable in closed form (Eq. 8); the multiplier follows dual ascent. Optional terms:
the C_(0,1) constraint on the mass strictly between 0 and 1 (Eq. 7, a second multiplier)
and the KL regulariser towards the original predictions (Eq. 10). The baseline is bounded
to the range of an LSTM hidden state, ``b = tanh(b_raw)``. After training, the mask is
``1[E[m] > 0.5]`` (Appendix A).

The paper's baseline estimator, REINFORCE (score-function estimation with a moving-average
control variate), trains a Bernoulli mask at the same budgets with the same loop.

All ``R`` runs of :func:`train_masks` (independent masks and baselines, e.g. random
restarts) are stacked in the batch dimension with the examples: one forward pass per step.

Memory is linear in the number of examples: a task keeps token ids and positions only, and
the unedited model's next-word distributions that the KL term compares with are recomputed
for the rows at hand (one cheap fused forward pass). Every pass over ``(rows, T, V)`` logits
(a training step, an evaluation, :func:`build_task`) is cut into chunks of at most
``chunk_bytes`` (:func:`rows_per_chunk`), so a 50,000-word vocabulary never meets all the
rows of a step at once; :func:`memory_estimate` gives the peak for a chapter to print.
"""

from __future__ import annotations

import dataclasses
import itertools
import pickle
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from utils.cache import cached, module_fingerprint
from utils.hard_concrete import HardConcrete
from utils.interventions import intervene
from utils.lstm import BOS, EOS, PAD, UNK, LSTMNetwork, Vocabulary
from utils.memory import tensor_bytes

MODES = ("single", "every")
ESTIMATORS = ("hard_concrete", "reinforce")
LOSSES = ("ratio", "log_ratio")
#: default bound on the memory of one chunk of rows (a training step's or an evaluation's)
CHUNK_BYTES = 2 * 2**30
#: float32 copies of a ``(row, step)``'s logits alive in a training step with autograd (the
#: logits, their log-softmax, the KL's difference and product, and their gradients), and of
#: its hidden units (gates, cell and hidden states of the unrolled pass, with gradients)
_VOCAB_COPIES, _UNIT_COPIES = 8, 24


def rows_per_chunk(
    steps: int, vocab_size: int, n_units: int, chunk_bytes: int = CHUNK_BYTES
) -> int:
    """How many sequences of ``steps`` steps one chunk may hold: their logits over
    ``vocab_size`` words and their ``n_units`` hidden units, with every copy a training step
    keeps, within ``chunk_bytes`` (at least one)."""
    per_row = tensor_bytes(steps, _VOCAB_COPIES * vocab_size + _UNIT_COPIES * n_units)
    return max(1, int(chunk_bytes // per_row))


def memory_estimate(
    *,
    n_items: int,
    steps: int,
    vocab_size: int,
    hidden: int,
    n_layers: int,
    n_parameters: int,
    rows: int,
    chunk_bytes: int = CHUNK_BYTES,
) -> dict[str, int]:
    """Parts of the peak memory of DiffMask on an LSTM, for
    :func:`utils.memory.report_memory`: the model's weights, the tasks' token ids (``n_items``
    sequences of ``steps`` ids, all directions together), and the largest chunk of one
    training step or evaluation (``rows`` sequences at most, e.g. runs x batch, bounded by
    ``chunk_bytes``) with the unedited model's distributions for its examples."""
    n_units = hidden * n_layers
    chunk = min(rows, rows_per_chunk(steps, vocab_size, n_units, chunk_bytes))
    per_row = _VOCAB_COPIES * vocab_size + _UNIT_COPIES * n_units
    return {
        "LM weights": tensor_bytes(n_parameters),
        f"task token ids ({n_items} x {steps})": tensor_bytes(n_items, steps, dtype=torch.long),
        f"one chunk: {chunk} rows x {steps} steps x (vocabulary + units)": tensor_bytes(
            chunk, steps, per_row
        ),
        "unedited distributions of the chunk's examples": tensor_bytes(
            chunk, steps, 2 * vocab_size
        ),
    }


@dataclasses.dataclass
class InterventionTask:
    """Prefixes on which an intervention should move the model from form ``d`` to ``t``.

    Attributes
    ----------
    tokens
        ``(N, T)`` ids, ``<bos>`` first, right-padded.
    target_position
        ``(N,)`` the step whose prediction is the contested word (the last of the prefix).
    subject_position
        ``(N,)`` the step of a single-step intervention (the subject).
    current, desired
        ``(N,)`` ids of ``d`` (the form the model prefers) and ``t`` (the form wanted).

    The unedited model's log-probabilities, which the KL of Eq. 10 compares with, are not
    kept (``(N, T, V)`` would be gigabytes with a 50,000-word vocabulary):
    :func:`original_log_probs` recomputes them for the rows at hand.
    """

    tokens: torch.Tensor
    target_position: torch.Tensor
    subject_position: torch.Tensor
    current: torch.Tensor
    desired: torch.Tensor

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def subset(self, index: torch.Tensor | Sequence[int]) -> InterventionTask:
        """The examples at ``index``."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.tokens.device)
        return InterventionTask(
            self.tokens[index],
            self.target_position[index],
            self.subject_position[index],
            self.current[index],
            self.desired[index],
        )

    def rows(self, start: int, stop: int) -> InterventionTask:
        """The examples ``start:stop`` (views, no copy)."""
        return InterventionTask(
            self.tokens[start:stop],
            self.target_position[start:stop],
            self.subject_position[start:stop],
            self.current[start:stop],
            self.desired[start:stop],
        )


@torch.no_grad()
def original_log_probs(model: LSTMNetwork, task: InterventionTask) -> torch.Tensor:
    """``(N, T, V)`` the unedited model's log-probabilities on the examples of ``task`` (the
    fused forward pass; call it on a chunk of rows)."""
    return F.log_softmax(model(task.tokens), dim=-1)


@torch.no_grad()
def build_task(
    model: LSTMNetwork,
    vocab: Vocabulary,
    prefixes: Sequence[Sequence[str]],
    desired: Sequence[str],
    other: Sequence[str],
    subject_positions: Sequence[int],
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> InterventionTask:
    """Encode prefixes and keep those on which ``model`` prefers ``other`` to ``desired``.

    Parameters
    ----------
    prefixes
        Word lists ending right before the contested word (``<bos>`` is prepended).
    desired, other
        Per prefix, the form the intervention should bring about (``t``) and the other form.
    subject_positions
        Per prefix, the 0-based index of the subject among the prefix's words.

    Only the prefixes where the model's current choice is ``other`` are kept, so that
    ``d = other`` is the model's choice (Sec. 3.1) and an intervention has something to flip.
    The model reads the prefixes in chunks of at most ``chunk_bytes``.
    """
    n = len(prefixes)
    if not n or not len(desired) == len(other) == len(subject_positions) == n:
        raise ValueError(
            f"build_task needs as many desired ({len(desired)}), other ({len(other)}) forms "
            f"and subject positions ({len(subject_positions)}) as prefixes ({n}), at least one"
        )
    unknown = sorted({w for w in (*desired, *other) if w not in vocab.index})
    if unknown:
        raise ValueError(f"contested forms missing from the vocabulary: {unknown[:5]}")
    device = next(model.parameters()).device
    width = 1 + max(len(p) for p in prefixes)
    tokens = torch.full((n, width), vocab.index[PAD], dtype=torch.long)
    for row, words in enumerate(prefixes):
        tokens[row, : len(words) + 1] = torch.tensor(vocab.encode([BOS, *words]))
    tokens = tokens.to(device)
    target = torch.tensor([len(p) for p in prefixes], device=device)
    subject = torch.tensor(subject_positions, device=device) + 1
    wanted = torch.tensor(vocab.encode(desired), device=device)
    current = torch.tensor(vocab.encode(other), device=device)
    task = InterventionTask(tokens, target, subject, current, wanted)
    rows = rows_per_chunk(width, len(vocab), model.n_layers * model.hidden_dim, chunk_bytes)
    keep = torch.cat(
        [
            decision_log_ratio(original_log_probs(model, part), part) > 0
            for part in (task.rows(start, start + rows) for start in range(0, n, rows))
        ]
    )
    return task.subset(torch.nonzero(keep).flatten())


def decision_log_ratio(logits: torch.Tensor, task: InterventionTask) -> torch.Tensor:
    """``log p(d) - log p(t)`` at each example's target step: the log of Eq. 2.

    ``logits`` is ``(..., N, T, V)`` for the ``N`` examples of ``task`` (leading dimensions
    for stacked masks). Positive: the model keeps its decision; negative: it is flipped.
    The softmax normaliser cancels, so logits or log-probabilities give the same value.
    """
    index = task.target_position.view(-1, 1, 1).expand(-1, 1, logits.shape[-1])
    at_target = logits.gather(-2, index.expand(*logits.shape[:-3], *index.shape)).squeeze(-2)
    pick = torch.stack([task.current, task.desired], dim=-1)
    chosen = at_target.gather(-1, pick.expand(*at_target.shape[:-1], 2))
    return chosen[..., 0] - chosen[..., 1]


def kl_per_step(logits: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """``KL(p_original || p_intervened)`` at every step, ``(..., N, T)``, from the intervened
    ``logits`` ``(..., N, T, V)`` and the unedited log-probabilities ``original`` ``(N, T, V)``
    (:func:`original_log_probs`)."""
    log_q = F.log_softmax(logits, dim=-1)
    return (original.exp() * (original - log_q)).sum(-1)


def kl_before_target(
    logits: torch.Tensor, task: InterventionTask, original: torch.Tensor
) -> torch.Tensor:
    """Eq. 10: ``KL(p_original || p_intervened)`` averaged over the steps before the target.

    The target step itself is left out (it is where the intervention must change the
    prediction; the paper leaves this open). ``logits`` is ``(..., N, T, V)``; ``original``
    the unedited log-probabilities of the ``N`` examples (:func:`original_log_probs`).
    Returns ``(..., N)``, zero for examples without a step before the target.
    """
    return _mean_over_steps(kl_per_step(logits, original), task, include_target=False)


def _mean_over_steps(
    per_step: torch.Tensor, task: InterventionTask, include_target: bool
) -> torch.Tensor:
    """The mean of ``per_step`` ``(..., N, T)`` over the steps before each example's target
    (and the target, with ``include_target``)."""
    steps = torch.arange(per_step.shape[-1], device=per_step.device)
    if include_target:
        upto = (steps <= task.target_position[:, None]).to(per_step.dtype)
        return (per_step * upto).sum(-1) / upto.sum(-1)
    before = (steps < task.target_position[:, None]).to(per_step.dtype)
    return (per_step * before).sum(-1) / before.sum(-1).clamp(min=1)


def _positions(task: InterventionTask, mode: str, repeats: int) -> torch.Tensor | None:
    if mode not in MODES:
        raise ValueError(f"unknown intervention mode {mode!r}: choose one of {MODES}")
    return task.subject_position.repeat(repeats) if mode == "single" else None


def intervene_on_task(
    model: LSTMNetwork,
    task: InterventionTask,
    masks: torch.Tensor,
    baselines: torch.Tensor,
    mode: str,
) -> torch.Tensor:
    """Logits ``(R, N, T, V)`` of the examples of ``task`` under ``R`` interventions at once.

    ``masks`` is ``(R, k)`` or ``(R, 1, k)`` (one mask per intervention) or ``(R, N, k)``
    (one per example, e.g. Hard Concrete samples); ``baselines`` is ``(R, k)``. ``mode`` is
    ``"single"`` (the subject step) or ``"every"`` (all steps).
    """
    runs, n, units = baselines.shape[0], len(task), baselines.shape[-1]
    if masks.dim() == 2:
        masks = masks[:, None]
    masks = masks.expand(runs, n, units)
    logits, _ = intervene(
        model,
        task.tokens.repeat(runs, 1),
        masks.reshape(runs * n, units),
        baselines[:, None].expand(-1, n, -1).reshape(runs * n, units),
        _positions(task, mode, runs),
    )
    return logits.view(runs, n, *logits.shape[1:])


@torch.no_grad()
def evaluate_masks(
    model: LSTMNetwork,
    task: InterventionTask,
    masks: torch.Tensor,
    baselines: torch.Tensor,
    mode: str = "single",
    *,
    with_kl: bool = True,
    max_rows: int = 8192,
    chunk_bytes: int = CHUNK_BYTES,
    progress: bool = False,
) -> dict[str, torch.Tensor]:
    """Flip accuracy, mean log-ratio and KL of ``M`` fixed interventions, batched.

    Parameters
    ----------
    masks, baselines
        ``(M, k)`` each; masks are usually binary (thresholded, or a unit set to scan).
    max_rows, chunk_bytes
        Sequences per forward pass (masks x examples), at most ``max_rows`` and within
        ``chunk_bytes`` (:func:`rows_per_chunk`); with more examples than that, the examples
        are cut into chunks too. Memory is linear in ``M`` and in the examples.

    Returns
    -------
    dict
        ``accuracy`` (fraction of examples with ratio < 1, Sec. 4), ``log_ratio`` (mean of
        Eq. 2's log) and, with ``with_kl``, ``kl`` (Eq. 10 over the steps before the target)
        and ``kl_all`` (Eq. 10 as printed, every step up to and including the target),
        averaged over examples; ``(M,)`` each.
    """
    if masks.shape != baselines.shape or masks.dim() != 2:
        raise ValueError(
            f"masks {tuple(masks.shape)} and baselines {tuple(baselines.shape)} must both "
            "be (n_masks, n_units)"
        )
    n, n_masks = len(task), masks.shape[0]
    rows = min(
        max_rows, rows_per_chunk(task.tokens.shape[1], model.decoder.out_features,
                                 masks.shape[1], chunk_bytes),
    )  # fmt: skip
    per_examples = min(n, rows)
    per_chunk = max(1, rows // per_examples)
    names = ("accuracy", "log_ratio", "kl", "kl_all") if with_kl else ("accuracy", "log_ratio")
    # per (mask, example) values, (M, N): one float each, averaged over the examples at the end
    values = {name: masks.new_empty(n_masks, n) for name in names}
    chunks = [(e, m) for e in range(0, n, per_examples) for m in range(0, n_masks, per_chunk)]
    part, part_start, original = None, -1, None
    for e, start in tqdm(chunks, desc="masks", disable=not progress, leave=False):
        if part is None or part_start != e:
            part_start, part = e, task.rows(e, e + per_examples)
            original = original_log_probs(model, part) if with_kl else None
        chunk, columns = slice(start, start + per_chunk), slice(e, e + per_examples)
        logits = intervene_on_task(model, part, masks[chunk], baselines[chunk], mode)
        log_ratio = decision_log_ratio(logits, part)
        values["accuracy"][chunk, columns] = (log_ratio < 0).to(masks.dtype)
        values["log_ratio"][chunk, columns] = log_ratio
        if with_kl:
            per_step = kl_per_step(logits, original)
            values["kl"][chunk, columns] = _mean_over_steps(per_step, part, False)
            values["kl_all"][chunk, columns] = _mean_over_steps(per_step, part, True)
        del logits
    return {name: value.mean(-1) for name, value in values.items()}


@dataclasses.dataclass
class DiffMaskConfig:
    """Hyperparameters of :func:`train_masks`. The paper leaves most unspecified. The
    defaults make the L0 budget bind: the paper's support ``[0, 1)`` with the DiffMask
    code's Hard Concrete ``(tau, l, r) = (0.2, -0.2, 1.0)``, masks that start (mostly) off
    (``init_loc = -4``, ``P(m != 0) ~ 0.02``), a fast dual ascent (the constraint is a
    fraction of the units, so the multiplier of a count is ``lambda / k``) clipped as the
    DiffMask code clips its multiplier, Adam at 0.1 on ``(loc, b_raw)``, a tanh baseline
    and the paper's ``alpha`` and ``kl_weight``. The ratio term is averaged over the batch
    where Eq. 4 sums over the data: the same minimiser, with the multiplier scaled by the
    number of examples.

    Attributes
    ----------
    mode
        ``"single"`` (subject step) or ``"every"`` (all steps) interventions.
    alpha
        L0 margin as a fraction of the units (Eq. 5).
    beta
        Margin of the C_(0,1) constraint (Eq. 7) as a fraction of the units; None: off.
    kl_weight
        Weight of the KL regulariser (Eq. 10; the paper uses 1.0).
    loss
        ``"ratio"`` (Eq. 2, the paper) or ``"log_ratio"``.
    estimator
        ``"hard_concrete"`` (DiffMask) or ``"reinforce"`` (Bernoulli masks, score function).
    shared_sample
        REINFORCE only: one mask sample per step and run (the mask is global), or one per
        example.
    control_decay
        REINFORCE only: decay of the moving-average control variate.
    steps, batch_size, lr
        Adam steps on ``(loc, b_raw)``, examples per step, learning rate.
    lambda_lr
        Step size of the dual ascent on the multipliers.
    lambda_max
        Ceiling of the multipliers (the DiffMask code clips its multiplier to [0, 200]);
        None: no ceiling.
    init_loc
        Mean of the initial mask locations. A negative value starts every unit (mostly)
        untouched, so that the search grows a set of units instead of pruning a dense one.
    init_noise
        Standard deviation of the random initialisation of ``loc`` and ``b_raw`` (0: all
        runs start alike and differ only by their samples).
    distribution
        The Hard Concrete ``(tau, l, r)``.
    eval_every
        Evaluate the thresholded mask on the evaluation task every so many steps.
    chunk_bytes
        Memory bound of one chunk of rows (:func:`rows_per_chunk`): a step whose runs x
        batch rows need more is computed chunk by chunk, its gradients accumulated (the same
        update).
    """

    mode: str = "single"
    alpha: float = 0.05
    beta: float | None = None
    kl_weight: float = 1.0
    loss: str = "ratio"
    estimator: str = "hard_concrete"
    shared_sample: bool = True
    control_decay: float = 0.9
    steps: int = 400
    batch_size: int = 128
    lr: float = 0.1
    lambda_lr: float = 300.0
    lambda_max: float | None = 2000.0
    init_loc: float = -4.0
    init_noise: float = 0.5
    distribution: HardConcrete = dataclasses.field(
        default_factory=lambda: HardConcrete(0.2, -0.2, 1.0)
    )
    eval_every: int = 25
    chunk_bytes: int = CHUNK_BYTES

    def __post_init__(self) -> None:
        checks = {
            "mode": (self.mode, MODES),
            "estimator": (self.estimator, ESTIMATORS),
            "loss": (self.loss, LOSSES),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}: choose one of {allowed}")
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= 1:
                raise ValueError(f"{name} is a fraction of the units in (0, 1], got {value}")
        if min(self.steps, self.batch_size, self.eval_every) < 1:
            raise ValueError("steps, batch_size and eval_every must be positive")


@dataclasses.dataclass
class MaskTraining:
    """The outcome of :func:`train_masks` for ``R`` runs.

    Attributes
    ----------
    loc
        ``(R, k)`` mask locations (Hard Concrete) or logits (REINFORCE's Bernoulli).
    baseline
        ``(R, k)`` the learned baseline ``b`` of Eq. 1.
    history
        Lists over evaluations: ``step``, ``seconds`` (training time so far), and ``(R,)``
        tensors ``accuracy``, ``units`` (thresholded mask), ``expected_units`` (the
        relaxed L0), ``kl`` and ``multiplier`` (lambda).
    losses
        ``(steps, R)`` the objective (ratio term plus weighted KL) per step.
    """

    config: DiffMaskConfig
    loc: torch.Tensor
    baseline: torch.Tensor
    history: dict[str, list]
    losses: torch.Tensor

    def expected_mask(self) -> torch.Tensor:
        """``E[m]`` per unit, ``(R, k)``."""
        if self.config.estimator == "reinforce":
            return torch.sigmoid(self.loc)
        return self.config.distribution.mean(self.loc)

    def masks(self, threshold: float = 0.5) -> torch.Tensor:
        """The discrete masks ``1[E[m] > threshold]`` (Appendix A), ``(R, k)`` floats."""
        return (self.expected_mask() > threshold).float()


_RECORDED = ("accuracy", "units", "expected_units", "kl", "multiplier")


@contextmanager
def _frozen(model: torch.nn.Module):
    """Switch off the gradients of ``model``'s parameters, restoring them on exit."""
    flags = [p.requires_grad for p in model.parameters()]
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        yield model
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)


def sample_masks(
    loc: torch.Tensor, config: DiffMaskConfig, batch_size: int, generator: torch.Generator
) -> torch.Tensor:
    """Masks for one training step from the ``(R, k)`` locations: Hard Concrete samples
    ``(R, B, k)``, one per example (differentiable in ``loc``), or Bernoulli(sigmoid(loc))
    samples for REINFORCE, ``(R, 1, k)`` with a shared sample, else ``(R, B, k)``."""
    runs, units = loc.shape
    if config.estimator == "hard_concrete":
        return config.distribution.sample(
            loc[:, None].expand(runs, batch_size, units), generator=generator
        )
    per_run = 1 if config.shared_sample else batch_size
    probs = torch.sigmoid(loc.detach())[:, None].expand(runs, per_run, units)
    return torch.bernoulli(probs, generator=generator)


def intervention_objective(
    model: LSTMNetwork,
    batch: InterventionTask,
    mask: torch.Tensor,
    baseline: torch.Tensor,
    config: DiffMaskConfig,
    original: torch.Tensor | None = None,
) -> torch.Tensor:
    """The per-example objective ``(R, B)``: the ratio of Eq. 2 (or its log) under the
    intervention, plus ``kl_weight`` times the KL of Eq. 10 (against ``original``, the
    unedited log-probabilities of the batch; None: computed here)."""
    logits = intervene_on_task(model, batch, mask, baseline, config.mode)
    log_ratio = decision_log_ratio(logits, batch)
    objective = log_ratio.exp() if config.loss == "ratio" else log_ratio
    if config.kl_weight:
        if original is None:
            original = original_log_probs(model, batch)
        objective = objective + config.kl_weight * kl_before_target(logits, batch, original)
    return objective


def _chunked_objective(
    model: LSTMNetwork,
    batch: InterventionTask,
    mask: torch.Tensor,
    baseline: torch.Tensor,
    config: DiffMaskConfig,
    rows: int,
) -> torch.Tensor:
    """:func:`intervention_objective` ``(R, B)`` computed ``rows`` sequences at a time, each
    chunk's share of the gradient of ``objective.mean(-1).sum()`` back-propagated into
    ``mask`` and ``baseline`` at once (so only one chunk's graph is alive). Returns the
    objective, detached."""
    runs, size = baseline.shape[0], len(batch)
    mask_leaf = mask.detach().requires_grad_(mask.requires_grad)
    base_leaf = baseline.detach().requires_grad_()
    objective = baseline.new_empty(runs, size)
    per_examples = min(size, rows)
    per_runs = max(1, rows // per_examples)
    for e in range(0, size, per_examples):
        part = batch.rows(e, e + per_examples)
        original = original_log_probs(model, part) if config.kl_weight else None
        for r in range(0, runs, per_runs):
            m = mask_leaf[r : r + per_runs]
            m = m if m.shape[1] == 1 else m[:, e : e + per_examples]
            value = intervention_objective(
                model, part, m, base_leaf[r : r + per_runs], config, original
            )
            objective[r : r + per_runs, e : e + per_examples] = value.detach()
            (value.sum() / size).backward()
    tensors, grads = [baseline], [base_leaf.grad]
    if mask.requires_grad:
        tensors.append(mask)
        grads.append(mask_leaf.grad)
    torch.autograd.backward(tensors, grads)
    return objective


def constraint_violations(loc: torch.Tensor, config: DiffMaskConfig) -> torch.Tensor:
    """``(2, R)``: ``E[C_0] / k - alpha`` (Eqs. 5, 8) and ``E[C_(0,1)] / k - beta`` (Eq. 7;
    zero when ``beta`` is None). For REINFORCE, ``E[C_0] = sum_i sigmoid(loc_i)``."""
    if config.estimator == "reinforce":
        l0 = torch.sigmoid(loc).mean(-1)
    else:
        l0 = config.distribution.prob_nonzero(loc).mean(-1)
    if config.beta is None:
        return torch.stack([l0 - config.alpha, torch.zeros_like(l0)])
    return torch.stack(
        [l0 - config.alpha, config.distribution.prob_open(loc).mean(-1) - config.beta]
    )


def score_function_surrogate(
    cost: torch.Tensor, control: torch.Tensor, mask: torch.Tensor, loc: torch.Tensor
) -> torch.Tensor:
    """REINFORCE: a term whose gradient in ``loc`` is ``mean((cost - control) grad log p(mask))``.

    ``cost`` is ``(R, S)`` (detached) for the ``S`` mask samples ``(R, S, k)`` of each run,
    ``control`` the ``(R,)`` moving-average control variate (Williams, 1992)."""
    log_prob = -F.binary_cross_entropy_with_logits(
        loc[:, None].expand_as(mask), mask, reduction="none"
    ).sum(-1)
    return ((cost - control[:, None]) * log_prob).mean(-1)


def train_masks(
    model: LSTMNetwork,
    train: InterventionTask,
    evaluation: InterventionTask,
    config: DiffMaskConfig,
    *,
    runs: int = 1,
    seed: int = 0,
    progress: bool = True,
    callback: Callable[[int, dict], None] | None = None,
) -> MaskTraining:
    """Learn ``runs`` independent sparse interventions (masks and baselines) at once.

    Each step draws a mini-batch, samples a mask per example and run, and minimises the
    Lagrangian of Eq. 6,

        mean_x L(x) + kl_weight * KL(x) + lambda_0 (E[C_0] / k - alpha)
                                       [+ lambda_1 (E[C_(0,1)] / k - beta)]

    by Adam on ``(loc, b_raw)`` (pathwise gradients for Hard Concrete; for REINFORCE,
    ``(L - c) grad log p(m)`` with ``c`` a moving average of the loss), then raises each
    multiplier by ``lambda_lr`` times its constraint's violation, clamped at 0 (dual
    ascent). ``L`` is the ratio of Eq. 2 (or its log). Every ``eval_every`` steps the
    thresholded masks are evaluated on ``evaluation`` and ``callback(step, record)`` is
    called with the latest values (for live plots).
    """
    if not len(train) or not len(evaluation):
        raise ValueError("train_masks needs non-empty training and evaluation tasks")
    device = train.tokens.device
    units = model.n_layers * model.hidden_dim
    generator = torch.Generator(device=device).manual_seed(seed)
    init = torch.randn(2, runs, units, generator=generator, device=device) * config.init_noise
    loc = (init[0] + config.init_loc).requires_grad_()
    raw_baseline = init[1].clone().requires_grad_()
    optimizer = torch.optim.Adam([loc, raw_baseline], lr=config.lr)
    multipliers = torch.zeros(2, runs, device=device)
    control = None
    history: dict[str, list] = {k: [] for k in ("step", "seconds", *_RECORDED)}
    losses, seconds = [], 0.0
    rows = rows_per_chunk(
        train.tokens.shape[1], model.decoder.out_features, units, config.chunk_bytes
    )
    with _frozen(model):
        for step in tqdm(range(config.steps + 1), desc="masks", disable=not progress, leave=False):
            done = step == config.steps
            if step % config.eval_every == 0 or done:
                record = _evaluate_training(
                    model, evaluation, loc, raw_baseline, multipliers, config
                )
                history["step"].append(step)
                history["seconds"].append(seconds)
                for name, value in record.items():
                    history[name].append(value)
                if callback is not None:
                    callback(step, record)
            if done:
                break
            started = time.perf_counter()
            batch = train.subset(
                torch.randint(len(train), (config.batch_size,), generator=generator, device=device)
            )
            mask = sample_masks(loc, config, config.batch_size, generator)
            optimizer.zero_grad(set_to_none=True)
            if runs * config.batch_size <= rows:
                objective = intervention_objective(
                    model, batch, mask, torch.tanh(raw_baseline), config
                )
                violations = constraint_violations(loc, config)
                loss = objective.mean(-1) + (multipliers * violations).sum(0)
            else:  # the objective's gradient is accumulated chunk by chunk
                objective = _chunked_objective(
                    model, batch, mask, torch.tanh(raw_baseline), config, rows
                )
                violations = constraint_violations(loc, config)
                loss = (multipliers * violations).sum(0)
            if config.estimator == "reinforce":
                # (R, 1) for one shared sample per run, (R, B) for one sample per example
                cost = objective.detach()
                cost = cost.mean(-1, keepdim=True) if config.shared_sample else cost
                control = cost.mean(-1) if control is None else control
                loss = loss + score_function_surrogate(cost, control, mask, loc)
                decay = config.control_decay
                control = decay * control + (1 - decay) * cost.mean(-1)
            loss.sum().backward()
            optimizer.step()
            with torch.no_grad():
                multipliers += config.lambda_lr * violations.detach()
                multipliers.clamp_(min=0, max=config.lambda_max)
            seconds += time.perf_counter() - started
            losses.append(objective.detach().mean(-1))
    return MaskTraining(
        config, loc.detach(), torch.tanh(raw_baseline).detach(), history, torch.stack(losses)
    )


@torch.no_grad()
def _evaluate_training(
    model: LSTMNetwork,
    evaluation: InterventionTask,
    loc: torch.Tensor,
    raw_baseline: torch.Tensor,
    multipliers: torch.Tensor,
    config: DiffMaskConfig,
) -> dict[str, torch.Tensor]:
    state = MaskTraining(config, loc, torch.tanh(raw_baseline), {}, torch.empty(0))
    masks = state.masks()
    scores = evaluate_masks(
        model, evaluation, masks, state.baseline, config.mode, chunk_bytes=config.chunk_bytes
    )
    units = loc.shape[-1]
    return {
        "accuracy": scores["accuracy"].cpu(),
        "units": masks.sum(-1).cpu(),
        "expected_units": ((constraint_violations(loc, config)[0] + config.alpha) * units).cpu(),
        "kl": scores["kl"].cpu(),
        "multiplier": multipliers[0].clone().cpu(),
    }


def cached_masks(
    model: LSTMNetwork,
    train: InterventionTask,
    evaluation: InterventionTask,
    config: DiffMaskConfig,
    *,
    runs: int = 1,
    seed: int = 0,
    progress: bool = True,
) -> MaskTraining:
    """:func:`train_masks`, stored in the disk cache under everything that determines it
    (the model's weights, both tasks, the configuration, ``runs`` and ``seed``)."""
    # the tasks' tensors themselves (dataclasses.astuple would deep-copy them on every call)
    tasks = [
        [getattr(task, f.name) for f in dataclasses.fields(task)] for task in (train, evaluation)
    ]
    key = {"model": module_fingerprint(model), "tasks": tasks, "config": dataclasses.asdict(config)}

    def build() -> dict:
        trained = train_masks(
            model, train, evaluation, config, runs=runs, seed=seed, progress=progress
        )
        return {
            "loc": trained.loc.cpu(),
            "baseline": trained.baseline.cpu(),
            "history": trained.history,
            "losses": trained.losses.cpu(),
        }

    stored = cached("diffmask", {**key, "runs": runs, "seed": seed}, build)
    device = train.tokens.device
    return MaskTraining(
        config,
        stored["loc"].to(device),
        stored["baseline"].to(device),
        stored["history"],
        stored["losses"],
    )


def steps_to_converge(
    history: dict[str, list], accuracy_tolerance: float = 0.02, unit_tolerance: int = 1
) -> torch.Tensor:
    """Per run, the index into ``history`` of the first evaluation from which on the
    accuracy stays within ``accuracy_tolerance`` and the unit count within
    ``unit_tolerance`` of their final values ("time to converge", Table 3)."""
    accuracy = torch.stack(history["accuracy"])  # (E, R)
    units = torch.stack(history["units"])
    settled = ((accuracy - accuracy[-1]).abs() <= accuracy_tolerance) & (
        (units - units[-1]).abs() <= unit_tolerance
    )
    # last evaluation that is not settled, + 1 (suffix of settled evaluations)
    unsettled = (~settled).flip(0).int().cumsum(0).flip(0) > 0
    return unsettled.sum(0)


def unit_set_masks(
    unit_sets: torch.Tensor, values: torch.Tensor, n_units: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks and baselines ``(M, n_units)`` that set the units ``unit_sets`` ``(M, s)`` to
    ``values`` ``(M, s)`` and leave all others alone: the candidates of an exhaustive
    search, for :func:`evaluate_masks`."""
    if unit_sets.shape != values.shape:
        raise ValueError(f"unit_sets {tuple(unit_sets.shape)} and values differ in shape")
    masks = torch.zeros(unit_sets.shape[0], n_units, device=values.device)
    baselines = torch.zeros_like(masks)
    masks.scatter_(1, unit_sets, 1.0)
    baselines.scatter_(1, unit_sets, values)
    return masks, baselines


def all_unit_sets(units: Sequence[int], size: int, values: Sequence[float]):
    """Every set of ``size`` distinct units with every assignment of ``values``:
    ``(unit_sets, values)`` long and float tensors of shape ``(M, size)``."""
    combos = list(itertools.combinations(units, size))
    signs = list(itertools.product(values, repeat=size))
    sets = torch.tensor([c for c in combos for _ in signs], dtype=torch.long)
    assigned = torch.tensor([s for _ in combos for s in signs], dtype=torch.float)
    return sets.view(-1, size), assigned.view(-1, size)


def load_word_language_model(
    checkpoint: str | Path, vocabulary: str | Path
) -> tuple[LSTMNetwork, Vocabulary]:
    """Load a PyTorch ``word_language_model`` LSTM (Gulordava et al.'s 650-unit model).

    The tokens are re-indexed to :class:`Vocabulary`'s convention (``<pad>``, ``<unk>``,
    ``<bos>``, ``<eos>`` first): embedding and decoder rows are permuted accordingly,
    ``<bos>`` reuses the ``<eos>`` embedding (the model reads sentences after an ``<eos>``)
    and ``<pad>``/``<bos>`` are never predicted.

    Parameters
    ----------
    checkpoint
        A ``torch.save``'d ``RNNModel`` (modules ``encoder``, ``rnn``, ``decoder``), or its
        state dict. The pickled module is read without its class being importable.
    vocabulary
        The vocabulary file, one token per line, line ``i`` being id ``i``.
    """
    words = Path(vocabulary).read_text(encoding="utf-8").split("\n")
    words = [w.strip() for w in words]
    words = words[:-1] if words and not words[-1] else words  # the final newline
    seen: dict[str, int] = {}
    for line, word in enumerate(words, 1):
        if not word:
            raise ValueError(f"{vocabulary}, line {line}: an empty token")
        if word in seen:
            raise ValueError(
                f"{vocabulary}, line {line}: {word!r} is listed twice (first on line "
                f"{seen[word]}): one token per line, each once"
            )
        seen[word] = line
    state = _word_language_model_state(checkpoint)
    n_layers = 1 + max(int(k.rsplit("_l", 1)[1]) for k in state if k.startswith("rnn.weight_ih"))
    embedding, decoder_weight = state["encoder.weight"], state["decoder.weight"]
    if not embedding.shape[0] == decoder_weight.shape[0] == len(words):
        raise ValueError(
            f"the vocabulary file {vocabulary} lists {len(words)} tokens but the checkpoint "
            f"{checkpoint} embeds {embedding.shape[0]} and predicts {decoder_weight.shape[0]}: "
            "give the vocabulary file that was saved with this checkpoint"
        )
    source = {w: i for i, w in enumerate(words)}
    if EOS not in source:
        raise ValueError(f"{vocabulary}: no {EOS} token, is it a word_language_model vocabulary?")
    vocab = Vocabulary([PAD, UNK, BOS, EOS] + [w for w in words if w not in (PAD, UNK, BOS, EOS)])
    rows = torch.tensor([source.get(w, source.get(UNK, source[EOS])) for w in vocab.tokens])
    rows[vocab.index[BOS]] = source[EOS]
    model = LSTMNetwork(
        len(vocab),
        len(vocab),
        embedding_dim=embedding.shape[1],
        hidden_dim=state["rnn.weight_hh_l0"].shape[1],
        n_layers=n_layers,
    )
    mapped = {"embedding.weight": embedding[rows], "decoder.weight": decoder_weight[rows]}
    mapped["decoder.bias"] = state["decoder.bias"][rows]
    never = torch.tensor([vocab.index[PAD], vocab.index[BOS]])
    mapped["decoder.weight"][never] = 0.0
    mapped["decoder.bias"][never] = -1e4
    if UNK not in source:
        mapped["decoder.bias"][vocab.index[UNK]] = -1e4
    for key, value in state.items():
        if key.startswith("rnn."):
            mapped["lstm." + key[4:]] = value
    model.load_state_dict(mapped)
    return model.eval(), vocab


class _AnyClassUnpickler(pickle.Unpickler):
    """Unpickles a module whose class (e.g. ``model.RNNModel``) is not importable."""

    def find_class(self, module: str, name: str):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (torch.nn.Module,), {})


class _AnyClassPickle:
    Unpickler = _AnyClassUnpickler
    load = staticmethod(pickle.load)


def _word_language_model_state(checkpoint: str | Path) -> dict[str, torch.Tensor]:
    """The float state dict of a saved ``RNNModel`` or of its state dict, on the CPU."""
    loaded = torch.load(
        checkpoint, map_location="cpu", weights_only=False, pickle_module=_AnyClassPickle
    )
    if isinstance(loaded, torch.nn.Module):
        loaded = {
            f"{name}.{key}": value
            for name in ("encoder", "rnn", "decoder")
            for key, value in loaded._modules[name]._parameters.items()
            if value is not None
        }
    missing = {"encoder.weight", "decoder.weight", "decoder.bias", "rnn.weight_hh_l0"} - set(loaded)
    if missing:
        raise ValueError(f"{checkpoint}: not a word_language_model checkpoint, lacks {missing}")
    return {k: v.detach().float() for k, v in loaded.items()}
