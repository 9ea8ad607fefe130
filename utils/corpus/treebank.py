"""Sentences, corpora and the CoNLL-U reader/writer shared by every chapter.

A :class:`Sentence` holds the word forms, one list of string labels per annotation
layer and a dictionary of sentence-level metadata. A :class:`Corpus` is a sequence of
sentences with helpers that return labels aligned with per-word activations.

The CoNLL-U mapping is:

* columns LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL are the layers ``"lemma"``, ``"upos"``,
  ``"xpos"``, ``"feats"``, ``"head"`` and ``"deprel"`` (``"deps"`` too when the file has
  enhanced dependencies);
* every morphological feature is also a layer under its UD name (``"Number"``,
  ``"Tense"``, ...), with value ``"_"`` on words that lack it; the six features the
  chapters probe (:data:`STANDARD_FEATURES`) are always present;
* every ``key=value`` item of MISC is a layer under the lower-cased key (``"sem"``,
  ``"chunk"``, ``"suffix"``, ...);
* comment lines ``# key = value`` are the sentence metadata.

The ``"feats"`` layer is the authoritative source of the FEATS column when writing; the
per-feature layers are read-only views of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

__all__ = [
    "COLUMN_LAYERS",
    "STANDARD_FEATURES",
    "Corpus",
    "LayerError",
    "Sentence",
    "read_conllu",
    "to_conllu",
]

COLUMN_LAYERS = ("lemma", "upos", "xpos", "feats", "head", "deprel")
STANDARD_FEATURES = ("Number", "Tense", "Person", "VerbForm", "Gender", "Degree")
_COLUMN_SET = frozenset(COLUMN_LAYERS) | {"deps"}


class LayerError(KeyError):
    """An annotation layer or metadata key that the corpus does not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass
class Sentence:
    """One sentence with its token layers and metadata.

    Parameters
    ----------
    forms : list of str
        The word forms, in order.
    annotations : dict of str to list of str
        Layer name to one label per word (see the module docstring for the names).
    meta : dict of str to str
        Sentence-level metadata (``"text"``, ``"sent_id"``, ``"topic"``, task labels...).
    multiword : tuple of (start, stop, form)
        CoNLL-U multiword tokens (range lines such as ``3-4 del``): words ``start`` to
        ``stop - 1`` (0-based) are written as the one surface token ``form``. Empty for a
        sentence without ranges.
    """

    forms: list[str]
    annotations: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    multiword: tuple[tuple[int, int, str], ...] = ()

    def __len__(self) -> int:
        return len(self.forms)

    def surface(self) -> tuple[list[str], list[int]]:
        """The tokens as written (a multiword token such as *del* once, in place of its
        words *de el*) and, for every word, the index of the surface token it belongs to.

        >>> Sentence(["vi", "de", "el"], multiword=((1, 3, "del"),)).surface()
        (['vi', 'del'], [0, 1, 1])
        """
        starts = {start: (stop, form) for start, stop, form in self.multiword}
        tokens: list[str] = []
        owner: list[int] = []
        i = 0
        while i < len(self.forms):
            stop, form = starts.get(i, (i + 1, self.forms[i]))
            owner += [len(tokens)] * (stop - i)
            tokens.append(form)
            i = stop
        return tokens, owner

    @property
    def text(self) -> str:
        """The sentence text (``meta["text"]`` or the forms joined by spaces)."""
        return self.meta.get("text") or " ".join(self.forms)

    def layer(self, name: str) -> list[str]:
        """Return one label per word for layer ``name`` (``"form"`` gives the forms)."""
        if name == "form":
            return self.forms
        try:
            return self.annotations[name]
        except KeyError:
            raise LayerError(
                f"layer {name!r} not in this sentence; available layers: "
                f"{', '.join(('form', *self.annotations))}"
            ) from None


