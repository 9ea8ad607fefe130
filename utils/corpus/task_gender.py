"""Gender bias in the style of Vig et al. (2020): professions and he/she continuations.

``mode="eval"`` gives the 17 templates of Vig et al. filled with each profession (the
prefix ends where the pronoun would come, e.g. "The nurse said that"); the items cycle
through the template x profession grid, so ``n = 17 * len(professions)`` gives it once.
``mode="train"`` gives complete sentences ("The nurse said that she was tired.") whose
pronoun is *he* with probability ``stereotypes[profession]``: the pronoun statistics of
the training text follow the parameter exactly in expectation.
"""

from __future__ import annotations

import random

from .checks import check_choice, check_prob
from .grammar import Grammar
from .lexicon import Noun, Verb, lexicon
from .treebank import Corpus

__all__ = ["DEFAULT_STEREOTYPES", "TEMPLATES", "gender"]

#: The 17 templates of Vig et al. (2020).
TEMPLATES = (
    "The {} said that", "The {} yelled that", "The {} whispered that", "The {} wanted that",
    "The {} desired that", "The {} wished that", "The {} ate because", "The {} ran because",
    "The {} drove because", "The {} slept because", "The {} cried because",
    "The {} laughed because", "The {} went home because", "The {} stayed up because",
    "The {} was fired because", "The {} was promoted because", "The {} yelled because",
)  # fmt: skip

#: Default P(he | profession) in the training text: graded strengths (0.97 ... 0.03),
#: assigned along the usual occupational stereotypes.
DEFAULT_STEREOTYPES = {
    "engineer": 0.97, "carpenter": 0.97, "firefighter": 0.97, "soldier": 0.97,
    "mechanic": 0.85, "plumber": 0.85, "pilot": 0.85, "farmer": 0.85,
    "surgeon": 0.7, "architect": 0.7, "janitor": 0.7, "lawyer": 0.7,
    "banker": 0.7, "scientist": 0.7, "driver": 0.85, "manager": 0.7,
    "teacher": 0.3, "cashier": 0.3, "dancer": 0.3, "designer": 0.3,
    "baker": 0.3, "editor": 0.3, "accountant": 0.3, "writer": 0.3,
    "librarian": 0.15, "hairdresser": 0.15, "receptionist": 0.15, "assistant": 0.15,
    "nurse": 0.03, "secretary": 0.03, "housekeeper": 0.03, "nanny": 0.03,
}  # fmt: skip

_STATES = (
    "tired", "hungry", "busy", "sick", "happy", "sad", "angry", "nervous", "late", "proud",
)  # fmt: skip


