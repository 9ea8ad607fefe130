"""Soft sparsity of activations and gradients, per word (Saphra & Lopez 2019, "Sparsity
Emerges Naturally in Neural Language Models"; thesis Ch. 6).

A vector is *concentrated* when a few of its units carry most of its mass:

    chi(v) = ||v||_2 / ||v||_1 ,         1/sqrt(d) <= chi(v) <= 1,

1 for a one-hot vector, ``1/sqrt(d)`` for a constant one. The thesis measures chi of each
layer's activations ``h^e, h^1, h^2`` and of the gradients the loss sends back, chiefly the
gradient passed from the softmax to the top LSTM layer,

    hbar^2_t = W_dec^T (softmax(W_dec h^2_t + b) - onehot(x_{t+1})),

then correlates the mean chi of each word type with its training frequency (Pearson, over
word types), keyed either on the target word (rho<-) or on the input word (rho->).
"""

from __future__ import annotations

import torch
from torch import nn


def concentration(v: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """chi(v) = ||v||_2 / ||v||_1 along ``dim`` (NaN for an all-zero vector)."""
    l1 = v.abs().sum(dim)
    return torch.where(l1 > 0, v.norm(dim=dim) / l1, torch.nan)


def softmax_gradient(
    decoder: nn.Linear, top_hidden: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of each token's cross-entropy loss at the logits and at the top LSTM layer.

    Parameters
    ----------
    decoder
        The output layer (``LSTMNetwork.decoder``).
    top_hidden
        ``(..., H)`` top-layer hidden states.
    targets
        ``(...)`` the observed next tokens.

    Returns
    -------
    logit_gradient, hidden_gradient
        ``xbar = softmax(logits) - onehot(target)`` ``(..., V)`` and
        ``hbar^2 = W_dec^T xbar`` ``(..., H)`` (closed form of one backward step).
    """
    if targets.shape != top_hidden.shape[:-1]:
        raise ValueError(
            f"targets {tuple(targets.shape)} must match the hidden states' leading dimensions "
            f"{tuple(top_hidden.shape[:-1])}"
        )
    with torch.no_grad():
        probabilities = decoder(top_hidden).softmax(-1)
        logit_gradient = probabilities - nn.functional.one_hot(targets, probabilities.shape[-1])
        return logit_gradient, logit_gradient @ decoder.weight


#: float32 entries of the ``(tokens, vocabulary)`` logit gradient that
#: :func:`softmax_gradient_concentration` holds at once
CHUNK_ENTRIES = 2**25


def softmax_gradient_concentration(
    decoder: nn.Linear,
    top_hidden: torch.Tensor,
    targets: torch.Tensor,
    *,
    chunk_tokens: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """chi of the logit gradient and the gradient at the top LSTM layer, without keeping the
    ``(tokens, vocabulary)`` logit gradient: :func:`softmax_gradient` a chunk of tokens at a
    time, on the decoder's device (the states may stay on the CPU).

    Parameters
    ----------
    decoder, top_hidden, targets
        As in :func:`softmax_gradient`.
    chunk_tokens
        Tokens per chunk (None: as many as :data:`CHUNK_ENTRIES` logits allow).

    Returns
    -------
    logit_concentration, hidden_gradient
        ``chi(xbar)`` ``(...)`` and ``hbar^2`` ``(..., H)``, on ``top_hidden``'s device.
    """
    if targets.shape != top_hidden.shape[:-1]:
        raise ValueError(
            f"targets {tuple(targets.shape)} must match the hidden states' leading dimensions "
            f"{tuple(top_hidden.shape[:-1])}"
        )
    device = decoder.weight.device
    flat_hidden, flat_targets = top_hidden.reshape(-1, top_hidden.shape[-1]), targets.reshape(-1)
    size = chunk_tokens or max(1, CHUNK_ENTRIES // decoder.out_features)
    chi = torch.empty(len(flat_targets), dtype=top_hidden.dtype, device=top_hidden.device)
    hidden = torch.empty_like(flat_hidden)
    for start in range(0, len(flat_targets), size):
        stop = start + size
        logit_gradient, hidden_gradient = softmax_gradient(
            decoder, flat_hidden[start:stop].to(device), flat_targets[start:stop].to(device)
        )
        chi[start:stop] = concentration(logit_gradient).to(chi)
        hidden[start:stop] = hidden_gradient.to(hidden)
        del logit_gradient
    return chi.reshape(targets.shape), hidden.reshape(top_hidden.shape)


def mean_per_word(
    values: torch.Tensor, words: torch.Tensor, n_words: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average ``values`` ``(N,)`` over the occurrences of each word id in ``words`` ``(N,)``.

    Returns ``(n_words,)`` means (NaN for unseen words) and ``(n_words,)`` counts.
    """
    if values.shape != words.shape or values.ndim != 1:
        raise ValueError(f"values and words must be (N,), got {values.shape} and {words.shape}")
    if len(words) and (words.min() < 0 or words.max() >= n_words):
        raise ValueError(f"word ids must lie in [0, {n_words})")
    counts = torch.bincount(words, minlength=n_words)
    sums = torch.zeros(n_words, dtype=values.dtype, device=values.device)
    sums.index_add_(0, words, values)
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.nan), counts


def pearson(x: torch.Tensor, y: torch.Tensor) -> float:
    """Pearson correlation of two ``(n,)`` vectors, ignoring positions where either is NaN."""
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be (n,) vectors, got {x.shape} and {y.shape}")
    keep = ~(x.isnan() | y.isnan())
    if keep.sum() < 3:
        raise ValueError("a correlation needs at least three non-NaN pairs")
    pair = torch.stack([x[keep], y[keep]]).double()
    return float(torch.corrcoef(pair)[0, 1])
