"""The long-range rule corpus of the training-dynamics thesis (Saphra, ch. 5).

Rows of ``length`` tokens drawn uniformly from an artificial vocabulary ``w0 ... w{V-1}``
(UPOS ``X``). A *rule* is ``ALPHA q OMEGA`` where the scaffold ``q`` is one of
``n_scaffolds`` fixed phrases of exactly ``k`` tokens (``k`` counts the tokens strictly
between ALPHA and OMEGA). In ``split="train"`` each scaffold appears
``rules_per_scaffold`` times inside a rule; with ``familiar=True`` it also appears
``copies`` times on its own outside any rule (the familiar-scaffold setting), else only
inside rules (unfamiliar). Rules and copies occupy non-overlapping slots. ``test_in``
rows hold one rule with a training scaffold, ``test_out`` rows one rule with a random
scaffold; both at a random offset.

The scaffolds depend on ``seed`` only, so train and test corpora generated with the same
seed share them. Layer ``role`` marks each token: ``alpha``, ``scaffold``, ``omega``,
``copy`` (a free scaffold occurrence) or ``filler``.
"""

from __future__ import annotations

import random

from .checks import check_choice, check_int
from .treebank import Corpus, Sentence

__all__ = ["scaffold"]

ALPHA, OMEGA = "ALPHA", "OMEGA"


def scaffold(
    n: int,
    seed: int,
    vocab_size: int = 200,
    k: int = 4,
    n_scaffolds: int = 50,
    rules_per_scaffold: int = 10,
    familiar: bool = False,
    copies: int = 50,
    length: int = 35,
    split: str = "train",
) -> Corpus:
    """Generate rows of the alpha-scaffold-omega rule corpus.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Random seed (fixes the scaffolds; the placements also depend on ``split``).
    vocab_size : int
        Size of the filler vocabulary.
    k : int
        Scaffold length (tokens strictly between ALPHA and OMEGA).
    n_scaffolds, rules_per_scaffold : int
        Number of distinct scaffolds and rule occurrences of each (train split).
    familiar : bool
        Whether each scaffold also occurs ``copies`` times outside rules (train split).
    copies : int
        Free occurrences per scaffold in the familiar setting.
    length : int
        Tokens per row.
    split : {"train", "test_in", "test_out"}

    Returns
    -------
    Corpus
        Metadata: ``split``, ``setting`` (familiar/unfamiliar), ``k``, ``n_rules`` in the
        row and ``alpha_positions`` (0-based, comma-separated).
    """
    check_int("n", n)
    check_int("vocab_size", vocab_size, 2)
    check_int("k", k, 1)
    check_int("n_scaffolds", n_scaffolds, 1)
    check_int("rules_per_scaffold", rules_per_scaffold, 0)
    check_int("copies", copies, 0)
    check_int("length", length, k + 2)
    check_choice("split", split, ("train", "test_in", "test_out"))
    if not isinstance(familiar, bool):
        raise ValueError(f"parameter 'familiar' must be a bool, got {familiar!r}")
    srng = random.Random(seed)
    scaffolds = [tuple(srng.randrange(vocab_size) for _ in range(k)) for _ in range(n_scaffolds)]
    rng = random.Random(f"scaffold-{seed}-{split}")
    rows = [[rng.randrange(vocab_size) for _ in range(length)] for _ in range(n)]
    roles = [["filler"] * length for _ in range(n)]
    slot = k + 2
    if split == "train":
        per_row = length // slot
        items = [(q, "rule") for q in range(n_scaffolds) for _ in range(rules_per_scaffold)]
        if familiar:
            items += [(q, "copy") for q in range(n_scaffolds) for _ in range(copies)]
        if len(items) > n * per_row:
            raise ValueError(
                f"parameter 'n' is too small: {len(items)} rule/copy slots of {slot} tokens "
                f"need at least {-(-len(items) // per_row)} rows of length {length}"
            )
        places = rng.sample(range(n * per_row), len(items))
        for (q, what), place in zip(items, places, strict=True):
            r, j = divmod(place, per_row)
            start = j * slot
            if what == "rule":
                rows[r][start] = ALPHA
                roles[r][start] = "alpha"
                rows[r][start + 1 : start + 1 + k] = scaffolds[q]
                roles[r][start + 1 : start + 1 + k] = ["scaffold"] * k
                rows[r][start + k + 1] = OMEGA
                roles[r][start + k + 1] = "omega"
            else:
                rows[r][start : start + k] = scaffolds[q]
                roles[r][start : start + k] = ["copy"] * k
    else:
        for r in range(n):
            q = (
                scaffolds[int(rng.random() * n_scaffolds)]
                if split == "test_in"
                else tuple(rng.randrange(vocab_size) for _ in range(k))
            )
            start = rng.randrange(length - slot + 1)
            rows[r][start : start + slot] = [ALPHA, *q, OMEGA]
            roles[r][start : start + slot] = ["alpha", *["scaffold"] * k, "omega"]
    setting = "familiar" if familiar else "unfamiliar"
    heads = ["0", *(str(i) for i in range(1, length))]
    deprels = ["root", *["dep"] * (length - 1)]
    out = []
    for r, (row, role) in enumerate(zip(rows, roles, strict=True)):
        forms = [t if isinstance(t, str) else f"w{t}" for t in row]
        under = ["_"] * length
        alphas = [str(i) for i, x in enumerate(role) if x == "alpha"]
        ann = {
            "lemma": list(forms), "upos": ["X"] * length, "xpos": ["FW"] * length,
            "feats": list(under), "head": list(heads), "deprel": list(deprels),
            "Number": list(under), "Tense": list(under), "Person": list(under),
            "VerbForm": list(under), "Gender": list(under), "Degree": list(under),
            "chunk": ["O"] * length, "role": role, "sem": ["ART"] * length,
            "suffix": ["-"] * length,
        }  # fmt: skip
        meta = {
            "text": " ".join(forms), "sent_id": f"scaffold-{seed}-{split}-{r}",
            "split": split, "setting": setting, "k": str(k), "n_rules": str(len(alphas)),
            "alpha_positions": ",".join(alphas) or "none",
        }  # fmt: skip
        out.append(Sentence(forms, ann, meta))
    return Corpus(out)
