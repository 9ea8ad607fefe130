"""Plain-text documents: the unannotated corpus a language model is trained on.

The training-dynamics thesis (Saphra, ch. 4) trains its LSTM language model on Wikipedia
text and its taggers on separate, annotated corpora. Text dumps of Wikipedia come in two
layouts, both read here:

* ``"lines"``: one document per line (e.g. a dump flattened by WikiExtractor's ``--json``
  text field, or one article per line);
* ``"blank"``: documents separated by one or more blank lines, each document any number of
  lines (paragraph-per-line dumps such as WikiText).

A document is the whitespace-separated tokens of its lines, in order (no other
tokenisation: give text tokenised as the LM should read it). Files ending in ``.gz`` are
decompressed on the fly. Nothing is read beyond what is asked for (``max_tokens``), so a
dump larger than memory can feed a smaller run.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

from .checks import check_choice

__all__ = ["read_documents", "split_documents"]

LAYOUTS = ("lines", "blank")


def _lines(path: Path) -> Iterator[str]:
    """The lines of a text file (gzip-compressed if ``.gz``), decoded one at a time so that
    a decoding error names its line."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}, line {lineno}: not UTF-8 text ({error.reason})"
                ) from None


def _documents(lines: Iterator[str], layout: str) -> Iterator[list[str]]:
    """The tokens of each non-empty document."""
    current: list[str] = []
    for raw in lines:
        tokens = raw.split()
        if layout == "lines":
            if tokens:
                yield tokens
        elif tokens:
            current += tokens
        elif current:
            yield current
            current = []
    if current:
        yield current


def read_documents(
    source: str | os.PathLike,
    layout: str = "lines",
    max_tokens: int | None = None,
    min_tokens: int = 2,
) -> list[list[str]]:
    """Read a plain-text corpus as a list of documents, each a list of tokens.

    Parameters
    ----------
    source : str or path-like
        A text file (``.gz`` for gzip), UTF-8.
    layout : {"lines", "blank"}
        One document per line, or documents separated by blank lines (see the module).
    max_tokens : int, optional
        Stop after the document that brings the total to at least this many tokens.
    min_tokens : int
        Documents with fewer tokens are skipped (a language model needs two tokens to make
        one prediction).

    Returns
    -------
    list of list of str
        The documents in file order.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``source``.
    ValueError
        Naming the file: an unknown layout, a line that is not UTF-8 (with its line
        number), or a file without a single document of ``min_tokens`` tokens.
    """
    check_choice("layout", layout, LAYOUTS)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"read_documents: no text file at {str(path)!r}")
    docs: list[list[str]] = []
    total = 0
    for tokens in _documents(_lines(path), layout):
        if len(tokens) < min_tokens:
            continue
        docs.append(tokens)
        total += len(tokens)
        if max_tokens is not None and total >= max_tokens:
            break
    if not docs:
        hint = " (separate documents by blank lines, or use layout='lines')" * (layout == "blank")
        raise ValueError(
            f"{path}: no document of at least {min_tokens} tokens in layout {layout!r}{hint}"
        )
    return docs


def split_documents(
    docs: list[list[str]], sizes: dict[str, int], source: str = "the text corpus"
) -> dict[str, list[list[str]]]:
    """Consecutive splits of whole documents, each of at least the tokens asked for.

    Parameters
    ----------
    docs : list of list of str
        Documents, as :func:`read_documents` returns them.
    sizes : dict of str to int
        Tokens per split, in order (e.g. ``{"train": 10**6, "validation": 10**5}``): each
        split takes whole documents until it holds at least that many tokens.
    source : str
        Named in the error (the file).

    Returns
    -------
    dict of str to list of list of str

    Raises
    ------
    ValueError
        If a size is below 1, or the documents run out before the last split is full (a
        split is never silently shrunk).
    """
    bad = {name: n for name, n in sizes.items() if not isinstance(n, int) or n < 1}
    if bad:
        raise ValueError(f"{source}: every split needs at least one token, got {bad}")
    out: dict[str, list[list[str]]] = {}
    i = 0
    for name, need in sizes.items():
        taken: list[list[str]] = []
        have = 0
        while have < need and i < len(docs):
            taken.append(docs[i])
            have += len(docs[i])
            i += 1
        if have < need:
            asked = " + ".join(f"{n} {name_}" for name_, n in sizes.items())
            total = sum(len(d) for d in docs)
            raise ValueError(
                f"{source} has {total} tokens in {len(docs)} documents, fewer than the "
                f"{asked} tokens asked for: lower the sizes in the parameters cell or give a "
                "larger file"
            )
        out[name] = taken
    return out
