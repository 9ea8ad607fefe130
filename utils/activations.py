"""Per-word activations from every layer of a transformer encoder.

Words are split into sub-tokens by the model's tokenizer; a word's vector at each layer is
the ``first``, ``last`` or ``mean`` of its sub-tokens' vectors. Layer 0 is the embedding
output and layer ``l`` the output of block ``l`` (``output_hidden_states``). Sentences are
sorted by length and packed into batches under a token budget (length bucketing), so that
padding stays small and any device stays busy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from utils.cache import cached, content_key, module_fingerprint
from utils.tokens import encode_words, model_max_length

AGGREGATIONS = ("first", "last", "mean")


@dataclass
class WordActivations:
    """Activations of every word of a corpus at every layer.

    Attributes
    ----------
    values
        ``(n_words, n_layers, hidden)`` float tensor on the CPU; words in corpus order.
    offsets
        ``(n_sentences + 1,)`` int64: sentence ``i`` owns rows ``offsets[i]:offsets[i + 1]``.
    layers
        The model layers stored, in order (0 = embeddings); all of them unless extraction
        asked for fewer.
    """

    values: torch.Tensor
    offsets: torch.Tensor
    layers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.layers = tuple(self.layers) or tuple(range(self.values.shape[1]))
        if len(self.layers) != self.values.shape[1]:
            raise ValueError(f"{len(self.layers)} layer ids for {self.values.shape[1]} layers")

    @property
    def n_words(self) -> int:
        return self.values.shape[0]

    @property
    def n_layers(self) -> int:
        return self.values.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.values.shape[2]

    def _position(self, layer: int) -> int:
        if layer not in self.layers:
            raise ValueError(f"layer {layer} was not extracted; stored layers: {self.layers}")
        return self.layers.index(layer)

    def layer(self, index: int) -> torch.Tensor:
        """``(n_words, hidden)``: every word at one model layer (0 = embeddings)."""
        return self.values[:, self._position(index)]

    def concat(self, layers: Sequence[int] | None = None) -> torch.Tensor:
        """``(n_words, len(layers) * hidden)``: layers side by side, so that neuron
        ``i * hidden + j`` is unit ``j`` of the ``i``-th layer listed (default: all stored)."""
        if layers is None:
            return self.values.reshape(self.n_words, -1)
        positions = [self._position(layer) for layer in layers]
        return self.values[:, positions].reshape(self.n_words, -1)

    def sentence(self, index: int) -> torch.Tensor:
        """``(n_words_in_sentence, n_layers, hidden)`` for one sentence."""
        return self.values[self.offsets[index] : self.offsets[index + 1]]


def _batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Sentence indices grouped longest-first so that padded batches stay under budget."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, current = [], []
    for i in order:
        # sorted longest-first, the first sentence of a batch sets its padded length
        width = lengths[current[0]] if current else lengths[i]
        if current and (len(current) == batch_size or width * (len(current) + 1) > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _aggregate(
    sub: torch.Tensor, sub_rows: torch.Tensor, aggregation: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pool sub-token vectors ``(S, L, H)`` into one vector per word.

    ``sub_rows[s]`` is the output row of sub-token ``s``; a word's sub-tokens are consecutive.
    Returns the rows and their ``(n_words, L, H)`` vectors.
    """
    word_rows, counts = torch.unique_consecutive(sub_rows, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    if aggregation == "first":
        return word_rows, sub[starts]
    if aggregation == "last":
        return word_rows, sub[starts + counts - 1]
    local = torch.repeat_interleave(torch.arange(len(counts), device=sub.device), counts)
    sums = torch.zeros((len(counts),) + sub.shape[1:], dtype=sub.dtype, device=sub.device)
    sums.index_add_(0, local, sub)
    return word_rows, sums / counts.to(sub.dtype)[:, None, None]


@torch.inference_mode()
def extract_activations(
    model: torch.nn.Module,
    tokenizer,
    sentences: Sequence[Sequence[str]],
    *,
    aggregation: str = "mean",
    layers: Sequence[int] | None = None,
    batch_size: int = 64,
    max_tokens: int = 4096,
    progress: bool = True,
) -> WordActivations:
    """Per-word activations of every layer for pre-tokenised sentences.

    Parameters
    ----------
    model, tokenizer
        A Hugging Face encoder (on any device) and its fast tokenizer, e.g. from
        :func:`utils.models.load_encoder`.
    sentences
        Lists of words, e.g. ``corpus.words()``.
    aggregation
        How a word's sub-token vectors become one vector: ``"first"``, ``"last"`` or ``"mean"``.
    layers
        Which layers to keep (0 = embeddings; default: all). Keeping few saves memory with
        large models.
    batch_size, max_tokens
        At most ``batch_size`` sentences and ``max_tokens`` padded sub-tokens per forward pass.
    progress
        Show a tqdm bar.

    Returns
    -------
    WordActivations
        ``values[w, l]`` is word ``w`` at layer ``l`` (0 = embeddings), in float32 on the CPU.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}: choose one of {AGGREGATIONS}")
    if batch_size < 1 or max_tokens < 1:
        raise ValueError("batch_size and max_tokens must be positive")
    device = next(model.parameters()).device
    encoded = encode_words(tokenizer, sentences, model_max_length(model))

    counts = torch.tensor([len(s) for s in sentences])
    offsets = torch.zeros(len(sentences) + 1, dtype=torch.long)
    offsets[1:] = counts.cumsum(0)
    n_model_layers = model.config.num_hidden_layers + 1
    layers = tuple(range(n_model_layers)) if layers is None else tuple(layers)
    if not layers or not all(0 <= layer < n_model_layers for layer in layers):
        raise ValueError(f"layers must lie in 0..{n_model_layers - 1}, got {layers}")
    values = torch.empty(int(offsets[-1]), len(layers), model.config.hidden_size)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    batches = _batches(encoded.lengths(), batch_size, max_tokens)
    for batch in tqdm(batches, desc="activations", disable=not progress, leave=False):
        input_ids, mask, word_index = encoded.padded(batch, pad_id)
        # row of the output tensor each sub-token belongs to (-1: special token or padding)
        first_row = offsets[torch.tensor([encoded.sentence[r] for r in batch])][:, None]
        rows = torch.where(word_index >= 0, word_index + first_row, -1)
        out = model(
            input_ids=input_ids.to(device),
            attention_mask=mask.to(device),
            output_hidden_states=True,
        )
        hidden = torch.stack([out.hidden_states[layer] for layer in layers], dim=2).float()
        flat_rows = rows.reshape(-1)
        keep = flat_rows >= 0
        sub = hidden.reshape(-1, len(layers), hidden.shape[-1])[keep.to(device)]
        word_rows, word_vectors = _aggregate(sub, flat_rows[keep].to(device), aggregation)
        values[word_rows.cpu()] = word_vectors.cpu()
    return WordActivations(values=values, offsets=offsets, layers=layers)


def cached_activations(
    model: torch.nn.Module,
    tokenizer,
    sentences: Sequence[Sequence[str]],
    *,
    aggregation: str = "mean",
    layers: Sequence[int] | None = None,
    progress: bool = True,
    **batching: int,
) -> WordActivations:
    """:func:`extract_activations`, stored in the disk cache under a hash of the model's
    weights, its tokenizer's vocabulary, the sentences, the aggregation and the layers."""
    config = {
        "model": module_fingerprint(model),
        "tokenizer": content_key(sorted(tokenizer.get_vocab().items())),
        "sentences": [list(s) for s in sentences],
        "aggregation": aggregation,
        "layers": None if layers is None else list(layers),
    }

    def build() -> dict[str, torch.Tensor]:
        acts = extract_activations(
            model,
            tokenizer,
            sentences,
            aggregation=aggregation,
            layers=layers,
            progress=progress,
            **batching,
        )
        return {"values": acts.values, "offsets": acts.offsets, "layers": list(acts.layers)}

    stored = cached("activations", config, build, description=f"{len(sentences)} sentences")
    return WordActivations(stored["values"], stored["offsets"], tuple(stored["layers"]))
