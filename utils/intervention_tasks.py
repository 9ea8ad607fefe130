"""Intervention tasks: the prefixes, contested forms and positions of a sparse intervention.

De Cao, Schmid, Hupkes and Titov (2021), "Sparse Interventions in Language Models with
Differentiable Masking", Sec. 3.1: for a set of prefixes on which the model prefers a form
``d`` over a form ``t`` (e.g. a plural verb over the singular one), an intervention (Eq. 1,
:mod:`utils.interventions`) should make the model prefer ``t``. An
:class:`InterventionTask` holds token ids and positions only; :func:`intervene_on_task` runs
``R`` interventions on its examples at once and :func:`decision_log_ratio` reads the log of
Eq. 2's ratio at the target step.

Memory is linear in the number of examples: the unedited model's next-word distributions
(for the KL of Eq. 10) are recomputed for the rows at hand (:func:`original_log_probs`),
and every pass over ``(rows, T, V)`` logits is cut into chunks of at most ``chunk_bytes``
(:func:`rows_per_chunk`); :func:`memory_estimate` gives the peak for a chapter to print.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch.nn import functional as F

from utils.interventions import intervene
from utils.lstm import BOS, EOS, PAD, LSTMNetwork, Vocabulary
from utils.memory import tensor_bytes

MODES = ("single", "every")
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


def sentence_task(
    vocab: Vocabulary,
    sentences: Sequence[Sequence[str]],
    subject_positions: Sequence[int],
    device: torch.device | str = "cpu",
) -> InterventionTask:
    """Whole sentences as a task without a decision, for the KL of Eq. 10 alone.

    The target step of each sentence is its last (the prediction of ``<eos>``), so that
    :func:`utils.mask_evaluation.evaluate_masks`'s ``kl_all`` averages the KL over every
    prediction of the sentence; ``subject_positions`` (0-based word indices) are the steps
    of single-step interventions. Both contested forms are ``<eos>`` (a log-ratio of 0).
    """
    n = len(sentences)
    if not n or len(subject_positions) != n:
        raise ValueError(
            f"sentence_task needs as many subject positions ({len(subject_positions)}) as "
            f"sentences ({n}), at least one"
        )
    width = 1 + max(len(s) for s in sentences)
    tokens = torch.full((n, width), vocab.index[PAD], dtype=torch.long)
    for row, words in enumerate(sentences):
        tokens[row, : len(words) + 1] = torch.tensor(vocab.encode([BOS, *words]))
    eos = torch.full((n,), vocab.index[EOS], dtype=torch.long)
    return InterventionTask(
        tokens.to(device),
        torch.tensor([len(s) for s in sentences], device=device),
        torch.tensor(list(subject_positions), device=device) + 1,
        eos.to(device),
        eos.to(device),
    )


def concat_tasks(tasks: Sequence[InterventionTask]) -> InterventionTask:
    """The examples of several tasks of the same width as one task (e.g. both directions of
    a behaviour: a task whose flip direction varies from example to example)."""
    widths = {task.tokens.shape[1] for task in tasks}
    if len(widths) != 1:
        raise ValueError(f"concat_tasks needs tasks of one width, got widths {sorted(widths)}")
    fields = [f.name for f in dataclasses.fields(InterventionTask)]
    return InterventionTask(*(torch.cat([getattr(t, name) for t in tasks]) for name in fields))
