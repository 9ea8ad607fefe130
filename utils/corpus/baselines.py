"""Difficulty measures: most-frequent-label baselines and POS ambiguity."""

from __future__ import annotations

from collections import Counter

from .treebank import Corpus

__all__ = ["ambiguity_rate", "majority_baseline"]


def majority_baseline(train: Corpus, test: Corpus, layer: str = "xpos") -> float:
    """Accuracy on ``test`` of predicting each word's most frequent ``layer`` label in ``train``.

    Words unseen in ``train`` get the most frequent label overall. Forms are compared
    case-insensitively.

    Parameters
    ----------
    train, test : Corpus
    layer : str
        Any token layer.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    counts: dict[str, Counter] = {}
    overall: Counter = Counter()
    for form, label in zip(
        train.labels("form", flat=True), train.labels(layer, flat=True), strict=True
    ):
        counts.setdefault(form.lower(), Counter())[label] += 1
        overall[label] += 1
    if not overall:
        raise ValueError("majority_baseline: the training corpus has no tokens")
    default = overall.most_common(1)[0][0]
    best = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    forms = test.labels("form", flat=True)
    gold = test.labels(layer, flat=True)
    if not gold:
        raise ValueError("majority_baseline: the test corpus has no tokens")
    hits = sum(best.get(f.lower(), default) == y for f, y in zip(forms, gold, strict=True))
    return hits / len(gold)


def ambiguity_rate(corpus: Corpus, layer: str = "upos", tags: dict | None = None) -> float:
    """Fraction of tokens whose (lower-cased) form carries more than one ``layer`` label.

    Parameters
    ----------
    corpus : Corpus
    layer : str
        ``"upos"`` or ``"xpos"`` typically.
    tags : dict, optional
        Form to set of possible labels (e.g. ``lexicon().tags_of("upos")``); by default
        the labels each form takes in ``corpus`` itself.
    """
    if tags is None:
        tags = {}
        for f, y in zip(
            corpus.labels("form", flat=True), corpus.labels(layer, flat=True), strict=True
        ):
            tags.setdefault(f.lower(), set()).add(y)
    forms = corpus.labels("form", flat=True)
    if not forms:
        raise ValueError("ambiguity_rate: the corpus has no tokens")
    return sum(len(tags.get(f.lower(), ())) > 1 for f in forms) / len(forms)
