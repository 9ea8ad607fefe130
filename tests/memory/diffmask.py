"""Chapter 1's heavy kernels: building the intervention tasks and a few batched DiffMask
steps on them, and the evaluation of many fixed masks with the KL of Eq. 10.

Tokens are the prefixes' ids (``n_tokens / LENGTH`` prefixes of ``LENGTH`` steps); neurons are
the LSTM's units (two layers of ``n_neurons / 2``), and the vocabulary grows with them
(``4 * n_neurons`` words). The task once kept the unedited model's ``(N, T, V)``
log-probabilities; now only the ids, and every ``(rows, T, V)`` pass is cut into chunks
of ``CHUNK`` bytes (small here, so that the chunking is what is measured). The old task's
``N x T x V`` floats grew as tokens times vocabulary (16x at 4x, within the s**2 bound): what
hurt was its constant, a 50,000-word vocabulary (36 GiB for 12,000 agreement items).
"""

from __future__ import annotations

import torch

from utils.diffmask import DiffMaskConfig, train_masks
from utils.intervention_tasks import build_task
from utils.lstm import BOS, EOS, PAD, UNK, LSTMNetwork, Vocabulary
from utils.mask_evaluation import evaluate_masks

LENGTH = 8
CHUNK = 32 * 2**20


def _inputs(n_tokens: int, n_neurons: int, device: str):
    torch.manual_seed(0)
    size = 4 * n_neurons
    vocab = Vocabulary([PAD, UNK, BOS, EOS] + [f"w{i}" for i in range(size - 4)])
    model = LSTMNetwork(size, size, 32, n_neurons // 2, 2).eval().to(device)
    gen = torch.Generator().manual_seed(0)
    n = n_tokens // LENGTH
    words = torch.randint(4, size, (n, LENGTH - 1), generator=gen)
    prefixes = [vocab.decode(row.tolist()) for row in words]
    return (model, vocab, prefixes)


def _tasks_and_steps(inputs) -> None:
    model, vocab, prefixes = inputs
    n = len(prefixes)
    task = build_task(model, vocab, prefixes, ["w0"] * n, ["w1"] * n, [1] * n, chunk_bytes=CHUNK)
    config = DiffMaskConfig(steps=3, batch_size=16, eval_every=3, chunk_bytes=CHUNK)
    train_masks(model, task, task.subset(range(min(len(task), 32))), config, runs=4, progress=False)


def _evaluation_inputs(n_tokens: int, n_neurons: int, device: str):
    model, vocab, prefixes = _inputs(n_tokens, n_neurons, device)
    n = len(prefixes)
    task = build_task(model, vocab, prefixes, ["w0"] * n, ["w1"] * n, [1] * n, chunk_bytes=CHUNK)
    gen = torch.Generator().manual_seed(1)
    units = model.n_layers * model.hidden_dim
    masks = (torch.rand(n_neurons // 32, units, generator=gen) > 0.9).float().to(device)
    return (model, task, masks, torch.ones_like(masks))


def _evaluation(inputs) -> None:
    model, task, masks, baselines = inputs
    evaluate_masks(model, task, masks, baselines, "single", chunk_bytes=CHUNK)


KERNELS = {
    "tasks_and_steps": (_inputs, _tasks_and_steps, (16_000, 128)),
    "evaluation": (_evaluation_inputs, _evaluation, (16_000, 128)),
}
