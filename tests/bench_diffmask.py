"""Benchmark: steps per second of DiffMask training, batched, against REINFORCE and against a
naive loop over examples (one forward pass per example). A plain script: run it directly.

    python tests/bench_diffmask.py
"""

from __future__ import annotations

import time

import torch

from utils.diffmask import (
    DiffMaskConfig,
    constraint_violations,
    intervention_objective,
    sample_masks,
    train_masks,
)
from utils.intervention_tasks import InterventionTask
from utils.lstm import LSTMNetwork

VOCAB, HIDDEN, STEPS, BATCH, LENGTH, RUNS = 200, 64, 20, 64, 8, 3
NAIVE_STEPS = 2  # the per-example loop is slow: time a couple of steps


def random_task(n: int) -> InterventionTask:
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(4, VOCAB, (n, LENGTH), generator=gen)
    return InterventionTask(
        tokens,
        torch.full((n,), LENGTH - 1),
        torch.full((n,), 2),
        torch.full((n,), 5),
        torch.full((n,), 6),
    )


def batched(model: LSTMNetwork, task: InterventionTask, estimator: str) -> float:
    config = DiffMaskConfig(steps=STEPS, batch_size=BATCH, eval_every=STEPS, estimator=estimator)
    started = time.perf_counter()
    train_masks(model, task, task.subset(range(8)), config, runs=RUNS, progress=False)
    return STEPS / (time.perf_counter() - started)


def naive(model: LSTMNetwork, task: InterventionTask) -> float:
    """The same updates, computing the objective one run and one example at a time."""
    config = DiffMaskConfig(batch_size=1)
    units = model.n_layers * model.hidden_dim
    loc = torch.zeros(RUNS, units, requires_grad=True)
    raw = torch.zeros(RUNS, units, requires_grad=True)
    optimizer = torch.optim.Adam([loc, raw], lr=config.lr)
    gen = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    for _ in range(NAIVE_STEPS):
        index = torch.randint(len(task), (BATCH,), generator=gen).tolist()
        loss = constraint_violations(loc, config)[0].sum()
        for run in range(RUNS):
            for i in index:
                mask = sample_masks(loc[run : run + 1], config, 1, gen)
                example = task.subset([i])
                objective = intervention_objective(
                    model, example, mask, torch.tanh(raw[run : run + 1]), config
                )
                loss = loss + objective.sum() / BATCH
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return NAIVE_STEPS / (time.perf_counter() - started)


def main() -> None:
    torch.set_num_threads(1)  # as the chapter does on the CPU
    torch.manual_seed(0)
    model = LSTMNetwork(VOCAB, VOCAB, 64, HIDDEN, 2).eval()
    task = random_task(512)
    batched(model, task, "hard_concrete")  # warm-up: first calls allocate and initialise
    fast = batched(model, task, "hard_concrete")
    reinforce = batched(model, task, "reinforce")
    slow = naive(model, task)
    print(f"{RUNS} runs x batch {BATCH}, {2 * HIDDEN} units, {LENGTH} steps per sequence")
    print(f"DiffMask, batched:           {fast:8.2f} steps/s")
    print(
        f"REINFORCE, batched:          {reinforce:8.2f} steps/s  (DiffMask / REINFORCE "
        f"{fast / reinforce:.2f}x)"
    )
    print(f"DiffMask, per-example loop:  {slow:8.2f} steps/s  (batched / naive {fast / slow:.1f}x)")


if __name__ == "__main__":
    main()
