"""The annotated lexicon: every word form with its lemma, tags, features and semantic tag.

Each word form used by the grammar is a *token tuple* whose fields are :data:`LEX_FIELDS`;
all annotations that depend only on the word are precomputed here, so generating a
sentence is a matter of choosing tuples and wiring the dependency tree.

Open-class words come from :mod:`utils.corpus.words` and are inflected by rule (with the
irregular forms written there). Closed-class words (determiners, pronouns, auxiliaries,
prepositions, conjunctions, punctuation) are defined in :func:`_function_words`.

Semantic tags follow the spirit of the Parallel Meaning Bank (see :data:`SEM_TAGS`).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from functools import cache, lru_cache

from . import words as W

__all__ = [
    "LEX_FIELDS",
    "SEM_TAGS",
    "SUFFIXES",
    "Adjective",
    "Lexicon",
    "Noun",
    "Pool",
    "Verb",
    "lexicon",
    "make_token",
    "suffix_class",
]

#: Fields of a token tuple, in order.
LEX_FIELDS = (
    "form", "lemma", "upos", "xpos", "feats",
    "Number", "Tense", "Person", "VerbForm", "Gender", "Degree",
    "sem", "suffix",
)  # fmt: skip

#: Semantic tags (in the spirit of the Parallel Meaning Bank) and what they mark.
SEM_TAGS = {
    "PER": "person name", "GEO": "place name", "ORG": "organisation name",
    "ROL": "role noun (person)", "CON": "concept (common noun)", "HAP": "event noun",
    "MOY": "month", "DOW": "day of week", "YOC": "year", "TIM": "time noun or adverb",
    "QUC": "cardinal quantity", "DEF": "definite article", "DIS": "indefinite determiner",
    "PRX": "proximal demonstrative", "DST": "distal demonstrative",
    "AND": "conjunction / universal quantifier", "ALT": "disjunction",
    "BUT": "contrast", "NOT": "negation", "PRO": "anaphoric pronoun", "HAS": "possessive",
    "REL": "relation (preposition)", "SUB": "subordinator", "IST": "intersective modifier",
    "MOR": "comparative", "TOP": "superlative", "INT": "intensifier",
    "ENS": "present simple event", "EPS": "past simple event", "EXS": "untensed event",
    "EXG": "progressive event", "EXT": "perfect / participle event",
    "NOW": "present tense auxiliary", "PST": "past tense auxiliary", "FUT": "future",
    "NEC": "necessity modal", "POS": "possibility modal", "EXI": "existential",
    "NIL": "no semantic contribution", "ART": "artificial symbol",
}  # fmt: skip

#: Suffix classes, longest first; a content word gets the longest one it ends with.
SUFFIXES = (
    "ation", "ment", "ness", "ship", "ance", "ence", "able", "ible", "less", "ward",
    "ful", "ous", "ive", "ity", "ist", "ism", "ing", "est", "ier", "ies", "ian",
    "ed", "er", "or", "ly", "al", "ic", "en", "es", "s",
)  # fmt: skip
_CONTENT_UPOS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
_FEAT_ORDER = ("Degree", "Gender", "Number", "Person", "Tense", "VerbForm")

Tok = tuple[str, ...]


def suffix_class(form: str, upos: str) -> str:
    """Return the suffix class of a word (``"-"`` for none or for non-content words)."""
    if upos not in _CONTENT_UPOS:
        return "-"
    low = form.lower()
    for suf in SUFFIXES:
        if low.endswith(suf) and len(low) - len(suf) >= 3:
            return suf
    return "-"


@cache
def make_token(form: str, lemma: str, upos: str, xpos: str, sem: str, **feats: str) -> Tok:
    """Build a token tuple (fields :data:`LEX_FIELDS`) with its FEATS string."""
    unknown = set(feats) - set(_FEAT_ORDER)
    if unknown:
        raise ValueError(f"make_token: unknown features {sorted(unknown)}")
    fs = "|".join(f"{k}={feats[k]}" for k in _FEAT_ORDER if k in feats) or "_"
    return (
        form, lemma, upos, xpos, fs,
        feats.get("Number", "_"), feats.get("Tense", "_"), feats.get("Person", "_"),
        feats.get("VerbForm", "_"), feats.get("Gender", "_"), feats.get("Degree", "_"),
        sem, suffix_class(form, upos),
    )  # fmt: skip


# ----------------------------------------------------------------------------- inflection

_VOWELS = "aeiou"


def plural(noun: str) -> str:
    """Regular English plural of ``noun``."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in _VOWELS:
        return noun[:-1] + "ies"
    return noun + "s"


