"""Word-level tasks derived from a corpus's own layers (Durrani, Dalvi and Sajjad, Sec. 3):
the position of a word in its sentence (Fig. 5), and the dependency arcs, whose probe reads
the modifier's and the head's vectors concatenated (footnote 6)."""

from __future__ import annotations

import torch

from .treebank import Corpus

__all__ = ["dependency_arcs", "word_positions"]


def word_positions(corpus: Corpus) -> list[str]:
    """The position task of Fig. 5: ``BEG``, ``MID`` or ``END`` third of the sentence."""
    labels = []
    for sentence in corpus:
        n = len(sentence)
        labels += [("BEG", "MID", "END")[min(2, 3 * i // n)] for i in range(n)]
    return labels


def dependency_arcs(corpus: Corpus) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Every non-root dependency arc: modifier and head word indices (into the flat word
    list of ``corpus``) and the arc's label. The probe reads the two words' activations
    concatenated (the paper's footnote 6)."""
    modifiers, heads, labels = [], [], []
    offset = 0
    for sentence in corpus:
        for i, (head, relation) in enumerate(zip(sentence.layer("head"), sentence.layer("deprel"))):
            if int(head) > 0:
                modifiers.append(offset + i)
                heads.append(offset + int(head) - 1)
                labels.append(relation)
        offset += len(sentence)
    return torch.tensor(modifiers), torch.tensor(heads), labels
