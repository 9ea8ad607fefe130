"""Tasks that come from different corpora, laid end to end so one activation pass serves all.

Durrani, Dalvi and Sajjad's tasks each have their own corpus and splits (Sec. 3, Table 8):
parts of speech from the Penn Treebank, chunks from CoNLL-2000, semantic tags from the
Parallel Meaning Bank, dependency labels from Universal Dependencies. :func:`read_splits`
reads one corpus's train, dev and test (one file per split, or consecutive cuts of one file),
and :class:`TaskCorpora` concatenates several such corpora: the activations are extracted
once over :attr:`TaskCorpora.corpus`, and each task reads the token rows of its own corpus,
with every token's split (0 train, 1 dev, 2 test) in :attr:`TaskCorpora.split`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from .tagged import read_ccg_auto, read_columns, read_word_tags, suffix_labels
from .treebank import Corpus, read_conllu

__all__ = ["FORMATS", "SPLITS", "TaskCorpora", "read_splits"]

SPLITS = ("train", "dev", "test")

FORMATS: dict[str, Callable[[str], Corpus]] = {
    "conllu": read_conllu,  # UD treebanks (dependency labels; xpos, and any MISC layer)
    "ptb": read_word_tags,  # Penn Treebank tagged text, word/TAG (layer xpos)
    "conll2000": lambda path: read_columns(path, {"xpos": 1, "chunk": 2}),  # word POS chunk
    "pmb": lambda path: read_columns(path, {"sem": 0}, word=1),  # Parallel Meaning Bank TAG word
    "ccg": read_ccg_auto,  # CCGbank AUTO derivations (layers ccg, xpos)
}


def read_splits(path: str, fmt: str, sizes: Mapping[str, int]) -> dict[str, Corpus]:
    """The train, dev and test corpora of one data path.

    Parameters
    ----------
    path
        A path holding ``{split}`` (for example ``/data/wsj_{split}.pos``): one file per split,
        ``{split}`` replaced by ``train``, ``dev`` and ``test``, each read whole and cut to at
        most its size (the corpus's own splits). Without ``{split}``: one file whose first
        ``sizes["train"]``, next ``sizes["dev"]`` and next ``sizes["test"]`` sentences are the
        splits; a file with fewer sentences is an error.
    fmt
        A key of :data:`FORMATS`.
    sizes
        Sentences per split (``train``, ``dev``, ``test``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown corpus format {fmt!r}: choose among {sorted(FORMATS)}")
    missing = [name for name in SPLITS if name not in sizes]
    if missing:
        raise ValueError(f"sizes must give every split, missing {missing}")
    reader = FORMATS[fmt]
    if "{split}" not in path:
        return reader(path).split({name: sizes[name] for name in SPLITS}, source=path)
    return {name: reader(path.format(split=name))[: sizes[name]] for name in SPLITS}


@dataclass
class TaskCorpora:
    """Named corpora with their own splits, concatenated.

    Attributes
    ----------
    corpus
        Every source's train, dev and test sentences, source after source, in that order.
    split
        ``(corpus.n_tokens,)`` 0, 1 or 2: the split of every token within its source.
    rows
        Per source, the slice of the tokens of ``corpus`` that it holds.
    sentences
        Per source, the slice of the sentences of ``corpus`` that it holds.
    sources
        Per source, its ``{"train", "dev", "test"}`` corpora.
    """

    corpus: Corpus
    split: torch.Tensor
    rows: dict[str, slice]
    sentences: dict[str, slice]
    sources: dict[str, dict[str, Corpus]]

    @classmethod
    def build(cls, sources: Mapping[str, Mapping[str, Corpus]]) -> TaskCorpora:
        """Concatenate ``{name: {"train": ..., "dev": ..., "test": ...}}`` in the order given."""
        corpus, split, rows, sentences = Corpus(), [], {}, {}
        for name, parts in sources.items():
            missing = [s for s in SPLITS if s not in parts or len(parts[s]) == 0]
            if missing:
                raise ValueError(f"source {name!r} has no {' or '.join(missing)} sentences")
            token_start, sentence_start = corpus.n_tokens, len(corpus)
            for index, part in enumerate(SPLITS):
                corpus = corpus + parts[part]
                split.append(torch.full((parts[part].n_tokens,), index, dtype=torch.long))
            rows[name] = slice(token_start, corpus.n_tokens)
            sentences[name] = slice(sentence_start, len(corpus))
        return cls(
            corpus,
            torch.cat(split),
            rows,
            sentences,
            {name: {s: parts[s] for s in SPLITS} for name, parts in sources.items()},
        )

    def labels(self, source: str, layer: str) -> list[str]:
        """The labels of ``layer`` over the tokens of ``source``, flat. ``"suffix"`` is
        derived from the word forms (:func:`~utils.corpus.tagged.suffix_labels`) when the
        corpus does not carry it."""
        part = self.corpus[self.sentences[source]]
        if layer == "suffix" and "suffix" not in part.layers:
            return suffix_labels([w for sentence in part.words() for w in sentence])
        part.require([layer], source=f"source {source!r}")
        return part.labels(layer, flat=True)

    def first_sentence(self, source: str, split: str) -> int:
        """Index in :attr:`corpus` of the first sentence of ``split`` of ``source``."""
        start = self.sentences[source].start
        for name in SPLITS[: SPLITS.index(split)]:
            start += len(self.sources[source][name])
        return start