class Corpus(Sequence):
    """A sequence of :class:`Sentence` objects.

    Parameters
    ----------
    sentences : iterable of Sentence
        The sentences; indexing with an int gives a Sentence, with a slice a Corpus.

    Examples
    --------
    >>> c = Corpus([Sentence(["Hi", "."], {"upos": ["INTJ", "PUNCT"]}, {"topic": "x"})])
    >>> c.labels("upos", flat=True)
    ['INTJ', 'PUNCT']
    """

    def __init__(self, sentences: Iterable[Sentence] = ()) -> None:
        self.sentences: list[Sentence] = list(sentences)

    def __len__(self) -> int:
        return len(self.sentences)

    @overload
    def __getitem__(self, index: int) -> Sentence: ...

    @overload
    def __getitem__(self, index: slice) -> Corpus: ...

    def __getitem__(self, index: int | slice) -> Sentence | Corpus:
        if isinstance(index, slice):
            return Corpus(self.sentences[index])
        return self.sentences[index]

    def __iter__(self) -> Iterator[Sentence]:
        return iter(self.sentences)

    def __add__(self, other: Corpus) -> Corpus:
        if not isinstance(other, Corpus):
            return NotImplemented
        return Corpus(self.sentences + other.sentences)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Corpus) and self.sentences == other.sentences

    def __repr__(self) -> str:
        return f"Corpus({len(self)} sentences, {self.n_tokens} tokens, layers={self.layers})"

    @property
    def n_tokens(self) -> int:
        """Total number of words."""
        return sum(len(s.forms) for s in self.sentences)

    @property
    def layers(self) -> tuple[str, ...]:
        """Token-layer names present in every sentence, in the first sentence's order."""
        if not self.sentences:
            return ()
        common = set(self.sentences[0].annotations)
        for s in self.sentences[1:]:
            common.intersection_update(s.annotations)
        return tuple(k for k in self.sentences[0].annotations if k in common)

    @property
    def features(self) -> tuple[str, ...]:
        """The morphological-feature layers, in layer order."""
        return tuple(k for k in self.layers if _is_feature(k))

    @property
    def meta_keys(self) -> tuple[str, ...]:
        """Sentence-metadata keys present in every sentence."""
        if not self.sentences:
            return ()
        common = set(self.sentences[0].meta)
        for s in self.sentences[1:]:
            common.intersection_update(s.meta)
        return tuple(k for k in self.sentences[0].meta if k in common)

    def require(self, layers: Iterable[str], source: str = "the corpus") -> None:
        """Check that every sentence labels each of ``layers`` before an analysis reads them.

        Raises :class:`LayerError` naming ``source`` (e.g. the data file) for a layer the
        corpus lacks, listing the layers it has, or for a layer left unlabelled (``_`` on
        every word) in some sentence, naming the first such sentence and its ``sent_id``.
        """
        for layer in layers:
            if layer == "form":
                continue
            if layer not in self.layers:
                raise LayerError(
                    f"{source} has no layer {layer!r}; its layers: "
                    f"{', '.join(('form', *self.layers))}"
                )
            empty = [i for i, s in enumerate(self) if all(t == "_" for t in s.layer(layer))]
            if empty:
                sent_id = self[empty[0]].meta.get("sent_id", "?")
                raise LayerError(
                    f"{source}: layer {layer!r} is unlabelled in {len(empty)} of {len(self)} "
                    f"sentences, the first sentence {empty[0]} (sent_id {sent_id})"
                )

    def split(self, sizes: Mapping[str, int], source: str = "the corpus") -> dict[str, Corpus]:
        """Consecutive splits of the first ``sum(sizes)`` sentences, in the order given.

        >>> Corpus([Sentence(["a"], {})] * 5).split({"train": 3, "test": 2})["test"]
        Corpus(2 sentences, 2 tokens, layers=())

        Raises a ValueError, naming ``source`` (e.g. the data file), when a size is below 1
        or the corpus has fewer sentences than the sizes add up to: a split is never
        silently shrunk or left empty.
        """
        bad = {name: n for name, n in sizes.items() if not isinstance(n, int) or n < 1}
        if bad:
            raise ValueError(f"{source}: every split needs at least one sentence, got {bad}")
        need = sum(sizes.values())
        if need > len(self):
            asked = " + ".join(f"{n} {name}" for name, n in sizes.items())
            raise ValueError(
                f"{source} has {len(self)} sentences, fewer than the {asked} = {need} asked "
                "for: lower the sizes in the parameters cell or give a larger file"
            )
        splits, start = {}, 0
        for name, n in sizes.items():
            splits[name] = self[start : start + n]
            start += n
        return splits

    def words(self) -> list[list[str]]:
        """Return the word forms of each sentence."""
        return [list(s.forms) for s in self.sentences]

    def surface(self) -> tuple[list[list[str]], list[list[int]]]:
        """The surface tokens of each sentence (multiword tokens kept whole) and, per word,
        the index of its surface token (:meth:`Sentence.surface`); the same as
        :meth:`words` with ``owner[i] == i`` for sentences without multiword tokens."""
        pairs = [s.surface() for s in self.sentences]
        return [tokens for tokens, _ in pairs], [owner for _, owner in pairs]

    def texts(self) -> list[str]:
        """Return the text of each sentence (detokenised when the metadata has it)."""
        return [s.text for s in self.sentences]

    def labels(self, layer: str, flat: bool = False) -> list[list[str]] | list[str]:
        """Return the labels of one token layer.

        Parameters
        ----------
        layer : str
            A name from :attr:`layers`, or ``"form"``.
        flat : bool
            If True, concatenate the sentences (aligned with per-word activations).

        Returns
        -------
        list of list of str, or list of str when ``flat``.

        Raises
        ------
        LayerError
            (a KeyError) naming the available layers when ``layer`` is missing.
        """
        if layer != "form" and any(layer not in s.annotations for s in self.sentences):
            raise LayerError(
                f"layer {layer!r} is not available; available layers: "
                f"{', '.join(('form', *self.layers))}"
            )
        if flat:
            out: list[str] = []
            for s in self.sentences:
                out.extend(s.layer(layer))
            return out
        return [list(s.layer(layer)) for s in self.sentences]

    def meta(self, key: str) -> list[str]:
        """Return sentence-level metadata ``key``, one value per sentence.

        Raises
        ------
        LayerError
            (a KeyError) naming the available keys when a sentence lacks ``key``.
        """
        try:
            return [s.meta[key] for s in self.sentences]
        except KeyError:
            raise LayerError(
                f"metadata key {key!r} is not available; available keys: "
                f"{', '.join(self.meta_keys)}"
            ) from None