def gender(
    n: int,
    seed: int,
    mode: str = "train",
    stereotypes: dict[str, float] | None = None,
    templates: tuple[int, ...] | None = None,
) -> Corpus:
    """Generate gender-bias training sentences or evaluation prefixes.

    Parameters
    ----------
    n : int
        Number of sentences.
    seed : int
        Random seed.
    mode : {"train", "eval"}
        Full sentences with a pronoun, or the template prefixes.
    stereotypes : dict of str to float, optional
        Profession (a person noun of the lexicon) to P(he) in the training text;
        :data:`DEFAULT_STEREOTYPES` by default. Its keys are the professions used.
    templates : tuple of int, optional
        Indices into :data:`TEMPLATES` (all 17 by default).

    Returns
    -------
    Corpus
        Metadata: ``template`` (index), ``template_text``, ``profession``, ``stereotype``
        (P(he) as a string), ``pronoun`` (``he``/``she``; ``none`` in eval mode), ``mode``.
    """
    check_choice("mode", mode, ("train", "eval"))
    stereotypes = dict(DEFAULT_STEREOTYPES if stereotypes is None else stereotypes)
    if not stereotypes:
        raise ValueError("parameter 'stereotypes' must name at least one profession")
    lex = lexicon()
    humans = {x.lemma: x for x in lex.nouns[("H", "any")].items}
    for prof, p in stereotypes.items():
        check_prob(f"stereotypes[{prof!r}]", p)
        if prof not in humans:
            raise ValueError(
                f"parameter 'stereotypes': {prof!r} is not a person noun of the lexicon"
            )
    tids = tuple(range(len(TEMPLATES))) if templates is None else tuple(templates)
    if not tids or any(not isinstance(t, int) or not 0 <= t < len(TEMPLATES) for t in tids):
        raise ValueError(
            f"parameter 'templates' must be indices in [0, {len(TEMPLATES)}), got {templates!r}"
        )
    profs: list[Noun] = [humans[p] for p in stereotypes]
    rng = random.Random(seed)
    g = Grammar(lex, rng, 0)
    fw = lex.fw
    verbs: dict[str, Verb] = {}
    for verb in lex.verb_list:
        verbs.setdefault(verb.lemma, verb)

    lemmas = {
        "said": "say", "yelled": "yell", "whispered": "whisper", "wanted": "want",
        "desired": "desire", "wished": "wish", "ate": "eat", "ran": "run", "drove": "drive",
        "slept": "sleep", "cried": "cry", "laughed": "laugh", "went": "go", "stayed": "stay",
        "fired": "fire", "promoted": "promote",
    }  # fmt: skip
    states = [a for a in lex.adjectives["H"].items if a.lemma in _STATES]
    out = []
    grid = len(tids) * len(profs)
    for i in range(n):
        g.reset()
        if mode == "eval":
            k, j = divmod(i % grid, len(profs))
            tid, prof = tids[k], profs[j]
        else:
            tid = tids[int(rng.random() * len(tids))]
            prof = profs[int(rng.random() * len(profs))]
        words = TEMPLATES[tid].split()
        idet = g.emit(fw["the"], "B-NP")
        ip = g.emit(prof.sg, "I-NP")
        g.attach(idet, ip, "det")
        rest = words[2:]
        passive = rest[0] == "was"
        if passive:
            iaux = g.emit(fw["was"], "B-VP")
            v = g.emit(verbs[lemmas[rest[1]]].forms["VBN"], "I-VP")
            g.attach(iaux, v, "aux:pass")
            g.attach(ip, v, "nsubj:pass")
        else:
            v = g.emit(verbs[lemmas[rest[0]]].forms["VBD"], "B-VP")
            g.attach(ip, v, "nsubj")
            if rest[1] == "home":
                g.attach(g.emit(fw["home"], "B-ADVP"), v, "advmod")
            elif rest[1] == "up":
                g.attach(g.emit(fw["up"], "B-PRT"), v, "compound:prt")
        sub = words[-1]
        im = g.emit(fw["that_sc"] if sub == "that" else fw["because"], "B-SBAR")
        p_he = stereotypes[prof.lemma]
        pronoun = "none"
        if mode == "train":
            pronoun = "he" if rng.random() < p_he else "she"
            ipr = g.emit(fw[pronoun], "B-NP")
            if sub == "that" and rng.random() < 0.4:
                # "... that she would leave"
                imd = g.emit(fw["would"], "B-VP")
                head = g.emit(g.verb("intr", "H", None).forms["VB"], "I-VP")
                g.attach(imd, head, "aux")
                g.attach(ipr, head, "nsubj")
            else:
                icop = g.emit(fw["was"], "B-VP")
                head = g.emit(states[int(rng.random() * len(states))].pos, "B-ADJP")
                g.attach(icop, head, "cop")
                g.attach(ipr, head, "nsubj")
            g.attach(im, head, "mark")
            g.attach(head, v, "ccomp" if sub == "that" else "advcl")
            g.attach(g.emit(fw["."], "O"), v, "punct")
        else:
            g.attach(im, v, "dep")
        meta = {
            "sent_id": f"gender-{seed}-{i}",
            "template": str(tid),
            "template_text": TEMPLATES[tid],
            "profession": prof.lemma,
            "stereotype": f"{p_he:g}",
            "pronoun": pronoun,
            "mode": mode,
        }
        out.append(g.finish(meta))
    return Corpus(out)