def verb_forms(lemma: str, past: str | None, part: str | None, double: bool) -> dict:
    """Return the forms VB, VBZ, VBP, VBD, VBN, VBG of a verb."""
    if lemma == "have":
        vbz = "has"
    elif lemma.endswith(("s", "x", "z", "ch", "sh", "o")):
        vbz = lemma + "es"
    elif lemma.endswith("y") and lemma[-2] not in _VOWELS:
        vbz = lemma[:-1] + "ies"
    else:
        vbz = lemma + "s"
    if double:
        ing, ed = lemma + lemma[-1] + "ing", lemma + lemma[-1] + "ed"
    else:
        if lemma.endswith("ie"):
            ing = lemma[:-2] + "ying"
        elif lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")) and len(lemma) > 2:
            ing = lemma[:-1] + "ing"
        else:
            ing = lemma + "ing"
        if lemma.endswith("e"):
            ed = lemma + "d"
        elif lemma.endswith("y") and lemma[-2] not in _VOWELS:
            ed = lemma[:-1] + "ied"
        else:
            ed = lemma + "ed"
    return {
        "VB": lemma, "VBZ": vbz, "VBP": lemma, "VBD": past or ed, "VBN": part or ed,
        "VBG": ing,
    }  # fmt: skip


def adjective_forms(lemma: str, inflects: bool) -> tuple[str, str] | None:
    """Return (comparative, superlative) for an inflecting adjective, else None."""
    if not inflects:
        return None
    if lemma.endswith("e"):
        return lemma + "r", lemma + "st"
    if lemma.endswith("y") and lemma[-2] not in _VOWELS:
        return lemma[:-1] + "ier", lemma[:-1] + "iest"
    # CVC monosyllables double the consonant: big -> bigger, hot -> hotter.
    if (
        len(lemma) >= 3
        and lemma[-1] not in _VOWELS + "wy"
        and lemma[-2] in _VOWELS
        and lemma[-3] not in _VOWELS
        and sum(c in _VOWELS for c in lemma) == 1
    ):
        return lemma + lemma[-1] + "er", lemma + lemma[-1] + "est"
    return lemma + "er", lemma + "est"


# ----------------------------------------------------------------------------- entries


@dataclass(frozen=True, slots=True)
class Noun:
    """A common noun: its singular and plural token tuples and its classes."""

    lemma: str
    sg: Tok
    pl: Tok | None
    ntype: str
    topic: str
    gender: str


@dataclass(frozen=True, slots=True)
class Verb:
    """A verb: one token tuple per PTB form (``forms["VBZ"]``...) and its frame."""

    lemma: str
    forms: dict
    frame: str
    subj: str
    objs: str
    topic: str


@dataclass(frozen=True, slots=True)
class Adjective:
    """An adjective: positive, comparative and superlative (None when periphrastic)."""

    lemma: str
    pos: Tok
    cmp: Tok | None
    sup: Tok | None


class Pool:
    """Items sampled with Zipfian weights ``1 / (rank + 2.7) ** exponent`` by list order.

    Parameters
    ----------
    items : list
        Items in decreasing frequency order.
    exponent : float
        Zipf exponent (1.0 is the classic law).
    """

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: list, exponent: float = 1.0) -> None:
        if not items:
            raise ValueError("Pool: empty word class (no items to sample from)")
        self.items = list(items)
        acc, cum = 0.0, []
        for r in range(len(self.items)):
            acc += 1.0 / (r + 2.7) ** exponent
            cum.append(acc)
        self.cum = cum
        self.total = acc

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, rng: random.Random):
        """Draw one item."""
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


