"""Subject-verb number agreement in the style of Lakretz et al. (2019).

Constructions (``construction`` in the metadata):

* ``simple``          The athlete encourages ...
* ``adv``             The athlete probably encourages ...
* ``adv_adv``         The athlete probably also encourages ...
* ``adv_conjunction`` The athlete quietly and slowly encourages ...
* ``namepp``          The athlete near John encourages ...
* ``nounpp``          The athlete near the cars encourages ...   (attractor "cars")
* ``nounpp_adv``      The athlete near the cars probably encourages ...
* ``subj_relc``       The athlete who admires the farmers encourages ...
* ``obj_relc``        The athlete that the farmers admire encourages ...

``mode="prefix"`` gives the minimal-pair items: the sentence ends at the target verb (in
its correct form) and the metadata holds ``correct`` and ``wrong`` (the same verb in the
other number) and ``verb_index`` (0-based). ``mode="train"`` completes each sentence with
an object and a full stop, for language-model training.
"""

from __future__ import annotations

import random

from .checks import check_choice, check_int
from .grammar import Grammar
from .lexicon import Lexicon, Noun, Tok, Verb, lexicon
from .treebank import Corpus

__all__ = ["CONSTRUCTIONS", "agreement"]

CONSTRUCTIONS = (
    "simple", "adv", "adv_adv", "adv_conjunction", "namepp", "nounpp", "nounpp_adv",
    "subj_relc", "obj_relc",
)  # fmt: skip
#: Pool sizes of Lakretz et al. (App. D of the DiffMask paper): nouns, verbs, adverbs,
#: prepositions, proper names, location nouns.
LAKRETZ_POOLS = {"nouns": 20, "verbs": 15, "adverbs": 10, "preps": 5, "names": 10, "locs": 10}


class _Pools:
    def __init__(self, lex: Lexicon, pool: str) -> None:
        def take(items: list, k: str) -> list:
            return items[: LAKRETZ_POOLS[k]] if pool == "lakretz" else items

        humans = [n for n in lex.nouns[("H", "any")].items if n.pl is not None and not n.gender]
        self.nouns: list[Noun] = take(humans, "nouns")
        verbs = [v for v in lex.verb_list if v.frame == "tr" and v.objs == "H"]
        uniq: dict[str, Verb] = {}
        for v in verbs:
            uniq.setdefault(v.lemma, v)
        self.verbs: list[Verb] = take(list(uniq.values()), "verbs")
        self.adverbs: list[Tok] = take(lex.adverbs["preverbal"].items, "adverbs")
        self.manner: list[Tok] = take(lex.adverbs["manner"].items, "adverbs")
        self.preps: list[Tok] = take(
            [p for p in lex.prepositions["noun"].items if p[0] != "with"], "preps"
        )
        names = [
            x
            for pair in zip(
                lex.first_names["Masc"].items, lex.first_names["Fem"].items, strict=False
            )
            for x in pair
        ]
        self.names: list[Tok] = take(names, "names")
        locs = [n for n in lex.nouns[("P", "any")].items if n.pl is not None]
        self.locs: list[Noun] = take(locs, "locs")


