"""Task generators: plain annotated English and the corpora each chapter needs.

Every generator returns a :class:`~utils.corpus.treebank.Corpus` whose sentences carry
all token layers and task labels in their metadata. Use :func:`generate` with a task name
from :data:`TASKS`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .checks import check_int, check_prob
from .grammar import DEFAULT_PROBS, Grammar
from .lexicon import lexicon
from .task_agreement import agreement
from .task_gender import gender
from .task_paraphrase import paraphrase
from .task_reviews import reviews
from .task_scaffold import scaffold
from .treebank import Corpus

__all__ = ["TASKS", "generate"]


def _english(
    n: int,
    seed: int,
    max_depth: int = 2,
    zipf: float = 1.0,
    topic: str | None = None,
    **probs: float,
) -> Corpus:
    """Annotated English sentences (topic drawn per sentence unless given)."""
    check_int("max_depth", max_depth)
    unknown = set(probs) - set(DEFAULT_PROBS)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)} for task 'english'; known: "
            f"max_depth, zipf, topic, {', '.join(DEFAULT_PROBS)}"
        )
    for k, v in probs.items():
        check_prob(k, v)
    if not isinstance(zipf, (int, float)) or zipf <= 0:
        raise ValueError(f"parameter 'zipf' must be > 0, got {zipf!r}")
    lex = lexicon(float(zipf))
    if topic is not None and topic not in lex.topics:
        raise ValueError(f"parameter 'topic' must be one of {lex.topics}, got {topic!r}")
    rng = random.Random(seed)
    g = Grammar(lex, rng, max_depth, probs)
    topics = lex.topics
    out = []
    for i in range(n):
        t = topic or topics[int(rng.random() * len(topics))]
        out.append(g.sentence(t, {"sent_id": f"english-{seed}-{i}"}))
    return Corpus(out)


def _topics(
    n: int,
    seed: int,
    doc_len: int = 10,
    topic_strength: float = 0.8,
    topics: tuple[str, ...] | None = None,
    max_depth: int = 1,
) -> Corpus:
    """Documents of ``doc_len`` sentences whose topic conditions the content words."""
    check_int("doc_len", doc_len, 1)
    check_int("max_depth", max_depth)
    check_prob("topic_strength", topic_strength)
    lex = lexicon()
    topics = tuple(topics) if topics is not None else lex.topics
    bad = [t for t in topics if t not in lex.topics]
    if bad or not topics:
        raise ValueError(f"parameter 'topics' must be a non-empty subset of {lex.topics}")
    rng = random.Random(seed)
    g = Grammar(lex, rng, max_depth, {"topic_strength": topic_strength})
    out = []
    doc_topic = topics[0]
    for i in range(n):
        doc, pos = divmod(i, doc_len)
        if pos == 0:
            doc_topic = topics[int(rng.random() * len(topics))]
        meta = {"sent_id": f"topics-{seed}-{i}", "doc_id": str(doc), "position": str(pos)}
        out.append(g.sentence(doc_topic, meta))
    return Corpus(out)


_GENERATORS: dict[str, Callable[..., Corpus]] = {
    "english": _english,
    "agreement": agreement,
    "gender": gender,
    "reviews": reviews,
    "paraphrase": paraphrase,
    "topics": _topics,
    "scaffold": scaffold,
}
TASKS: tuple[str, ...] = tuple(_GENERATORS)


def generate(task: str, n: int, seed: int = 0, **params) -> Corpus:
    """Generate a corpus for a task.

    Parameters
    ----------
    task : str
        One of :data:`TASKS`.
    n : int
        Number of sentences (items) to generate.
    seed : int
        Random seed; the same seed gives byte-identical output.
    **params
        Task-specific keyword parameters (see each task's section in the book page).

    Returns
    -------
    Corpus

    Raises
    ------
    ValueError
        For an unknown task, a negative ``n`` or an impossible parameter.
    """
    if task not in _GENERATORS:
        raise ValueError(f"unknown task {task!r}; available tasks: {', '.join(TASKS)}")
    check_int("n", n)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"parameter 'seed' must be an integer, got {seed!r}")
    return _GENERATORS[task](n, seed, **params)
