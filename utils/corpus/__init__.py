"""Annotated English from a grammar, and the CoNLL-U loader every chapter uses.

>>> from utils.corpus import generate
>>> corpus = generate("english", n=10, seed=0, max_depth=2)
>>> corpus.labels("upos")[0][:3]  # doctest: +SKIP
['DET', 'NOUN', 'VERB']

See :func:`generate` for the tasks and :mod:`utils.corpus.treebank` for the layers.
"""

from .baselines import ambiguity_rate, majority_baseline
from .task_reviews import review_triplets
from .tasks import TASKS, generate
from .treebank import Corpus, LayerError, Sentence, read_conllu, to_conllu

__all__ = [
    "TASKS",
    "Corpus",
    "LayerError",
    "Sentence",
    "ambiguity_rate",
    "generate",
    "majority_baseline",
    "review_triplets",
    "read_conllu",
    "to_conllu",
]
