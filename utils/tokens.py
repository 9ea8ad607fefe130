"""Pre-tokenised words to sub-tokens, with the word each sub-token belongs to: the one path
from a corpus to a transformer's input that activations, neuron edits and the masking cache
share.

The rule for long inputs: a sentence whose sub-tokens (special tokens included) exceed the
model's limit is an error naming the sentence, its length and the limit, raised before any
forward pass, instead of an index error deep inside the model or a silent truncation that
would drop words from the analysis. Split long sentences upstream (``Corpus`` slicing) or
pass a larger ``max_length`` for a model with longer positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class EncodedWords:
    """Sub-token ids of pre-tokenised sentences, unpadded.

    Attributes
    ----------
    ids
        One list of sub-token ids per sentence (special tokens included).
    word_ids
        Per sentence, the word index of each sub-token (``-1`` for special tokens).
    """

    ids: list[list[int]]
    word_ids: list[list[int]]

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]

    def padded(
        self, rows: Sequence[int], pad_id: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, T)`` input ids, attention mask and word index (``-1`` off words) of the
        sentences ``rows``, padded to the longest of them."""
        width = max(len(self.ids[i]) for i in rows)
        input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        word_index = torch.full((len(rows), width), -1, dtype=torch.long)
        for b, i in enumerate(rows):
            n = len(self.ids[i])
            input_ids[b, :n] = torch.tensor(self.ids[i])
            mask[b, :n] = 1
            word_index[b, :n] = torch.tensor(self.word_ids[i])
        return input_ids, mask, word_index


def model_max_length(model: torch.nn.Module) -> int:
    """The longest input a model takes, in sub-tokens (its position embeddings; 512 if the
    config does not say). RoBERTa-style models reserve two positions for padding offsets."""
    config = model.config
    limit = getattr(config, "max_position_embeddings", None) or 512
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        limit -= 2
    return limit


def encode_words(
    tokenizer, sentences: Sequence[Sequence[str]], max_length: int | None = None
) -> EncodedWords:
    """Sub-tokens and word indices of pre-tokenised ``sentences``.

    Raises a ``ValueError`` naming the sentence for an empty sentence, a word that is not a
    non-empty string, a word the tokenizer gives no sub-token, or (the long-input rule of
    this module) a sentence longer than ``max_length`` sub-tokens.
    """
    if len(sentences) == 0:
        raise ValueError("no sentences given")
    for i, words in enumerate(sentences):
        if len(words) == 0:
            raise ValueError(f"sentence {i} is empty")
        if isinstance(words, str) or not all(isinstance(w, str) and w for w in words):
            raise ValueError(f"sentence {i} must be a list of non-empty word strings: {words!r}")
    encoded = tokenizer([list(s) for s in sentences], is_split_into_words=True, truncation=False)
    ids, word_ids = [], []
    for i, words in enumerate(sentences):
        wid = [-1 if w is None else w for w in encoded.word_ids(i)]
        if max_length is not None and len(wid) > max_length:
            raise ValueError(
                f"sentence {i} has {len(wid)} sub-tokens, more than the model's {max_length} "
                f"(its {len(words)} words begin {' '.join(words[:8])!r}): split it"
            )
        missing = set(range(len(words))) - set(wid)
        if missing:
            bad = [words[j] for j in sorted(missing)]
            raise ValueError(f"sentence {i}: the tokenizer gives no sub-token for words {bad!r}")
        ids.append(encoded["input_ids"][i])
        word_ids.append(wid)
    return EncodedWords(ids, word_ids)
