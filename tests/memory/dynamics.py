"""Chapter 5's heavy kernels: SVCCA of every checkpoint against every tagger, the softmax
gradient's concentration at every test token, the interdependence of word pairs, and the
LM's states and scores over held-out documents.

Each has a third data dimension (checkpoints, vocabulary entries, time steps), so each setup
takes the factor and scales every data dimension by it (see :mod:`tests.memory`).
"""

from __future__ import annotations

import torch

from utils.decomposition import interdependence
from utils.lstm import LSTMNetwork, evaluate_rows, layer_states
from utils.sparsity import softmax_gradient_concentration
from utils.svcca import svcca


def _svcca_inputs(factor: int, device: str):
    """``11f`` checkpoint views against 3 tagger views of ``2500f`` tokens and ``16f`` units:
    from 1x on, more tokens than a chunk and more pairs than a group (``utils.svcca``'s
    CHUNK_TOKENS and PAIR_GROUP), the sizes from which its memory stops growing with them."""
    gen = torch.Generator().manual_seed(0)
    n, d = 2500 * factor, 16 * factor
    shared = torch.randn(n, 8, generator=gen)
    lm = shared @ torch.randn(8, d, generator=gen) + torch.randn(11 * factor, n, d, generator=gen)
    taggers = shared @ torch.randn(8, d, generator=gen) + torch.randn(3, n, d, generator=gen)
    return lm, taggers, device


def _svcca(inputs) -> None:
    lm, taggers, device = inputs
    svcca(lm[:, None], taggers[None], keep=None, threshold=0.98, device=device)


def _decoder_inputs(factor: int, device: str):
    """A decoder of ``32f`` units over ``2000f`` words, states of ``4000f`` test tokens."""
    gen = torch.Generator().manual_seed(0)
    hidden, vocabulary, n = 32 * factor, 2000 * factor, 4000 * factor
    model = LSTMNetwork(vocabulary, vocabulary, hidden, hidden, n_layers=1).to(device)
    states = torch.randn(n, hidden, generator=gen)
    targets = torch.randint(0, vocabulary, (n,), generator=gen)
    return model, states, targets


def _gradient_concentration(inputs) -> None:
    model, states, targets = inputs
    with torch.no_grad():
        softmax_gradient_concentration(model.decoder, states, targets)


def _pair_inputs(factor: int, device: str):
    """``1000f`` word pairs at sequential distance 1-4, in rows of ``12f`` words, through a
    one-layer LSTM of ``24f`` units (pairs, steps and units: three data dimensions)."""
    gen = torch.Generator().manual_seed(0)
    length, hidden, n_pairs = 12 * factor, 24 * factor, 1000 * factor
    model = LSTMNetwork(100, 100, hidden, hidden, n_layers=1).to(device).eval()
    tokens = torch.randint(4, 100, (n_pairs, length), generator=gen)
    right_at = torch.randint(4, length, (n_pairs,), generator=gen)
    left_at = right_at - torch.randint(1, 5, (n_pairs,), generator=gen)
    steps = torch.arange(length)
    return model, tokens, steps == left_at[:, None], steps == right_at[:, None], right_at


def _interdependence(inputs) -> None:
    interdependence(*inputs)


def _document_inputs(factor: int, device: str):
    """A 2-layer LM of ``16f`` units over ``8000f`` words, ``16f`` documents of 250 tokens
    (tokens, units and vocabulary entries: three data dimensions)."""
    gen = torch.Generator().manual_seed(0)
    hidden, vocabulary = 16 * factor, 8000 * factor
    model = LSTMNetwork(vocabulary, vocabulary, hidden, hidden, n_layers=2).to(device).eval()
    documents = torch.randint(4, vocabulary, (16 * factor, 250), generator=gen).tolist()
    return model, documents


def _states_and_scores(inputs) -> None:
    model, documents = inputs
    layer_states(model, documents, max_tokens=2048)
    evaluate_rows(model, [(d[:-1], d[1:]) for d in documents], max_tokens=2048)


KERNELS = {
    "svcca_checkpoints_taggers": (_svcca_inputs, _svcca),
    "softmax_gradient_concentration": (_decoder_inputs, _gradient_concentration),
    "interdependence_pairs": (_pair_inputs, _interdependence),
    "lm_states_and_scores": (_document_inputs, _states_and_scores),
}