def _split(block: str) -> list[str]:
    return block.split()


_GENDER = {"M": "Masc", "F": "Fem"}


def _noun_entries(ntype: str, topic: str, block: str) -> list[Noun]:
    out = []
    for item in _split(block):
        gender = ""
        if ":" in item:
            item, g = item.split(":")
            gender = _GENDER[g]
        mass = item.endswith("!")
        item = item.rstrip("!")
        lemma, _, pl = item.partition("/")
        sem = "ROL" if ntype == "H" else "HAP" if ntype == "E" else "CON"
        extra = {"Gender": gender} if gender else {}
        sg = make_token(lemma, lemma, "NOUN", "NN", sem, Number="Sing", **extra)
        plt = None
        if not mass:
            plf = pl or plural(lemma)
            if plf != lemma:  # sheep, fish: keep the singular only
                plt = make_token(plf, lemma, "NOUN", "NNS", sem, Number="Plur", **extra)
        out.append(Noun(lemma, sg, plt, ntype, topic, gender))
    return out


def _verb_entries(frame: str, subj: str, objs: str, topic: str, block: str) -> list[Verb]:
    out = []
    for item in _split(block):
        double = item.endswith("+")
        item = item.rstrip("+")
        parts = item.split("=")
        lemma = parts[0]
        past = parts[1] if len(parts) > 1 else None
        part = parts[2] if len(parts) > 2 else None
        f = verb_forms(lemma, past, part, double)
        toks = {
            "VB": make_token(f["VB"], lemma, "VERB", "VB", "EXS", VerbForm="Inf"),
            "VBZ": make_token(
                f["VBZ"], lemma, "VERB", "VBZ", "ENS",
                Number="Sing", Person="3", Tense="Pres", VerbForm="Fin",
            ),
            "VBP": make_token(f["VBP"], lemma, "VERB", "VBP", "ENS", Tense="Pres", VerbForm="Fin"),
            "VBD": make_token(f["VBD"], lemma, "VERB", "VBD", "EPS", Tense="Past", VerbForm="Fin"),
            "VBN": make_token(f["VBN"], lemma, "VERB", "VBN", "EXT", Tense="Past", VerbForm="Part"),
            "VBG": make_token(f["VBG"], lemma, "VERB", "VBG", "EXG", VerbForm="Ger"),
        }  # fmt: skip
        out.append(Verb(lemma, toks, frame, subj, objs, topic))
    return out


def _adjective_entries(block: str) -> list[Adjective]:
    out = []
    for item in _split(block):
        parts = item.split("=")
        if len(parts) == 3:
            lemma, forms = parts[0], (parts[1], parts[2])
        else:
            lemma = item.rstrip("~")
            forms = adjective_forms(lemma, item.endswith("~"))
        pos = make_token(lemma, lemma, "ADJ", "JJ", "IST", Degree="Pos")
        cmp = sup = None
        if forms:
            cmp = make_token(forms[0], lemma, "ADJ", "JJR", "MOR", Degree="Cmp")
            sup = make_token(forms[1], lemma, "ADJ", "JJS", "TOP", Degree="Sup")
        out.append(Adjective(lemma, pos, cmp, sup))
    return out