def agreement(
    n: int,
    seed: int,
    mode: str = "prefix",
    constructions: tuple[str, ...] = CONSTRUCTIONS,
    pool: str = "lakretz",
) -> Corpus:
    """Generate number-agreement items.

    Parameters
    ----------
    n : int
        Number of sentences.
    seed : int
        Random seed.
    mode : {"prefix", "train"}
        Minimal-pair prefixes ending at the verb, or full training sentences.
    constructions : tuple of str
        Subset of :data:`CONSTRUCTIONS`, drawn uniformly.
    pool : {"lakretz", "full"}
        Lakretz-sized word pools (20 nouns, 15 verbs, ...) for a tiny LM, or the whole
        lexicon.

    Returns
    -------
    Corpus
        Metadata: ``construction``, ``subj_number``, ``attractor_number`` (``none`` when
        there is no attractor), ``congruent`` (``yes``/``no``/``none``), ``correct``,
        ``wrong``, ``verb_index``, ``mode``.
    """
    check_choice("mode", mode, ("prefix", "train"))
    check_choice("pool", pool, ("lakretz", "full"))
    constructions = tuple(constructions)
    if not constructions:
        raise ValueError("parameter 'constructions' must not be empty")
    for c in constructions:
        check_choice("constructions", c, CONSTRUCTIONS)
    check_int("n", n)
    lex = lexicon()
    P = _Pools(lex, pool)
    rng = random.Random(seed)
    g = Grammar(lex, rng, 0)
    fw = lex.fw
    out = []

    def noun_np(noun: Noun, number: str, chunk: str = "B-NP") -> int:
        idet = g.emit(fw["the"], chunk)
        ino = g.emit(noun.sg if number == "Sing" else noun.pl, "I-NP")
        g.attach(idet, ino, "det")
        return ino

    def vform(verb: Verb, number: str) -> Tok:
        return verb.forms["VBZ"] if number == "Sing" else verb.forms["VBP"]

    for i in range(n):
        g.reset()
        cons = constructions[int(rng.random() * len(constructions))]
        num = "Sing" if rng.random() < 0.5 else "Plur"
        other = "Plur" if num == "Sing" else "Sing"
        att = "none"
        subj_noun = P.nouns[int(rng.random() * len(P.nouns))]
        verb = P.verbs[int(rng.random() * len(P.verbs))]
        s = noun_np(subj_noun, num)
        pre: list[int] = []  # pre-verbal adverbs (attached to the verb)
        if cons in ("namepp", "nounpp", "nounpp_adv"):
            ip = g.emit(P.preps[int(rng.random() * len(P.preps))], "B-PP")
            if cons == "namepp":
                att = "Sing"  # a proper name is a singular attractor
                ia = g.emit(P.names[int(rng.random() * len(P.names))], "B-NP")
            else:
                att = num if rng.random() < 0.5 else other
                ia = noun_np(P.locs[int(rng.random() * len(P.locs))], att)
            g.attach(ip, ia, "case")
            g.attach(ia, s, "nmod")
        elif cons in ("subj_relc", "obj_relc"):
            att = num if rng.random() < 0.5 else other
            v2 = P.verbs[int(rng.random() * len(P.verbs))]
            n2 = P.nouns[int(rng.random() * len(P.nouns))]
            if cons == "subj_relc":
                ir = g.emit(fw["who"] if rng.random() < 0.5 else fw["that_rel"], "B-NP")
                iv2 = g.emit(vform(v2, num), "B-VP")
                io = noun_np(n2, att)
                g.attach(ir, iv2, "nsubj")
                g.attach(io, iv2, "obj")
            else:
                ir = g.emit(fw["that_rel"], "B-NP")
                io = noun_np(n2, att)
                iv2 = g.emit(vform(v2, att), "B-VP")
                g.attach(ir, iv2, "obj")
                g.attach(io, iv2, "nsubj")
            g.attach(iv2, s, "acl:relcl")
        if cons in ("adv", "nounpp_adv"):
            pre.append(g.emit(P.adverbs[int(rng.random() * len(P.adverbs))], "B-ADVP"))
        elif cons == "adv_adv":
            a, b = rng.sample(range(len(P.adverbs)), 2)
            pre.append(g.emit(P.adverbs[a], "B-ADVP"))
            pre.append(g.emit(P.adverbs[b], "B-ADVP"))
        elif cons == "adv_conjunction":
            a, b = rng.sample(range(len(P.manner)), 2)
            ia = g.emit(P.manner[a], "B-ADVP")
            ic = g.emit(fw["and"], "I-ADVP")
            ib = g.emit(P.manner[b], "I-ADVP")
            g.attach(ic, ib, "cc")
            g.attach(ib, ia, "conj")
            pre.append(ia)
        correct = vform(verb, num)
        v = g.emit(correct, "B-VP")
        g.attach(s, v, "nsubj")
        for a in pre:
            g.attach(a, v, "advmod")
        verb_index = v - 1
        if mode == "train":
            o = noun_np(
                P.nouns[int(rng.random() * len(P.nouns))], "Sing" if rng.random() < 0.5 else "Plur"
            )
            g.attach(o, v, "obj")
            ip = g.emit(fw["."], "O")
            g.attach(ip, v, "punct")
        meta = {
            "sent_id": f"agreement-{seed}-{i}",
            "construction": cons,
            "subj_number": num.lower(),
            "attractor_number": att.lower(),
            "congruent": "none" if att == "none" else ("yes" if att == num else "no"),
            "correct": correct[0],
            "wrong": vform(verb, other)[0],
            "verb_index": str(verb_index),
            "mode": mode,
        }
        out.append(g.finish(meta))
    return Corpus(out)
