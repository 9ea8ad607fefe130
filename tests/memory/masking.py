"""Chapter 4's heavy kernels: the frozen bottom layers run once over a corpus (its cache),
a masked training step (both factors, forward and backward, the whole batch at once and in
micro-batches) and an evaluation (both representations of every sentence, then the
attackers).

``n_tokens`` counts sub-tokens (sentences of 32), ``n_neurons`` is the encoder's width.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

SENTENCE = 32  # sub-tokens per sentence


def _config(n_neurons: int):
    import transformers

    return transformers.BertConfig(vocab_size=200, hidden_size=n_neurons, num_hidden_layers=2,
                                   num_attention_heads=4, intermediate_size=4 * n_neurons,
                                   max_position_embeddings=64)  # fmt: skip


def _bottom(n_tokens: int, n_neurons: int):
    from utils.frozen_bottom import BottomStates

    n = n_tokens // SENTENCE
    gen = torch.Generator().manual_seed(0)
    offsets = torch.arange(n + 1) * SENTENCE
    return BottomStates(torch.randn(n * SENTENCE, n_neurons, generator=gen), offsets, 1)


def _net(n_neurons: int, device: str, kind: str = "weights"):
    import transformers

    from utils.disentangle import Disentangler, MaskedStreams
    from utils.masks import FactorMasks

    torch.manual_seed(0)
    top = transformers.BertModel(_config(n_neurons)).eval().encoder.layer[1:].to(device)
    return Disentangler(MaskedStreams(top, FactorMasks(top, kind)), n_neurons, (2, 2)).to(device)


# ---- the bottom layers over a corpus ---------------------------------------------------------


def _bottom_inputs(n_tokens: int, n_neurons: int, device: str):
    import transformers

    from tests.tiny_models import WORDS, build_tiny_model

    folder = build_tiny_model("wordpiece", Path(tempfile.mkdtemp()) / "tokenizer")
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    model = transformers.BertModel(_config(n_neurons)).eval().to(device)
    words = list(WORDS)
    sentences = [[words[(i + j) % len(words)] for j in range(SENTENCE - 2)]
                 for i in range(n_tokens // SENTENCE)]  # fmt: skip
    return (model, tokenizer, sentences)


def _bottom_run(inputs) -> None:
    from utils.frozen_bottom import encode_bottom

    model, tokenizer, sentences = inputs
    encode_bottom(model, tokenizer, sentences, 1, progress=False)


# ---- a training step -------------------------------------------------------------------------


def _step_inputs(n_tokens: int, n_neurons: int, device: str):
    bottom = _bottom(n_tokens, n_neurons)
    n = len(bottom)
    triplets = torch.arange(3 * (n // 3)).view(-1, 3)
    labels = (torch.arange(n) % 2, (torch.arange(n) // 2) % 2)
    return (_net(n_neurons, device), bottom, triplets, labels)


def _step(inputs, micro_batch: int | None) -> None:
    from utils.disentangle import TrainConfig, train_disentangler

    net, bottom, triplets, labels = inputs
    config = TrainConfig(steps=1, batch_size=len(triplets))
    train_disentangler(net, bottom, triplets, labels, config, micro_batch=micro_batch,
                       progress=False)  # fmt: skip


# ---- an evaluation ---------------------------------------------------------------------------


def _evaluation_inputs(n_tokens: int, n_neurons: int, device: str):
    import sklearn.linear_model  # noqa: F401  (imported here: its import is not the kernel's)
    import threadpoolctl  # noqa: F401

    bottom = _bottom(n_tokens, n_neurons)
    n = len(bottom)
    labels = (torch.arange(n) % 2, (torch.arange(n) // 2) % 2)
    return (_net(n_neurons, device), bottom, labels)


def _evaluation(inputs) -> None:
    from utils.disentangle import embed, group_accuracies
    from utils.leakage import leakage

    net, bottom, (y_a, y_b) = inputs
    z_a, z_b = embed(net, bottom)
    with torch.no_grad():
        group_accuracies(net.heads[0](z_a.to(net.heads[0].weight.device)).argmax(1).cpu(), y_a,
                         y_b)  # fmt: skip
    for z, other in ((z_a, y_b), (z_b, y_a)):
        for attacker in ("mlp_std", "logreg"):
            leakage(z, other, attacker=attacker)


KERNELS = {
    "bottom_states": (_bottom_inputs, _bottom_run, (16_000, 96)),
    "masked_training_step": (_step_inputs, lambda inputs: _step(inputs, None), (6_144, 64)),
    "masked_training_step_micro": (_step_inputs, lambda inputs: _step(inputs, 4), (3_072, 128)),
    "evaluation": (_evaluation_inputs, _evaluation, (16_000, 128)),
}