def _function_words() -> dict[str, Tok]:
    """Closed-class words, keyed by a name that disambiguates their role."""
    t = make_token
    fw: dict[str, Tok] = {
        "the": t("the", "the", "DET", "DT", "DEF"),
        "a": t("a", "a", "DET", "DT", "DIS"),
        "an": t("an", "a", "DET", "DT", "DIS"),
        "this": t("this", "this", "DET", "DT", "PRX", Number="Sing"),
        "these": t("these", "this", "DET", "DT", "PRX", Number="Plur"),
        "that_det": t("that", "that", "DET", "DT", "DST", Number="Sing"),
        "those": t("those", "that", "DET", "DT", "DST", Number="Plur"),
        "every": t("every", "every", "DET", "DT", "AND"),
        "each": t("each", "each", "DET", "DT", "AND"),
        "some": t("some", "some", "DET", "DT", "DIS"),
        "no": t("no", "no", "DET", "DT", "NOT"),
        "another": t("another", "another", "DET", "DT", "DIS"),
        "all": t("all", "all", "DET", "PDT", "AND"),
        "many": t("many", "many", "ADJ", "JJ", "QUC", Degree="Pos"),
        "several": t("several", "several", "ADJ", "JJ", "QUC", Degree="Pos"),
        "more": t("more", "more", "ADV", "RBR", "MOR"),
        "most": t("most", "most", "ADV", "RBS", "TOP"),
        # pronouns
        "I": t("I", "I", "PRON", "PRP", "PRO", Number="Sing", Person="1"),
        "me": t("me", "I", "PRON", "PRP", "PRO", Number="Sing", Person="1"),
        "my": t("my", "my", "PRON", "PRP$", "HAS", Number="Sing", Person="1"),
        "we": t("we", "we", "PRON", "PRP", "PRO", Number="Plur", Person="1"),
        "us": t("us", "we", "PRON", "PRP", "PRO", Number="Plur", Person="1"),
        "our": t("our", "we", "PRON", "PRP$", "HAS", Number="Plur", Person="1"),
        "you": t("you", "you", "PRON", "PRP", "PRO", Person="2"),
        "your": t("your", "you", "PRON", "PRP$", "HAS", Person="2"),
        "he": t("he", "he", "PRON", "PRP", "PRO", Gender="Masc", Number="Sing", Person="3"),
        "him": t("him", "he", "PRON", "PRP", "PRO", Gender="Masc", Number="Sing", Person="3"),
        "his": t("his", "he", "PRON", "PRP$", "HAS", Gender="Masc", Number="Sing", Person="3"),
        "she": t("she", "she", "PRON", "PRP", "PRO", Gender="Fem", Number="Sing", Person="3"),
        "her_obj": t(
            "her", "she", "PRON", "PRP", "PRO", Gender="Fem", Number="Sing", Person="3"
        ),
        "her_poss": t(
            "her", "she", "PRON", "PRP$", "HAS", Gender="Fem", Number="Sing", Person="3"
        ),
        "it": t("it", "it", "PRON", "PRP", "PRO", Gender="Neut", Number="Sing", Person="3"),
        "its": t("its", "it", "PRON", "PRP$", "HAS", Gender="Neut", Number="Sing", Person="3"),
        "they": t("they", "they", "PRON", "PRP", "PRO", Number="Plur", Person="3"),
        "them": t("them", "they", "PRON", "PRP", "PRO", Number="Plur", Person="3"),
        "their": t("their", "they", "PRON", "PRP$", "HAS", Number="Plur", Person="3"),
        "who": t("who", "who", "PRON", "WP", "PRO"),
        "which": t("which", "which", "PRON", "WDT", "PRO"),
        "that_rel": t("that", "that", "PRON", "WDT", "PRO"),
        "there": t("there", "there", "PRON", "EX", "EXI"),
        # auxiliaries and copulas
        "is": t("is", "be", "AUX", "VBZ", "NOW", Number="Sing", Person="3", Tense="Pres",
                VerbForm="Fin"),
        "am": t("am", "be", "AUX", "VBP", "NOW", Number="Sing", Person="1", Tense="Pres",
                VerbForm="Fin"),
        "are": t("are", "be", "AUX", "VBP", "NOW", Tense="Pres", VerbForm="Fin"),
        "was": t("was", "be", "AUX", "VBD", "PST", Number="Sing", Tense="Past",
                 VerbForm="Fin"),
        "were": t("were", "be", "AUX", "VBD", "PST", Tense="Past", VerbForm="Fin"),
        "be": t("be", "be", "AUX", "VB", "NIL", VerbForm="Inf"),
        # existential "be" is a VERB in UD English ("There is a cat")
        "is_ex": t("is", "be", "VERB", "VBZ", "NOW", Number="Sing", Person="3",
                   Tense="Pres", VerbForm="Fin"),
        "are_ex": t("are", "be", "VERB", "VBP", "NOW", Tense="Pres", VerbForm="Fin"),
        "was_ex": t("was", "be", "VERB", "VBD", "PST", Number="Sing", Tense="Past",
                    VerbForm="Fin"),
        "were_ex": t("were", "be", "VERB", "VBD", "PST", Tense="Past", VerbForm="Fin"),
        "been": t("been", "be", "AUX", "VBN", "NIL", Tense="Past", VerbForm="Part"),
        "has": t("has", "have", "AUX", "VBZ", "NOW", Number="Sing", Person="3", Tense="Pres",
                 VerbForm="Fin"),
        "have": t("have", "have", "AUX", "VBP", "NOW", Tense="Pres", VerbForm="Fin"),
        "had": t("had", "have", "AUX", "VBD", "PST", Tense="Past", VerbForm="Fin"),
        "does": t("does", "do", "AUX", "VBZ", "NOW", Number="Sing", Person="3", Tense="Pres",
                  VerbForm="Fin"),
        "do": t("do", "do", "AUX", "VBP", "NOW", Tense="Pres", VerbForm="Fin"),
        "did": t("did", "do", "AUX", "VBD", "PST", Tense="Past", VerbForm="Fin"),
        "will": t("will", "will", "AUX", "MD", "FUT", VerbForm="Fin"),
        "would": t("would", "would", "AUX", "MD", "FUT", VerbForm="Fin"),
        "can": t("can", "can", "AUX", "MD", "POS", VerbForm="Fin"),
        "could": t("could", "could", "AUX", "MD", "POS", VerbForm="Fin"),
        "may": t("may", "may", "AUX", "MD", "POS", VerbForm="Fin"),
        "might": t("might", "might", "AUX", "MD", "POS", VerbForm="Fin"),
        "should": t("should", "should", "AUX", "MD", "NEC", VerbForm="Fin"),
        "must": t("must", "must", "AUX", "MD", "NEC", VerbForm="Fin"),
        "not": t("not", "not", "PART", "RB", "NOT"),
        "to_inf": t("to", "to", "PART", "TO", "NIL"),
        "to": t("to", "to", "ADP", "IN", "REL"),
        "by": t("by", "by", "ADP", "IN", "REL"),
        "of": t("of", "of", "ADP", "IN", "REL"),
        "on": t("on", "on", "ADP", "IN", "REL"),
        "in": t("in", "in", "ADP", "IN", "REL"),
        "for": t("for", "for", "ADP", "IN", "REL"),
        "about": t("about", "about", "ADP", "IN", "REL"),
        "after_adp": t("after", "after", "ADP", "IN", "REL"),
        "before_adp": t("before", "before", "ADP", "IN", "REL"),
        "during": t("during", "during", "ADP", "IN", "REL"),
        "poss": t("'s", "'s", "PART", "POS", "HAS"),
        # conjunctions and subordinators
        "and": t("and", "and", "CCONJ", "CC", "AND"),
        "or": t("or", "or", "CCONJ", "CC", "ALT"),
        "but": t("but", "but", "CCONJ", "CC", "BUT"),
        "that_sc": t("that", "that", "SCONJ", "IN", "SUB"),
        "because": t("because", "because", "SCONJ", "IN", "SUB"),
        "while": t("while", "while", "SCONJ", "IN", "SUB"),
        "when": t("when", "when", "SCONJ", "WRB", "SUB"),
        "although": t("although", "although", "SCONJ", "IN", "SUB"),
        "if": t("if", "if", "SCONJ", "IN", "SUB"),
        "after_sc": t("after", "after", "SCONJ", "IN", "SUB"),
        "before_sc": t("before", "before", "SCONJ", "IN", "SUB"),
        "since": t("since", "since", "SCONJ", "IN", "SUB"),
        "home": t("home", "home", "ADV", "RB", "GEO"),
        "last": t("last", "last", "ADJ", "JJ", "IST", Degree="Pos"),
        "next": t("next", "next", "ADJ", "JJ", "IST", Degree="Pos"),
        "than": t("than", "than", "ADP", "IN", "REL"),
        "up": t("up", "up", "ADP", "RP", "NIL"),
        ",": t(",", ",", "PUNCT", ",", "NIL"),
        ".": t(".", ".", "PUNCT", ".", "NIL"),
    }  # fmt: skip
    return fw


