"""One intervention experiment of Antverg and Belinkov (2022, §4): a set of sentences whose
carrier words hold an attribute's values, the encoder split at one layer, and the scores of
every edit of a ranking's top-k neurons.

An :class:`EditLab` binds the pieces of :mod:`utils.neuron_edits` for one (attribute, layer)
config: the words to edit and their values, the class means ``q(z)`` that translation moves
between (Eq. 2), the :class:`~utils.neuron_edits.SplitModel` whose bottom runs once, and the
spaCy judge of CLWV. Only the carrier words that the unedited model already reproduces are
scored, per decoder, so a decoder's own errors never count as edit successes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from utils.neuron_edits import (
    ABLATION,
    TRANSLATION,
    MorphologyJudge,
    NeuronEdit,
    SplitModel,
    ablation,
    complete_ranking,
    edit_scores,
    translation,
    translation_coefficients,
)


class EditLab:
    """The edits of one (attribute, layer) config and their error rates and CLWV.

    Parameters
    ----------
    split
        The encoder split at ``layer`` for the config's sentences (its ``batch.sentences`` are
        the words that are edited and judged), with one or more word decoders (replicates).
    word_labels
        Per word of each sentence, the index of its value among the config's values (the rows
        of ``means``), ``-1`` for a word that is not edited.
    means
        ``(C, d)`` mean training representation of each value at ``layer`` (``q(z)``, Eq. 2).
    judge
        The spaCy judge of lemma and value (:class:`~utils.neuron_edits.MorphologyJudge`).
    attribute, layer
        The config's name.
    annotations
        Optional per-word annotations of the same sentences (for example gold lemmas), kept
        for inspection as ``annotations[name]``.

    Attributes
    ----------
    relevants
        Per decoder, per sentence, per word: whether the word is edited and scored (a carrier
        that this decoder reproduces unedited).
    relevant
        The first decoder's ``relevants`` (the one the lab shows).
    scored_share
        Mean over decoders of the share of carrier words that are scored.
    token_labels
        ``(B, T)`` ``word_labels`` spread over the sub-tokens.
    """

    def __init__(
        self,
        split: SplitModel,
        word_labels: Sequence[Sequence[int]],
        means: torch.Tensor,
        judge: MorphologyJudge,
        *,
        attribute: str = "",
        layer: int | None = None,
        annotations: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> None:
        self.split, self.means, self.judge = split, means, judge
        self.attribute, self.layer = attribute, layer
        self.sentences = split.batch.sentences
        self.annotations = dict(annotations or {})
        for name, rows in self.annotations.items():
            if [len(r) for r in rows] != [len(s) for s in self.sentences]:
                raise ValueError(f"annotation {name!r} does not have one entry per word")
        self.word_labels = [list(row) for row in word_labels]
        self.token_labels = split.batch.spread(self.word_labels)  # checks one label per word
        if int(self.token_labels.max()) >= len(means):
            raise ValueError(f"a word label is >= the {len(means)} class means")
        carriers = [[v >= 0 for v in row] for row in self.word_labels]
        self.relevants = [
            [
                [m and p.lower() == w.lower() for m, p, w in zip(marks, guesses, words)]
                for marks, guesses, words in zip(carriers, unedited, self.sentences)
            ]
            for unedited in split.predict_all([None])[0]
        ]
        self.relevant = self.relevants[0]
        n_carriers = max(1, sum(map(sum, carriers)))
        self.scored_share = float(np.mean([sum(map(sum, r)) / n_carriers for r in self.relevants]))

    def edit(self, method: str, ranking: torch.Tensor, k: int, beta: float) -> NeuronEdit | None:
        """The edit of the top-``k`` neurons of ``ranking`` (None for ``k = 0``).

        ``method`` is ``"ablation"`` (set to 0) or ``"translation"`` (Eq. 2, with the
        log-scaled ``alpha`` from ``beta``); a ranking that stops early is completed in index
        order, its extra neurons translated with ``alpha = 0``.
        """
        if k == 0:
            return None
        d = self.means.shape[1]
        neurons = complete_ranking(ranking, d)[:k]
        if method == ABLATION:
            return ablation(self.token_labels, neurons)
        if method != TRANSLATION:
            raise ValueError(f"method must be {ABLATION!r} or {TRANSLATION!r}, got {method!r}")
        alpha = translation_coefficients(ranking, d, beta)
        return translation(self.token_labels, neurons, alpha, self.means)

    def predict(
        self, method: str, ranking: torch.Tensor, ks: Sequence[int], beta: float
    ) -> list[list[list[str]]]:
        """The first decoder's predicted words at every ``k`` of ``ks`` (edits stacked in a
        few passes of the top)."""
        return self.split.predict([self.edit(method, ranking, k, beta) for k in ks])

    def score(self, edits: Sequence[NeuronEdit | None]) -> np.ndarray:
        """``(decoders, 2, len(edits))``: the error rate and CLWV of each decoder under each
        edit, over the words that decoder reproduces unedited."""
        found = self.split.predict_all(edits)
        return np.array(
            [
                [edit_scores(self.judge, self.sentences, words[j], relevant) for words in found]
                for j, relevant in enumerate(self.relevants)
            ]
        ).transpose(0, 2, 1)

    def sweep_all(
        self, method: str, ranking: torch.Tensor, ks: Sequence[int], beta: float
    ) -> np.ndarray:
        """``(decoders, 2, len(ks))``: (error rates, CLWV) along ``ks``, for every decoder."""
        return self.score([self.edit(method, ranking, k, beta) for k in ks])

    def sweep(
        self, method: str, ranking: torch.Tensor, ks: Sequence[int], beta: float
    ) -> np.ndarray:
        """``(2, len(ks))``: (error rates, CLWV) along ``ks``, for the first decoder."""
        return self.sweep_all(method, ranking, ks, beta)[0]
