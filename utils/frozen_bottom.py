"""The frozen bottom of a transformer, run once and cached; its top, run on the cache.

When the embeddings and the first ``start`` layers of an encoder are frozen and nothing
changes them (Zhang, van de Meent & Wallace's masks sit in the top layers only; a neuron edit
acts above a layer), they compute the same output for every training step and every method.
:func:`encode_bottom` runs them once over pre-tokenised sentences and stores their output
``hidden_states[start]`` unpadded (:class:`BottomStates`), :func:`cached_bottom` keeps it in
the disk cache, and :func:`run_layers` runs the remaining top layers on a batch of it, with
BERT's additive padding mask; :func:`mean_pool` reads a sentence vector out of the result.
The split equals the model's own forward pass (``tests/test_frozen_bottom.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from utils.cache import cached, content_key, module_fingerprint
from utils.tokens import encode_words, model_max_length


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The transformer blocks of a BERT-like encoder (``model.encoder.layer``)."""
    try:
        return model.encoder.layer
    except AttributeError as err:
        raise ValueError(
            f"{type(model).__name__} has no encoder.layer: a BERT-like encoder is needed"
        ) from err


@dataclass
class BottomStates:
    """The output of the frozen bottom layers for a set of sentences, stored unpadded.

    Attributes
    ----------
    tokens
        ``(total sub-tokens, H)`` float32 on the CPU: every sentence's sub-tokens (including
        [CLS] and [SEP]) one after the other, so that memory grows with the tokens only.
    offsets
        ``(N + 1,)`` int64: sentence ``i`` owns rows ``offsets[i]:offsets[i + 1]``.
    start
        Index of the first layer that was *not* run (``tokens`` hold ``hidden_states[start]``).
    """

    tokens: torch.Tensor
    offsets: torch.Tensor
    start: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def batch(
        self, index: torch.Tensor | Sequence[int], device: str | torch.device = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T, H)`` states of sentences ``index``, zero-padded to the longest of them,
        and their ``(B, T)`` attention mask, on ``device``."""
        index = torch.as_tensor(index, dtype=torch.long)
        first, lengths = self.offsets[index], self.offsets[index + 1] - self.offsets[index]
        positions = torch.arange(int(lengths.max()))
        mask = (positions[None, :] < lengths[:, None]).long()
        rows = (first[:, None] + positions[None, :]).clamp_max(len(self.tokens) - 1)
        hidden = self.tokens[rows] * mask[..., None]
        return hidden.to(device), mask.to(device)


@torch.inference_mode()
def encode_bottom(
    model: nn.Module,
    tokenizer,
    sentences: Sequence[Sequence[str]],
    start: int,
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> BottomStates:
    """Run the embeddings and layers ``0 .. start - 1`` of ``model`` once over pre-tokenised
    ``sentences`` and return their output (``hidden_states[start]``).

    Sentences go through in batches of similar length, each padded to its own longest, and
    are stored one after the other (:class:`BottomStates`): memory grows with the sub-tokens,
    never with the number of sentences times the longest. Only the bottom layers run (the
    model's own forward pass with its top layers taken out for the call), so a batch holds
    one ``(B, T, H)`` output, not every layer's. A sentence over the model's limit is
    truncated, with a warning (:func:`utils.tokens.encode_words`).
    """
    n_layers = len(encoder_layers(model))
    if not 0 <= start <= n_layers:
        raise ValueError(f"start must be in 0..{n_layers}, got {start}")
    device = next(model.parameters()).device
    encoded = encode_words(tokenizer, sentences, model_max_length(model), overflow="truncate")
    lengths = torch.tensor(encoded.lengths())
    offsets = torch.zeros(len(lengths) + 1, dtype=torch.long)
    offsets[1:] = lengths.cumsum(0)
    tokens = torch.zeros(int(offsets[-1]), model.config.hidden_size)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order = torch.argsort(lengths, descending=True, stable=True).tolist()
    with _bottom_only(model, start):
        for first in tqdm(
            range(0, len(order), batch_size),
            desc="bottom layers",
            disable=not progress,
            leave=False,
        ):
            rows = order[first : first + batch_size]
            input_ids, mask, _ = encoded.padded(rows, pad_id)
            out = model(input_ids=input_ids.to(device), attention_mask=mask.to(device))
            hidden = out.last_hidden_state.float().cpu()
            for b, i in enumerate(rows):
                tokens[offsets[i] : offsets[i + 1]] = hidden[b, : lengths[i]]
    return BottomStates(tokens, offsets, start)


@contextmanager
def _bottom_only(model: nn.Module, start: int) -> Iterator[None]:
    """Within the block, ``model``'s encoder holds only its layers ``0 .. start - 1`` (its
    output is then ``hidden_states[start]``); the full list is put back on exit."""
    layers = encoder_layers(model)
    model.encoder.layer = layers[:start]
    try:
        yield
    finally:
        model.encoder.layer = layers


def cached_bottom(
    model: nn.Module,
    tokenizer,
    sentences: Sequence[Sequence[str]],
    start: int,
    *,
    progress: bool = True,
) -> BottomStates:
    """:func:`encode_bottom`, stored in the disk cache under the model's weights, the
    tokenizer's vocabulary, the sentences and ``start``."""
    config = {
        "model": module_fingerprint(model),
        "tokenizer": content_key(sorted(tokenizer.get_vocab().items())),
        "sentences": [list(s) for s in sentences],
        "start": start,
    }

    def build() -> dict[str, torch.Tensor]:
        states = encode_bottom(model, tokenizer, sentences, start, progress=progress)
        return {"tokens": states.tokens, "offsets": states.offsets}

    stored = cached("bottom-states", config, build, description=f"{len(sentences)} sentences")
    return BottomStates(stored["tokens"], stored["offsets"], start)


def run_layers(
    layers: Sequence[nn.Module], hidden: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """Run transformer blocks on ``hidden`` ``(B, T, H)`` with padding mask ``(B, T)``.

    The padding mask becomes the additive ``(B, 1, 1, T)`` mask of BERT's attention (0 on real
    tokens, the most negative float on padding), which every attention implementation accepts.
    """
    additive = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(
        hidden.dtype
    ).min
    for layer in layers:
        out = layer(hidden, additive)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


@torch.no_grad()
def run_top(
    layers: Sequence[nn.Module], bottom: BottomStates, *, batch_size: int = 64
) -> BottomStates:
    """The output of ``layers`` on every sentence of ``bottom``, stored unpadded as it is
    (``start`` moves up by ``len(layers)``): the token states of the encoder's top layer."""
    device = next(iter(layers[0].parameters())).device
    tokens = torch.empty_like(bottom.tokens)
    lengths = bottom.offsets[1:] - bottom.offsets[:-1]
    for first in range(0, len(bottom), batch_size):
        rows = torch.arange(first, min(first + batch_size, len(bottom)))
        hidden = run_layers(layers, *bottom.batch(rows, device)).cpu()
        for b, i in enumerate(rows.tolist()):
            tokens[bottom.offsets[i] : bottom.offsets[i + 1]] = hidden[b, : lengths[i]]
    return BottomStates(tokens, bottom.offsets, bottom.start + len(layers))


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """``(B, H)`` mean of ``hidden`` ``(B, T, H)`` over the non-padding positions."""
    weights = attention_mask.to(hidden.dtype)[..., None]
    return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)