# ----------------------------------------------------------------------------- writing


def _is_feature(layer: str) -> bool:
    """Whether a layer is a morphological feature (UD feature names start with a capital)."""
    return layer[:1].isupper()


def _feature_names(annotations: dict[str, list[str]]) -> set[str]:
    return {k for k in annotations if _is_feature(k)}


def _sentence_lines(sent: Sentence, out: list[str]) -> None:
    ann = sent.annotations
    n = len(sent.forms)
    for key, value in sent.meta.items():
        if "\n" in key or "\n" in value:
            raise ValueError(f"metadata {key!r} contains a newline; CoNLL-U cannot store it")
        out.append(f"# {key} = {value}" if value != "" else f"# {key}")
    cols = []
    for name in COLUMN_LAYERS:
        col = ann.get(name)
        if col is None:
            col = ["_"] * n
        elif len(col) != n:
            raise ValueError(f"layer {name!r} has {len(col)} labels for a sentence of {n} words")
        cols.append(col)
    deps = ann.get("deps") or ["_"] * n
    feats = _feature_names(ann)
    misc_keys = [k for k in ann if k not in _COLUMN_SET and k not in feats]
    misc_cols = [(k, ann[k]) for k in misc_keys]
    for _, col in misc_cols:
        if len(col) != n:
            raise ValueError(f"a MISC layer has {len(col)} labels for a sentence of {n} words")
    lemma, upos, xpos, feat, head, deprel = cols
    ranges = {start: (stop, form) for start, stop, form in sent.multiword}
    for i in range(n):
        if i in ranges:
            stop, form = ranges[i]
            out.append(f"{i + 1}-{stop}\t{form}\t_\t_\t_\t_\t_\t_\t_\t_")
        misc = "|".join(f"{k}={col[i]}" for k, col in misc_cols if col[i] != "_") or "_"
        out.append(
            f"{i + 1}\t{sent.forms[i]}\t{lemma[i]}\t{upos[i]}\t{xpos[i]}\t{feat[i]}\t"
            f"{head[i]}\t{deprel[i]}\t{deps[i]}\t{misc}"
        )
    out.append("")


