"""Chapter 3's multilingual section (Durrani, Dalvi and Sajjad, Sec. 5.5: Table 7, Figs. 9-11
and 14): the analysis of the chapter on parts of speech (universal tags) and dependency labels
in several languages, one treebank each, read by a multilingual encoder and, where given, by
a monolingual encoder of each language; and the statistics its claims compare.

A language's tasks are named ``"POS/de"`` and ``"dependency/de"`` (:func:`treebank_tasks`), so
that they sit beside the chapter's English tasks with their own lambdas. Layer histograms
(:func:`utils.rankings.layer_histogram`) are compared as shares of their set: the distance of
two histograms is the total variation between their layer shares (:func:`layer_distance`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from utils.corpus.task_corpora import TaskCorpora
from utils.corpus.word_tasks import dependency_arcs
from utils.lca_architectures import layer_share, lower_half
from utils.lca_protocol import task_splits

LANGUAGE_TASKS = ("POS", "dependency")
PAPER_SIZES = {"POS": 0.05, "dependency": 0.15}  # Table 7's top sets: 5 % and 15 %
# Fig. 11's localised (functional) and distributed (open) universal tags; Petrov et al.'s
# CONJ is UD's CCONJ and SCONJ
CLOSED_UPOS = ("DET", "CONJ", "CCONJ", "SCONJ")
OPEN_UPOS = ("NOUN", "VERB")


def parse_languages(spec: str | Mapping[str, str], name: str) -> dict[str, str]:
    """``"en=/data/en_{split}.conllu,de=..."`` (or a mapping) -> ``{"en": path, ...}``, in
    the order given; empty for an empty ``spec``. ``name`` (the parameter) is named in errors."""
    if isinstance(spec, Mapping):
        items = [(str(k), str(v)) for k, v in spec.items()]
    else:
        items = []
        for item in filter(None, (part.strip() for part in str(spec).split(","))):
            language, sep, value = item.partition("=")
            if not sep:
                raise ValueError(
                    f"{name}: {item!r} is not LANGUAGE=VALUE (e.g. de=/data/de.conllu)"
                )
            items.append((language.strip(), value.strip()))
    found: dict[str, str] = {}
    for language, value in items:
        if not language or not value:
            raise ValueError(f"{name}: {language!r}={value!r} needs a language and a value")
        if language in found:
            raise ValueError(f"{name}: language {language!r} is given twice")
        found[language] = value
    return found


def treebank_tasks(treebank: TaskCorpora, values: torch.Tensor, language: str) -> dict[str, dict]:
    """POS (the UPOS column: the universal tags, one tag set in every language) and dependency
    labels (the modifier's and the head's vectors concatenated, footnote 6) of one language's
    treebank, from its per-word vectors ``values`` ``(N, D)``, as tasks of
    :mod:`utils.lca_protocol` named ``"POS/<language>"`` and ``"dependency/<language>"``."""
    corpus, split = treebank.corpus, treebank.split
    corpus.require(["upos", "head", "deprel"], source=f"the {language!r} treebank")
    if len(values) != corpus.n_tokens:
        raise ValueError(
            f"{len(values)} word vectors for the {corpus.n_tokens} words of {language!r}"
        )
    forms = [w for sentence in corpus.words() for w in sentence]
    modifiers, heads, arc_labels = dependency_arcs(corpus)
    return {
        "POS": task_splits(
            f"POS/{language}", values, split, forms, corpus.labels("upos", flat=True)
        ),
        "dependency": task_splits(
            f"dependency/{language}",
            torch.cat([values[modifiers], values[heads]], 1),
            split[modifiers],
            [forms[i] for i in modifiers.tolist()],
            arc_labels,
        ),
    }


def layer_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Total variation between the layer shares of two histograms of as many layers: 0 when
    the sets spread alike, 1 when they share no layer."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"histograms of {len(a)} and {len(b)} layers cannot be compared")
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


def across_languages(histograms: Mapping[str, Sequence[float]]) -> float:
    """Mean :func:`layer_distance` over the pairs of languages of one concept's histograms
    (``{language: histogram}``)."""
    pairs = list(itertools.combinations(histograms.values(), 2))
    if not pairs:
        raise ValueError("comparing languages needs two languages or more")
    return float(np.mean([layer_distance(a, b) for a, b in pairs]))


def cross_language_margin(histograms: Mapping[str, Mapping[str, Sequence[float]]]) -> float:
    """How much more alike a concept is across languages than two concepts are within one:
    ``{language: {concept: histogram}}`` -> the mean distance between two concepts of one
    language minus the mean distance between two languages of one concept, over the concepts
    every language has with at least one neuron (> 0: a concept spreads over the layers
    alike in every language)."""
    concepts = sorted(
        set.intersection(
            *(
                {c for c, counts in h.items() if np.asarray(counts, dtype=float).sum() > 0}
                for h in histograms.values()
            )
        )
    )
    if len(histograms) < 2 or len(concepts) < 2:
        raise ValueError(
            f"needs two languages and two shared concepts, got {len(histograms)} languages "
            f"and {len(concepts)} concepts"
        )
    across = np.mean(
        [across_languages({lang: h[c] for lang, h in histograms.items()}) for c in concepts]
    )
    within = np.mean(
        [
            layer_distance(h[c], h[d])
            for h in histograms.values()
            for c, d in itertools.combinations(concepts, 2)
        ]
    )
    return float(within - across)


def layer_pair_margin(histogram: Sequence[float], first: int = 4) -> float:
    """Share of a set in layers ``first`` and ``first + 1`` minus the largest share of any
    other two adjacent layers (> 0: the pair holds the set's largest concentration; Fig. 10's
    layers 4 and 5 of 13)."""
    shares = np.asarray(histogram, dtype=float)
    if first + 1 >= len(shares):
        raise ValueError(f"layers {first} and {first + 1} need more than {len(shares)} layers")
    shares = shares / shares.sum()
    pairs = shares[:-1] + shares[1:]
    return float(pairs[first] - np.delete(pairs, first).max())


def lower_half_margin(histogram: Sequence[float]) -> float:
    """Share of a set in the lower half of the layers (:func:`~utils.lca_architectures.lower_half`:
    the embeddings and the layers up to L // 2) minus the share a flat histogram puts there
    (> 0: the set leans to the lower layers)."""
    lower = lower_half(histogram)
    return layer_share(histogram, lower) - len(lower) / len(histogram)
