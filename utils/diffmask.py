"""DiffMask for sparse interventions: a global mask and baseline, learned with an L0 Lagrangian.

De Cao, Schmid, Hupkes and Titov (2021), "Sparse Interventions in Language Models with
Differentiable Masking". For the prefixes of an :class:`utils.intervention_tasks.InterventionTask`,
on which the model prefers a form ``d`` over a form ``t``, find a mask ``m`` over the hidden
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

The paper's baseline estimator, REINFORCE (:mod:`utils.reinforce`), trains a Bernoulli mask
at the same budgets with the same loop. Evaluation is :mod:`utils.mask_evaluation`.

All ``R`` runs of :func:`train_masks` (independent masks and baselines, e.g. random
restarts) are stacked in the batch dimension with the examples: one forward pass per step,
cut into chunks of at most ``chunk_bytes`` whose gradients are accumulated.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import contextmanager

import torch
from tqdm.auto import tqdm

from utils.cache import cached, module_fingerprint
from utils.hard_concrete import HardConcrete
from utils.intervention_tasks import (
    CHUNK_BYTES,
    MODES,
    InterventionTask,
    decision_log_ratio,
    intervene_on_task,
    original_log_probs,
    rows_per_chunk,
)
from utils.lstm import LSTMNetwork
from utils.mask_evaluation import evaluate_masks, kl_before_target
from utils.reinforce import (
    bernoulli_l0,
    sample_bernoulli,
    score_function_surrogate,
    update_control,
)

ESTIMATORS = ("hard_concrete", "reinforce")
LOSSES = ("ratio", "log_ratio")


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
    return sample_bernoulli(loc, 1 if config.shared_sample else batch_size, generator)


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
        l0 = bernoulli_l0(loc)
    else:
        l0 = config.distribution.prob_nonzero(loc).mean(-1)
    if config.beta is None:
        return torch.stack([l0 - config.alpha, torch.zeros_like(l0)])
    return torch.stack(
        [l0 - config.alpha, config.distribution.prob_open(loc).mean(-1) - config.beta]
    )


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
                baseline_cost = cost.mean(-1) if control is None else control
                loss = loss + score_function_surrogate(cost, baseline_cost, mask, loc)
                control = update_control(control, cost, config.control_decay)
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


def steps_to_accuracy(history: dict[str, list], target: torch.Tensor) -> torch.Tensor:
    """Per run, the index into ``history`` of the first evaluation from which on the accuracy
    stays at or above ``target`` ``(R,)`` (fractions); ``len(history["step"])`` for a run
    that does not end there ("time to the same accuracy", Table 3)."""
    accuracy = torch.stack(history["accuracy"])  # (E, R)
    below = accuracy < target.to(accuracy)
    # last evaluation below the target, + 1 (suffix of evaluations at or above it)
    return (below.flip(0).int().cumsum(0).flip(0) > 0).sum(0)