def to_conllu(corpus: Corpus | Iterable[Sentence]) -> str:
    """Serialise a corpus as CoNLL-U text.

    Parameters
    ----------
    corpus : Corpus or iterable of Sentence

    Returns
    -------
    str
        One block per sentence: ``# key = value`` comments, ten tab-separated columns
        per word (extra layers in MISC as ``key=value``), and a blank line.
    """
    out: list[str] = []
    for sent in corpus:
        _sentence_lines(sent, out)
    return "\n".join(out) + ("\n" if out else "")


# ----------------------------------------------------------------------------- reading


def _check_tree(heads: list[str], lines: list[int], where: str) -> None:
    """Every HEAD is ``_`` or a word of the sentence (0: the root), and following heads from
    any word reaches the root: a clear error naming the file and line otherwise."""
    if all(h == "_" for h in heads):
        return
    n = len(heads)
    parent = []
    for head, lineno in zip(heads, lines):
        if not head.isdigit() or int(head) > n:
            raise ValueError(
                f"{where}, line {lineno}: HEAD {head!r} points outside the sentence of {n} "
                "words (it must be 0 for the root or the ID of a word of the sentence)"
            )
        parent.append(int(head))
    for start in range(1, n + 1):
        seen, node = [], start
        while node != 0:
            if node in seen:
                cycle = seen[seen.index(node) :]
                raise ValueError(
                    f"{where}, line {lines[start - 1]}: the heads of words "
                    f"{', '.join(map(str, cycle))} form a cycle (no path to the root)"
                )
            seen.append(node)
            node = parent[node - 1]


def _parse_block(
    lines: list[tuple[int, str]], where: str = "CoNLL-U"
) -> tuple[list[str], dict, dict]:
    meta: dict[str, str] = {}
    forms: list[str] = []
    rows: list[list[str]] = []
    misc_rows: list[dict[str, str]] = []
    feat_rows: list[dict[str, str]] = []
    token_lines: list[int] = []
    ranges: list[tuple[int, int, str, int]] = []  # start, stop (0-based), form, line
    for lineno, line in lines:
        if line.startswith("#"):
            body = line[1:].strip()
            key, sep, value = body.partition(" = ")
            if not sep and body.endswith(" ="):
                key, value = body[:-2], ""
            meta[key.strip()] = value if sep else ""
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise ValueError(
                f"{where}, line {lineno}: expected 10 tab-separated columns, got {len(cols)}"
            )
        tok_id = cols[0]
        if "." in tok_id:
            continue  # empty node
        if "-" in tok_id:  # a multiword token: its range line precedes its words
            first, _, last = tok_id.partition("-")
            if not (first.isdigit() and last.isdigit()) or int(first) != len(forms) + 1:
                raise ValueError(
                    f"{where}, line {lineno}: multiword token {tok_id!r} must span the next "
                    f"words, from word {len(forms) + 1} on"
                )
            if int(last) <= int(first):
                raise ValueError(f"{where}, line {lineno}: empty multiword range {tok_id!r}")
            ranges.append((int(first) - 1, int(last), cols[1], lineno))
            continue
        if tok_id != str(len(forms) + 1):
            raise ValueError(
                f"{where}, line {lineno}: word ID {tok_id!r} where {len(forms) + 1} was expected "
                "(IDs count 1, 2, 3, ... within each sentence)"
            )
        token_lines.append(lineno)
        forms.append(cols[1])
        rows.append(cols[2:9])
        feats: dict[str, str] = {}
        if cols[5] != "_":
            for item in cols[5].split("|"):
                k, _, v = item.partition("=")
                feats[k] = v
        feat_rows.append(feats)
        misc: dict[str, str] = {}
        if cols[9] != "_":
            for item in cols[9].split("|"):
                k, sep, v = item.partition("=")
                misc[k.lower()] = v if sep else "Yes"
        misc_rows.append(misc)
    _check_tree([r[4] for r in rows], token_lines, where)
    for start, stop, _, lineno in ranges:
        if stop > len(forms):
            raise ValueError(
                f"{where}, line {lineno}: multiword token {start + 1}-{stop} reaches past the "
                f"sentence's {len(forms)} words"
            )
    multiword = tuple((start, stop, form) for start, stop, form, _ in ranges)
    return forms, meta, {"rows": rows, "feats": feat_rows, "misc": misc_rows, "mwt": multiword}


