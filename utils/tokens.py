"""Pre-tokenised words to sub-tokens, with the word each sub-token belongs to: the one path
from a corpus to a transformer's input that activations, neuron edits and the masking cache
share.

The rule for long inputs, a sentence whose sub-tokens (special tokens included) exceed the
model's limit, is chosen by what the caller reads:

- ``overflow="window"`` (word-level readers: activations): the sentence is read in
  overlapping windows of whole words, each within the limit and overlapping the previous by
  about half; every word takes its vectors from the window where it has the most context on
  its shorter side (the max-context rule of sliding-window readers). No word is lost.
- ``overflow="truncate"`` (readers of a whole sequence: neuron edits, the masking cache's
  sentence classifier): the sentence keeps its first window, and a warning names how many
  sentences and words were cut; the cut words belong to no sub-token.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

OVERFLOWS = ("window", "truncate")


@dataclass
class EncodedWords:
    """Sub-token ids of pre-tokenised sentences, unpadded.

    Attributes
    ----------
    ids
        One list of sub-token ids per sentence (special tokens included).
    word_ids
        Per row, the word index (in its sentence) of each sub-token; ``-1`` for special
        tokens, and for the context-only words of a window.
    sentence
        Per row, the sentence it reads: one row per sentence, except for the windows of a
        sentence over the model's limit.
    """

    ids: list[list[int]]
    word_ids: list[list[int]]
    sentence: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sentence:
            self.sentence = list(range(len(self.ids)))

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]

    def padded(
        self, rows: Sequence[int], pad_id: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, T)`` input ids, attention mask and word index (``-1`` off words) of the
        rows ``rows``, padded to the longest of them."""
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
    """The longest input a model takes, in sub-tokens (its position embeddings; 512, the
    usual pretraining length, if the config does not say or has none: XLNet's relative
    positions are ``-1``). RoBERTa-style models reserve two positions for padding offsets."""
    config = model.config
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None or limit <= 0:
        limit = 512
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        limit -= 2
    return limit


def _windows(pieces: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """``(start, stop)`` word ranges covering words of ``pieces`` sub-tokens each, at most
    ``budget`` sub-tokens per range, each starting where about half a budget of the previous
    range is left."""
    windows, start, n = [], 0, len(pieces)
    while True:
        stop, total = start, 0
        while stop < n and total + pieces[stop] <= budget:
            total, stop = total + pieces[stop], stop + 1
        windows.append((start, stop))
        if stop == n:
            return windows
        overlap, total = stop, 0
        while overlap - 1 > start and total + pieces[overlap - 1] <= budget // 2:
            overlap, total = overlap - 1, total + pieces[overlap - 1]
        start = overlap


def _owners(pieces: Sequence[int], windows: Sequence[tuple[int, int]]) -> list[int]:
    """Per word, the window where it has the most sub-tokens of context on its shorter side
    (the earlier one on ties)."""
    best = [(-1, 0)] * len(pieces)
    for k, (start, stop) in enumerate(windows):
        before = 0
        after = sum(pieces[start:stop])
        for w in range(start, stop):
            after -= pieces[w]
            if min(before, after) > best[w][0]:
                best[w] = (min(before, after), k)
            before += pieces[w]
    return [k for _, k in best]


def encode_words(
    tokenizer,
    sentences: Sequence[Sequence[str]],
    max_length: int | None = None,
    *,
    overflow: str = "window",
) -> EncodedWords:
    """Sub-tokens and word indices of pre-tokenised ``sentences``.

    Parameters
    ----------
    tokenizer
        A fast Hugging Face tokenizer.
    sentences
        Lists of words.
    max_length
        The model's limit in sub-tokens (:func:`model_max_length`); None: no limit.
    overflow
        What a sentence over ``max_length`` becomes (the module's rule): ``"window"``,
        overlapping windows in which every word is read once; ``"truncate"``, its first
        window, with a warning.

    Raises a ``ValueError`` naming the sentence for an empty sentence, a word that is not a
    non-empty string, a word the tokenizer gives no sub-token, or a single word longer than
    the limit.
    """
    if overflow not in OVERFLOWS:
        raise ValueError(f"unknown overflow {overflow!r}: choose one of {OVERFLOWS}")
    if len(sentences) == 0:
        raise ValueError("no sentences given")
    for i, words in enumerate(sentences):
        if len(words) == 0:
            raise ValueError(f"sentence {i} is empty")
        if isinstance(words, str) or not all(isinstance(w, str) and w for w in words):
            raise ValueError(f"sentence {i} must be a list of non-empty word strings: {words!r}")
    encoded = tokenizer([list(s) for s in sentences], is_split_into_words=True, truncation=False)
    out = EncodedWords([], [], [])
    cut_sentences, cut_words = [], 0
    for i, words in enumerate(sentences):
        wid = [-1 if w is None else w for w in encoded.word_ids(i)]
        missing = set(range(len(words))) - set(wid)
        if missing:
            bad = [words[j] for j in sorted(missing)]
            raise ValueError(f"sentence {i}: the tokenizer gives no sub-token for words {bad!r}")
        if max_length is None or len(wid) <= max_length:
            out.ids.append(encoded["input_ids"][i])
            out.word_ids.append(wid)
            out.sentence.append(i)
            continue
        pieces = [0] * len(words)
        for w in wid:
            if w >= 0:
                pieces[w] += 1
        budget = max_length - wid.count(-1)
        if max(pieces) > budget:
            j = max(range(len(words)), key=pieces.__getitem__)
            raise ValueError(
                f"sentence {i}: word {j} ({words[j][:30]!r}) alone has {pieces[j]} sub-tokens, "
                f"more than the model's {max_length} leave for words"
            )
        windows = _windows(pieces, budget)
        if overflow == "truncate":
            windows = windows[:1]
            cut_sentences.append(i)
            cut_words += len(words) - windows[0][1]
        owners = _owners(pieces, windows) if overflow == "window" else None
        for k, (start, stop) in enumerate(windows):
            window = tokenizer(list(words[start:stop]), is_split_into_words=True)
            out.ids.append(window["input_ids"])
            out.word_ids.append([
                w + start if w is not None and (owners is None or owners[w + start] == k) else -1
                for w in window.word_ids()
            ])  # fmt: skip
            out.sentence.append(i)
    if cut_sentences:
        warnings.warn(
            f"{len(cut_sentences)} sentence(s) over the model's {max_length} sub-tokens were "
            f"truncated, {cut_words} words cut (the first: sentence {cut_sentences[0]})",
            stacklevel=2,
        )
    return out