# ----------------------------------------------------------------------------- lexicon


class Lexicon:
    """All word classes of the grammar, with Zipfian pools.

    Parameters
    ----------
    zipf : float
        Zipf exponent of the sampling pools (1.0 by default).

    Attributes
    ----------
    nouns : dict
        ``(noun type, topic)`` to :class:`Pool` of :class:`Noun`; topic ``"general"`` holds
        the shared words and ``"any"`` every noun of the type.
    verbs : dict
        ``(frame, subject type, topic)`` to :class:`Pool` of :class:`Verb`.
    adjectives : dict
        Noun type to :class:`Pool` of :class:`Adjective` that fit it.
    fw : dict
        Closed-class token tuples by role name.
    """

    def __init__(self, zipf: float = 1.0) -> None:
        if not zipf > 0:
            raise ValueError(f"zipf must be > 0, got {zipf!r}")
        self.zipf = zipf
        self.topics = W.TOPICS
        self.noun_list: list[Noun] = []
        for (ntype, topic), block in W.NOUNS.items():
            self.noun_list.extend(_noun_entries(ntype, topic, block))
        self.verb_list: list[Verb] = []
        for (frame, subj, objs, topic), block in W.VERBS.items():
            self.verb_list.extend(_verb_entries(frame, subj, objs, topic, block))
        self.adjective_list: dict[str, list[Adjective]] = {
            k: _adjective_entries(b) for k, b in W.ADJECTIVES.items()
        }
        self.fw = _function_words()
        self._build_pools()
        self._build_closed_classes()

    # -- pools
    def _pool(self, items: list) -> Pool:
        return Pool(items, self.zipf)

    def _build_pools(self) -> None:
        self.nouns: dict[tuple[str, str], Pool] = {}
        by: dict[tuple[str, str], list[Noun]] = {}
        for n in self.noun_list:
            by.setdefault((n.ntype, n.topic), []).append(n)
        for key, items in by.items():
            self.nouns[key] = self._pool(items)
        for ntype in sorted({n.ntype for n in self.noun_list}):
            # interleave the topic lists by rank so "any" keeps a Zipfian order
            lists = [v for (t, _), v in by.items() if t == ntype]
            merged, seen = [], set()
            for r in range(max(len(x) for x in lists)):
                for lst in lists:
                    if r < len(lst) and lst[r].lemma not in seen:
                        seen.add(lst[r].lemma)
                        merged.append(lst[r])
            self.nouns[(ntype, "any")] = self._pool(merged)
        self.countable = {
            k: self._pool([n for n in p.items if n.pl is not None])
            for k, p in self.nouns.items()
            if any(n.pl is not None for n in p.items)
        }
        self.verbs: dict[tuple[str, str, str], Pool] = {}
        vby: dict[tuple[str, str, str], list[Verb]] = {}
        for v in self.verb_list:
            vby.setdefault((v.frame, v.subj, v.topic), []).append(v)
            vby.setdefault((v.frame, v.subj, "any"), []).append(v)
        for key, items in vby.items():
            self.verbs[key] = self._pool(items)
        # transitive verbs by object type (object relatives, passives)
        self.verbs_by_obj: dict[str, Pool] = {}
        for ntype in "HNTFPXEG":
            items = [v for v in self.verb_list if v.frame == "tr" and ntype in v.objs]
            if items:
                self.verbs_by_obj[ntype] = self._pool(items)
        self.adjectives = {}
        for ntype in "HNTFPXEG":
            items = [a for k, lst in self.adjective_list.items() if ntype in k for a in lst]
            self.adjectives[ntype] = self._pool(items)
        self.comparable = self._pool(
            [a for lst in self.adjective_list.values() for a in lst if a.cmp is not None]
        )
        self.time_nouns = self._pool(_noun_entries("T", "general", W.TIME_NOUNS))
        self.deictic_time = self._pool(
            [make_token(w, w, "NOUN", "NN", "TIM", Number="Sing") for w in _split(W.DEICTIC_TIME)]
        )

    def _build_closed_classes(self) -> None:
        t = make_token
        adv = {}
        for cls, block in W.ADVERBS.items():
            sem = {
                "manner": "IST",
                "preverbal": "IST",
                "time": "TIM",
                "degree": "INT",
                "place": "GEO",
            }[cls]
            adv[cls] = self._pool([t(w, w, "ADV", "RB", sem) for w in _split(block)])
        self.adverbs = adv
        preps = {}
        for cls, block in W.PREPOSITIONS.items():
            preps[cls] = self._pool(
                [self.fw.get(w) or t(w, w, "ADP", "IN", "REL") for w in _split(block)]
            )
        self.prepositions = preps
        names_m = [
            t(w, w, "PROPN", "NNP", "PER", Number="Sing", Gender="Masc")
            for w in _split(W.FIRST_NAMES_M)
        ]
        names_f = [
            t(w, w, "PROPN", "NNP", "PER", Number="Sing", Gender="Fem")
            for w in _split(W.FIRST_NAMES_F)
        ]
        self.first_names = {"Masc": self._pool(names_m), "Fem": self._pool(names_f)}
        self.surnames = self._pool(
            [t(w, w, "PROPN", "NNP", "PER", Number="Sing") for w in _split(W.SURNAMES)]
        )
        self.places = self._pool(
            [t(w, w, "PROPN", "NNP", "GEO", Number="Sing") for w in _split(W.PLACES)]
        )
        self.organisations = self._pool(
            [t(w, w, "PROPN", "NNP", "ORG", Number="Sing") for w in _split(W.ORGANISATIONS)]
        )
        self.months = self._pool(
            [t(w, w, "PROPN", "NNP", "MOY", Number="Sing") for w in _split(W.MONTHS)]
        )
        self.days = self._pool(
            [t(w, w, "PROPN", "NNP", "DOW", Number="Sing") for w in _split(W.DAYS)]
        )
        self.numbers = self._pool([t(w, w, "NUM", "CD", "QUC") for w in _split(W.NUMBERS)])
        years = [str(y) for y in range(2024, 1899, -1)]
        self.years = self._pool([t(y, y, "NUM", "CD", "YOC") for y in years])

    # -- inventory
    def tokens(self) -> list[Tok]:
        """Every distinct token tuple of the lexicon (all forms of all words)."""
        seen: dict[Tok, None] = {}
        for n in self.noun_list:
            seen[n.sg] = None
            if n.pl:
                seen[n.pl] = None
        for n in self.time_nouns.items:
            seen[n.sg] = None
            if n.pl:
                seen[n.pl] = None
        for v in self.verb_list:
            seen.update(dict.fromkeys(v.forms.values()))
        for lst in self.adjective_list.values():
            for a in lst:
                seen.update(dict.fromkeys(x for x in (a.pos, a.cmp, a.sup) if x))
        seen.update(dict.fromkeys(self.fw.values()))
        pools = [
            *self.adverbs.values(), *self.prepositions.values(), *self.first_names.values(),
            self.surnames, self.places, self.organisations, self.months, self.days,
            self.numbers, self.years, self.deictic_time,
        ]  # fmt: skip
        for pool in pools:
            seen.update(dict.fromkeys(pool.items))
        return list(seen)

    def word_types(self) -> set[str]:
        """The set of distinct word forms (case-sensitive)."""
        return {tok[0] for tok in self.tokens()}

    def tags_of(self, field: str = "upos") -> dict[str, set[str]]:
        """Map each lower-cased form to the set of values of ``field`` it can take."""
        j = LEX_FIELDS.index(field)
        out: dict[str, set[str]] = {}
        for tok in self.tokens():
            out.setdefault(tok[0].lower(), set()).add(tok[j])
        return out


@lru_cache(maxsize=8)
def lexicon(zipf: float = 1.0) -> Lexicon:
    """Return the (cached) :class:`Lexicon` for a Zipf exponent."""
    return Lexicon(zipf)
