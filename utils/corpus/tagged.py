"""Readers for the tagged corpora of Durrani, Dalvi and Sajjad's tasks, one file per split.

The paper's tasks come from different corpora, each with its own format and splits: parts
of speech from the Penn Treebank, chunks from CoNLL-2000, semantic tags from the Parallel
Meaning Bank, CCG supertags from CCGbank (Sec. 3). Each reader returns a
:class:`~utils.corpus.treebank.Corpus` whose sentences carry the file's labels as layers
under the names the chapters read (``"xpos"``, ``"chunk"``, ``"sem"``, ``"ccg"``), plus
``"suffix"`` derived from the word forms (:func:`suffix_labels`), so that a task's train,
dev and test come from that task's own files.

* :func:`read_columns`: one token per line, whitespace-separated columns, a blank line
  between sentences (CoNLL-2000 ``word POS chunk``; PMB semantic tags ``TAG word``);
* :func:`read_word_tags`: one sentence per line of ``word/TAG`` tokens (PTB ``.pos``);
* :func:`read_ccg_auto`: CCGbank's AUTO derivations, one per line after its ``ID=`` line,
  whose leaves ``(<L category POS POS word predarg>)`` give the supertags.

A malformed line is an error naming the file and the line.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from .lexicon import SUFFIXES
from .treebank import Corpus, Sentence

__all__ = ["read_ccg_auto", "read_columns", "read_word_tags", "suffix_labels"]

CCG_LEAF = re.compile(r"\(<L (\S+) (\S+) (\S+) (\S+) (\S+)>\)")


def suffix_labels(forms: Sequence[str]) -> list[str]:
    """The suffix task's label of every word form: the longest of the corpus's suffix
    classes (:data:`utils.corpus.lexicon.SUFFIXES`) that an alphabetic form ends with,
    leaving a stem of at least three letters, else ``"-"`` (as in the paper's Table 1,
    which labels a word without a listed suffix ``-``)."""
    labels = []
    for form in forms:
        low = form.lower()
        found = "-"
        if low.isalpha():
            found = next((s for s in SUFFIXES if low.endswith(s) and len(low) - len(s) >= 3), "-")
        labels.append(found)
    return labels


def _lines(path: str | os.PathLike) -> list[str]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such corpus file: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def _sentence(forms: list[str], layers: dict[str, list[str]], where: str) -> Sentence:
    if not forms:
        raise ValueError(f"{where}: a sentence without words")
    return Sentence(list(forms), {**layers, "suffix": suffix_labels(forms)}, {})


def read_columns(path: str | os.PathLike, columns: Mapping[str, int], *, word: int = 0) -> Corpus:
    """A corpus of one token per line, whitespace-separated columns, sentences separated
    by blank lines; lines starting with ``#`` are comments.

    Parameters
    ----------
    path
        The file (``.gz`` read compressed).
    columns
        Layer name to column index, e.g. ``{"xpos": 1, "chunk": 2}`` for CoNLL-2000 or
        ``{"sem": 0}`` with ``word=1`` for the PMB's ``TAG word`` lines.
    word
        The column of the word form.
    """
    wanted = max([word, *columns.values()])
    sentences, forms = [], []
    layers: dict[str, list[str]] = {name: [] for name in columns}
    start = 1
    for number, line in enumerate([*_lines(path), ""], 1):
        if line.startswith("#"):
            continue
        fields = line.split()
        if not fields:
            if forms:
                sentences.append(_sentence(forms, layers, f"{path}:{start}"))
                forms, layers = [], {name: [] for name in columns}
            start = number + 1
            continue
        if len(fields) <= wanted:
            raise ValueError(
                f"{path}:{number}: {len(fields)} columns, the reader needs column {wanted} "
                f"(0-based): {line!r}"
            )
        forms.append(fields[word])
        for name, index in columns.items():
            layers[name].append(fields[index])
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    return Corpus(sentences)


def read_word_tags(path: str | os.PathLike, layer: str = "xpos") -> Corpus:
    """A corpus of one sentence per line of ``word/TAG`` tokens (the tag after the last
    ``/``, so that ``1\\/2/CD`` is the word ``1/2``), as in the Penn Treebank's tagged
    text; blank lines are skipped."""
    sentences = []
    for number, line in enumerate(_lines(path), 1):
        tokens = line.split()
        if not tokens:
            continue
        forms, tags = [], []
        for token in tokens:
            form, slash, tag = token.rpartition("/")
            if not slash or not form or not tag:
                raise ValueError(f"{path}:{number}: {token!r} is not word/TAG")
            forms.append(form.replace("\\/", "/"))
            tags.append(tag)
        sentences.append(_sentence(forms, {layer: tags}, f"{path}:{number}"))
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    return Corpus(sentences)


def read_ccg_auto(path: str | os.PathLike) -> Corpus:
    """A corpus of CCGbank derivations in the AUTO format: layers ``"ccg"`` (the lexical
    category of every leaf, the supertag) and ``"xpos"`` (its PTB tag). ``ID=`` lines name
    the next derivation; every other non-blank line is one derivation."""
    sentences = []
    for number, line in enumerate(_lines(path), 1):
        line = line.strip()
        if not line or line.startswith("ID="):
            continue
        leaves = CCG_LEAF.findall(line)
        if not leaves:
            raise ValueError(f"{path}:{number}: no (<L category POS POS word predarg>) leaf")
        forms = [leaf[3] for leaf in leaves]
        layers = {"ccg": [leaf[0] for leaf in leaves], "xpos": [leaf[1] for leaf in leaves]}
        sentences.append(_sentence(forms, layers, f"{path}:{number}"))
    if not sentences:
        raise ValueError(f"{path}: no derivations")
    return Corpus(sentences)
