"""Evaluation of fixed interventions: flip accuracy, log-ratio and the KL of Eq. 10.

De Cao et al. (2021), Sec. 4: a thresholded mask and its baseline are scored on held-out
prefixes by their **accuracy** (the share of examples whose ratio of Eq. 2 drops below 1,
i.e. whose decision flips), the **number of units**, and the **KL** between the original and
the intervened next-word distributions (Eq. 10). :func:`evaluate_masks` scores ``M``
interventions at once, stacked in the batch dimension; on a
:func:`utils.intervention_tasks.sentence_task` its ``kl_all`` is the KL of Eq. 10 on whole
sentences unrelated to the task (the "no other discernible role" of Sec. 1).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from utils.intervention_tasks import (
    CHUNK_BYTES,
    InterventionTask,
    decision_log_ratio,
    intervene_on_task,
    original_log_probs,
    rows_per_chunk,
)
from utils.lstm import LSTMNetwork


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
    return mean_over_steps(kl_per_step(logits, original), task, include_target=False)


def mean_over_steps(
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
            values["kl"][chunk, columns] = mean_over_steps(per_step, part, False)
            values["kl_all"][chunk, columns] = mean_over_steps(per_step, part, True)
        del logits
    return {name: value.mean(-1) for name, value in values.items()}
