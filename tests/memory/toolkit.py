"""Chapter 0's heavy kernels: per-word activations of every layer, and a grid of linear probes
over every neuron of a layer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from utils.activations import extract_activations
from utils.probes import train_linear_probes

N_CLASSES = 17


def _probe_inputs(n_tokens: int, n_neurons: int, device: str):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_tokens, n_neurons, generator=gen).to(device)
    y = torch.randint(0, N_CLASSES, (n_tokens,), generator=gen).to(device)
    return x, y


def _probe_grid(inputs) -> None:
    x, y = inputs
    train_linear_probes(x, y, n_classes=N_CLASSES, l1=[0.0, 1e-4], l2=[0.0, 1e-4], epochs=1,
                        batch_size=256, progress=False)  # fmt: skip


def _encoder_inputs(n_tokens: int, n_neurons: int, device: str):
    """A random 2-layer BERT of ``n_neurons`` hidden units and sentences of ``n_tokens`` words
    (20 words each, from a vocabulary of whole words)."""
    import transformers

    from tests.tiny_models import build_tiny_model

    scratch = tempfile.TemporaryDirectory()  # removed with the measuring process
    folder = build_tiny_model("wordpiece", Path(scratch.name), max_positions=64)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=n_neurons,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * n_neurons,
        max_position_embeddings=64,
    )
    model = transformers.BertModel(config).eval().to(device)
    words = [w for w in tokenizer.get_vocab() if w.isalpha()]
    sentences = [
        [words[(i * 7 + j) % len(words)] for j in range(20)] for i in range(n_tokens // 20)
    ]
    return model, tokenizer, sentences, scratch


def _activations(inputs) -> None:
    model, tokenizer, sentences, _ = inputs
    extract_activations(model, tokenizer, sentences, progress=False)


KERNELS = {
    "linear_probe_grid": (_probe_inputs, _probe_grid, (20_000, 384)),
    "activations": (_encoder_inputs, _activations, (8_000, 128)),
}