def read_conllu(source: str | os.PathLike) -> Corpus:
    """Read CoNLL-U (ours or a real Universal Dependencies treebank) into a Corpus.

    Parameters
    ----------
    source : str or path-like
        A path to a ``.conllu`` file, or CoNLL-U text itself (any string containing a
        newline or a tab is taken as text).

    Returns
    -------
    Corpus
        Layers: the CoNLL-U columns, every morphological feature found (the six of
        :data:`STANDARD_FEATURES` always, ``"_"`` where absent), and every MISC key
        (lower-cased), one label per syntactic word. Multiword tokens (range lines such as
        ``3-4 del``) are kept in :attr:`Sentence.multiword` (:meth:`Corpus.surface` gives the
        tokens as written); empty nodes (``1.1``) are skipped.
        ``read_conllu(to_conllu(c)) == c`` for corpora this package generates.

    Raises
    ------
    FileNotFoundError
        If ``source`` looks like a path and no such file exists.
    ValueError
        Naming the file and line: a token line without 10 columns, word IDs that do not
        count 1, 2, 3, ..., a multiword range that does not cover the words after it, a
        HEAD outside its sentence, heads that form a cycle; or a source without a single
        sentence.
    """
    if isinstance(source, str) and ("\n" in source or "\t" in source):
        text, where = source, "CoNLL-U text"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"read_conllu: no CoNLL-U file at {str(path)!r}")
        text, where = path.read_text(encoding="utf-8"), str(path)
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if line.strip() == "":
            if current:
                blocks.append(current)
                current = []
        else:
            current.append((lineno, line))
    if current:
        blocks.append(current)

    parsed = [_parse_block(b, where) for b in blocks]
    parsed = [p for p in parsed if p[0]]
    if not parsed:
        raise ValueError(f"{where}: no sentence (no token lines) in this CoNLL-U source")
    feat_names: dict[str, None] = dict.fromkeys(STANDARD_FEATURES)
    misc_names: dict[str, None] = {}
    has_deps = False
    for _, _, data in parsed:
        for feats in data["feats"]:
            feat_names.update(dict.fromkeys(feats))
        for misc in data["misc"]:
            misc_names.update(dict.fromkeys(misc))
        has_deps = has_deps or any(r[6] != "_" for r in data["rows"])
    extra_feats = sorted(k for k in feat_names if k not in STANDARD_FEATURES)
    feature_order = [*STANDARD_FEATURES, *extra_feats]
    misc_order = sorted(misc_names)
    sentences = []
    for forms, meta, data in parsed:
        rows = data["rows"]
        ann: dict[str, list[str]] = {}
        for j, name in enumerate(COLUMN_LAYERS):
            ann[name] = [r[j] for r in rows]
        if has_deps:
            ann["deps"] = [r[6] for r in rows]
        for name in feature_order:
            ann[name] = [f.get(name, "_") for f in data["feats"]]
        for name in misc_order:
            ann[name] = [m.get(name, "_") for m in data["misc"]]
        sentences.append(Sentence(forms, ann, meta, data["mwt"]))
    return Corpus(sentences)
