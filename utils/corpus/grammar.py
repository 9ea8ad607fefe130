"""A probabilistic grammar of English declaratives with gold annotations.

The generator writes a sentence left to right into four parallel arrays: the token tuple
of each word (see :data:`utils.corpus.lexicon.LEX_FIELDS`), its head (1-based, 0 for the
root), its UD relation and its chunk tag. Each phrase builder returns the index of its
head word and the depth of its constituent, so the caller can attach it and the
sentence can record its constituency depth.

Constructions: PP attachment to nouns and verbs, subject and object relative clauses,
sentential complements, infinitival complements, VP, NP and clause coordination,
passives, copular clauses, existentials, possessives, adverbials (adverbs, time and place
PPs, fronted or not, adverbial clauses), negation with do-support and a range of tenses.
``max_depth`` bounds the nesting of clauses and NP post-modifiers.
"""

from __future__ import annotations

import random

from .lexicon import Lexicon, Noun, Tok, Verb
from .treebank import Sentence

__all__ = ["DEFAULT_PROBS", "LAYERS", "Grammar"]

#: Token layers of every generated sentence (CoNLL-U columns, features, MISC keys).
LAYERS = (
    "lemma", "upos", "xpos", "feats", "head", "deprel",
    "Number", "Tense", "Person", "VerbForm", "Gender", "Degree",
    "chunk", "sem", "suffix",
)  # fmt: skip

#: Default probabilities of the optional constructions (keyword parameters of generate).
DEFAULT_PROBS = {
    "passive": 0.12,  # a clause is passive
    "relative": 0.15,  # an NP (with depth left) gets a relative clause
    "noun_pp": 0.2,  # an NP (with depth left) gets a PP modifier
    "complement": 0.12,  # a clause uses a verb with a that-clause
    "coordination": 0.1,  # a clause coordinates a second VP or clause
    "adverbial": 0.35,  # a clause gets an adverbial (adverb, PP or adverbial clause)
    "adjective": 0.3,  # an NP gets an adjective
    "topic_strength": 0.5,  # a content word comes from the sentence topic's list
}

_HEADSTR = [str(i) for i in range(512)]
_SUBJ_REL = {"act": "nsubj", "pass": "nsubj:pass"}
_XCOMP_VERBS = frozenset(
    "want need like love hate hope decide plan promise agree learn forget prefer start "
    "begin continue".split()
)
_VOWEL_SOUND_EXCEPTIONS = ("uni", "use", "usu", "eu", "one", "once")


def article_for(word: str) -> str:
    """Return ``"an"`` or ``"a"`` for the following word (spelling heuristic)."""
    w = word.lower()
    if w.startswith(("hour", "honest", "heir")):
        return "an"
    if w[:1] in "aeiou" and not w.startswith(_VOWEL_SOUND_EXCEPTIONS):
        return "an"
    return "a"


def be_form(fw: dict[str, Tok], tense: str, sg3: bool, person: str, number: str) -> Tok:
    """The form of *be* agreeing with its subject: is/am/are, or was/were."""
    if tense == "Past":
        return fw["was"] if number == "Sing" and person != "2" else fw["were"]
    if sg3:
        return fw["is"]
    return fw["am"] if person == "1" and number == "Sing" else fw["are"]


class Grammar:
    """Sentence generator over a :class:`~utils.corpus.lexicon.Lexicon`.

    Parameters
    ----------
    lex : Lexicon
        The annotated lexicon.
    rng : random.Random
        The only source of randomness (determinism: same seed, same output).
    max_depth : int
        Maximum nesting of embedded clauses and NP post-modifiers (0 = none).
    probs : dict, optional
        Overrides of :data:`DEFAULT_PROBS`.
    """

    def __init__(
        self, lex: Lexicon, rng: random.Random, max_depth: int = 2, probs: dict | None = None
    ) -> None:
        self.lex = lex
        self.rng = rng
        self.max_depth = max_depth
        self.p = {**DEFAULT_PROBS, **(probs or {})}
        self.fw = lex.fw
        self.reset()

    # ------------------------------------------------------------------ emission
    def reset(self) -> None:
        """Start a new sentence."""
        self.L: list[Tok] = []
        self.H: list[int] = []
        self.R: list[str] = []
        self.C: list[str] = []

    def emit(self, tok: Tok, chunk: str) -> int:
        """Append a word; return its 1-based index."""
        self.L.append(tok)
        self.H.append(0)
        self.R.append("root")
        self.C.append(chunk)
        return len(self.L)

    def attach(self, dep: int, head: int, rel: str) -> None:
        """Make word ``dep`` a dependent of word ``head`` with relation ``rel``."""
        self.H[dep - 1] = head
        self.R[dep - 1] = rel

    def finish(self, meta: dict[str, str]) -> Sentence:
        """Capitalise, detokenise and package the current sentence."""
        L = self.L
        first = L[0]
        if first[0][:1].islower():
            L[0] = (first[0][0].upper() + first[0][1:], *first[1:])
        cols = list(zip(*L))
        forms = list(cols[0])
        text = " ".join(forms).replace(" ,", ",").replace(" .", ".").replace(" 's", "'s")
        meta = {"text": text, **meta}
        hs = _HEADSTR
        ann = {
            "lemma": list(cols[1]), "upos": list(cols[2]), "xpos": list(cols[3]),
            "feats": list(cols[4]), "head": [hs[h] for h in self.H], "deprel": self.R,
            "Number": list(cols[5]), "Tense": list(cols[6]), "Person": list(cols[7]),
            "VerbForm": list(cols[8]), "Gender": list(cols[9]), "Degree": list(cols[10]),
            "chunk": self.C, "sem": list(cols[11]), "suffix": list(cols[12]),
        }  # fmt: skip
        return Sentence(forms, ann, meta)

    # ------------------------------------------------------------------ word choice
    def noun(self, ntype: str, topic: str | None, plural: bool = False) -> Noun:
        """Sample a noun of type ``ntype``, from the topic's list with topic_strength."""
        pools = self.lex.countable if plural else self.lex.nouns
        if topic is not None and self.rng.random() < self.p["topic_strength"]:
            pool = pools.get((ntype, topic))
            if pool is not None:
                return pool.sample(self.rng)
        pool = pools.get((ntype, "general")) or pools[(ntype, "any")]
        return pool.sample(self.rng)

    def verb(self, frame: str, subj: str, topic: str | None) -> Verb:
        """Sample a verb with the given frame and subject type."""
        verbs = self.lex.verbs
        if topic is not None and self.rng.random() < self.p["topic_strength"]:
            pool = verbs.get((frame, subj, topic))
            if pool is not None:
                return pool.sample(self.rng)
        return (verbs.get((frame, subj, "general")) or verbs[(frame, subj, "any")]).sample(self.rng)

    # ------------------------------------------------------------------ noun phrases
    def determiner(self, number: str, mass: bool, nxt: str) -> tuple[Tok | None, str]:
        """Choose a determiner for an NP; return (token or None, relation)."""
        r = self.rng.random()
        fw = self.fw
        if mass:
            if r < 0.6:
                return fw["the"], "det"
            if r < 0.85:
                return None, ""
            if r < 0.93:
                return fw["some"], "det"
            return fw["this"], "det"
        if number == "Sing":
            if r < 0.52:
                return fw["the"], "det"
            if r < 0.78:
                return fw[article_for(nxt)], "det"
            if r < 0.82:
                return fw["this"], "det"
            if r < 0.89:
                return fw["that_det"], "det"
            if r < 0.95:
                return fw[self.rng.choice(("his", "her_poss", "their", "my", "our"))], ("nmod:poss")
            return fw[self.rng.choice(("every", "each", "another", "no"))], "det"
        if r < 0.48:
            return fw["the"], "det"
        if r < 0.66:
            return None, ""
        if r < 0.71:
            return fw["these"], "det"
        if r < 0.75:
            return fw["those"], "det"
        if r < 0.8:
            return fw["some"], "det"
        if r < 0.86:
            return fw[self.rng.choice(("his", "her_poss", "their", "my", "our"))], "nmod:poss"
        if r < 0.92:
            return fw[self.rng.choice(("many", "several"))], "amod"
        return self.lex.numbers.sample(self.rng), "nummod"

    def common_np(
        self,
        ntype: str,
        depth: int,
        topic: str | None,
        number: str | None = None,
        chunk_first: str = "B-NP",
        modifiers: bool = True,
        noun: Noun | None = None,
        indefinite: bool = False,
    ) -> tuple[int, str, int]:
        """Emit a common-noun NP; return (head index, number, constituent depth).

        ``noun`` fixes the head noun; ``indefinite`` restricts the determiner to a/an,
        some or none (existentials).
        """
        rng = self.rng
        if number is None:
            number = "Plur" if rng.random() < 0.35 else "Sing"
        if noun is None:
            noun = self.noun(ntype, topic, plural=number == "Plur")
        if noun.pl is None:
            number = "Sing"
        tok = noun.sg if number == "Sing" else noun.pl
        adj = None
        very = False
        sup = False
        if rng.random() < self.p["adjective"]:
            a = self.lex.adjectives[ntype].sample(rng)
            if a.sup is not None and rng.random() < 0.08:
                adj, sup = a.sup, True
            else:
                adj = a.pos
                very = rng.random() < 0.12
        nxt = "very" if very else adj[0] if adj else tok[0]
        if sup:
            det, drel = self.fw["the"], "det"
        elif indefinite:
            if number == "Sing" and noun.pl is not None:
                det = self.fw[article_for(nxt)]
            else:
                det = self.fw["some"] if rng.random() < 0.3 else None
            drel = "det"
        else:
            det, drel = self.determiner(number, noun.pl is None, nxt)
        chunk = chunk_first
        idx = []
        if det is not None:
            idx.append((self.emit(det, chunk), drel))
            chunk = "I-NP"
        d = 2
        if adj is not None:
            if very:
                iv = self.emit(self.lex.adverbs["degree"].items[0], chunk)
                chunk = "I-NP"
                d = 3
            ia = self.emit(adj, chunk)
            chunk = "I-NP"
            if very:
                self.attach(iv, ia, "advmod")
            idx.append((ia, "amod"))
        head = self.emit(tok, chunk)
        for i, rel in idx:
            self.attach(i, head, rel)
        if modifiers and depth > 0:
            r = rng.random()
            if r < self.p["noun_pp"]:
                d = max(d, 1 + self.noun_pp(head, depth - 1, topic, ntype))
            elif r < self.p["noun_pp"] + self.p["relative"]:
                d = max(d, 1 + self.relative(head, ntype, number, depth - 1, topic))
        return head, number, d

    def noun_pp(self, head: int, depth: int, topic: str | None, ntype: str) -> int:
        """Attach a PP modifier ("near the river") to noun ``head``; return PP depth."""
        rng = self.rng
        prep = self.lex.prepositions["noun"].sample(rng)
        ip = self.emit(prep, "B-PP")
        if prep[0] == "with":
            otype = "H" if ntype in "HG" else rng.choice("NT")
        else:
            otype = rng.choice("TPP")
        if otype == "P" and prep[0] in ("from", "near") and rng.random() < 0.5:
            inn = self.emit(self.lex.places.sample(rng), "B-NP")
            nd = 2
        else:
            inn, _, nd = self.common_np(otype, depth, topic)
        self.attach(ip, inn, "case")
        self.attach(inn, head, "nmod")
        return 1 + nd

    def relative(self, head: int, ntype: str, number: str, depth: int, topic: str | None) -> int:
        """Attach a subject or object relative clause to noun ``head``; return SBAR depth."""
        rng = self.rng
        human = ntype == "H"
        obj_ok = ntype in self.lex.verbs_by_obj
        if obj_ok and rng.random() < 0.45:
            # object relative: "the book that the man bought"
            r = rng.random()
            rel = None
            if r < 0.5:
                rel = self.fw["who"] if human else self.fw["that_rel"]
            elif r < 0.8:
                rel = self.fw["that_rel"] if human else self.fw["which"]
            if rel is not None:
                irel = self.emit(rel, "B-NP")
            subj, snum, sper, sd = self.subject(depth, topic, human_only=True, modifiers=False)
            verb = self.lex.verbs_by_obj[ntype].sample(rng)
            v, vd = self.verb_group(verb, snum, sper, "act")
            self.attach(subj, v, "nsubj")
            if rel is not None:
                self.attach(irel, v, "obj")
            self.attach(v, head, "acl:relcl")
            return 2 + max(sd, vd)
        # subject relative: "the man who sees the dog", "the car that was sold"
        if human:
            relt = self.fw["who"] if rng.random() < 0.7 else self.fw["that_rel"]
        else:
            relt = self.fw["that_rel"] if rng.random() < 0.6 else self.fw["which"]
        irel = self.emit(relt, "B-NP")
        v, vd, voice = self.predicate(ntype, number, "3", depth, topic, allow_coord=False)
        self.attach(irel, v, _SUBJ_REL[voice])
        self.attach(v, head, "acl:relcl")
        return 2 + vd

    def proper_person(self, chunk: str = "B-NP") -> tuple[int, str]:
        """Emit a person name (first name, optionally a surname); return (head, gender)."""
        rng = self.rng
        gender = "Masc" if rng.random() < 0.5 else "Fem"
        first = self.lex.first_names[gender].sample(rng)
        i = self.emit(first, chunk)
        if rng.random() < 0.4:
            j = self.emit(self.lex.surnames.sample(rng), "I-NP")
            self.attach(j, i, "flat")
        return i, gender

    def subject(
        self, depth: int, topic: str | None, human_only: bool = False, modifiers: bool = True
    ) -> tuple[int, str, str, int]:
        """Emit a human (or group) subject; return (head, number, person, depth)."""
        rng = self.rng
        r = rng.random()
        if r < 0.12:
            key = rng.choice(("I", "we", "you", "he", "she", "they", "he", "she", "they"))
            tok = self.fw[key]
            i = self.emit(tok, "B-NP")
            number = tok[5] if tok[5] != "_" else "Plur"
            person = tok[7]
            if key == "I":
                number = "Sing"
            return i, number, person, 2
        if r < 0.27:
            if not human_only and rng.random() < 0.25:
                i = self.emit(self.lex.organisations.sample(rng), "B-NP")
            else:
                i, _ = self.proper_person()
            return i, "Sing", "3", 2
        ntype = "G" if (not human_only and r > 0.92) else "H"
        i, number, d = self.common_np(ntype, depth, topic, modifiers=modifiers)
        if modifiers and depth > 0 and rng.random() < 0.04:
            # NP coordination: "the man and the woman" (plural agreement)
            ic = self.emit(self.fw["and"], "O")
            j, _, d2 = self.common_np("H", depth - 1, topic, modifiers=False)
            self.attach(ic, j, "cc")
            self.attach(j, i, "conj")
            return i, "Plur", "3", 1 + max(d, d2)
        return i, number, "3", d

    def object_np(self, otypes: str, depth: int, topic: str | None) -> tuple[int, int]:
        """Emit an object NP of one of the noun types; return (head, depth)."""
        rng = self.rng
        otype = otypes[int(rng.random() * len(otypes))]
        if otype == "H" and rng.random() < 0.2:
            if rng.random() < 0.5:
                key = rng.choice(("him", "her_obj", "them", "me", "us", "you"))
                return self.emit(self.fw[key], "B-NP"), 2
            return self.proper_person()[0], 2
        if otype == "P" and rng.random() < 0.25:
            return self.emit(self.lex.places.sample(rng), "B-NP"), 2
        if otype in "TFN" and rng.random() < 0.05:
            # possessive: "John 's car", "the teacher 's car"
            if rng.random() < 0.5:
                ipos, _ = self.proper_person()
            else:
                ipos, _, _ = self.common_np("H", 0, topic, number="Sing")
            icase = self.emit(self.fw["poss"], "B-NP")
            self.attach(icase, ipos, "case")
            noun = self.noun(otype, topic)
            head = self.emit(noun.sg, "I-NP")
            self.attach(ipos, head, "nmod:poss")
            return head, 3
        i, _, d = self.common_np(otype, depth, topic)
        return i, d

    # ------------------------------------------------------------------ verb groups
    def verb_group(self, verb: Verb, number: str, person: str, voice: str) -> tuple[int, int]:
        """Emit auxiliaries, negation and the main verb; return (verb index, depth).

        Agreement: present-tense forms agree with the subject's number and person.
        """
        rng = self.rng
        fw = self.fw
        f = verb.forms
        sg3 = number == "Sing" and person == "3"
        r = rng.random()
        neg = rng.random() < 0.06
        adv = None
        if rng.random() < 0.08:
            adv = self.lex.adverbs["preverbal"].sample(rng)
        auxes: list[tuple[Tok, str]] = []
        if voice == "pass":
            if r < 0.4:
                be = be_form(fw, "Pres", sg3, person, number)
            elif r < 0.85:
                be = be_form(fw, "Past", sg3, person, number)
            else:
                be = None
                auxes.append((fw["will"], "aux"))
                auxes.append((fw["be"], "aux:pass"))
            if be is not None:
                auxes.append((be, "aux:pass"))
            main = f["VBN"]
        elif r < 0.36:
            if neg:
                auxes.append((fw["does"] if sg3 else fw["do"], "aux"))
                main = f["VB"]
            else:
                main = f["VBZ"] if sg3 else f["VBP"]
        elif r < 0.72:
            if neg:
                auxes.append((fw["did"], "aux"))
                main = f["VB"]
            else:
                main = f["VBD"]
        elif r < 0.79:
            auxes.append((fw["will"], "aux"))
            main = f["VB"]
        elif r < 0.86:
            auxes.append((fw["has"] if sg3 else fw["have"], "aux"))
            main = f["VBN"]
        elif r < 0.93:
            if rng.random() < 0.5:
                be = be_form(fw, "Pres", sg3, person, number)
            else:
                be = be_form(fw, "Past", sg3, person, number)
            auxes.append((be, "aux"))
            main = f["VBG"]
        else:
            key = rng.choice(("can", "could", "should", "must", "might", "would", "may"))
            auxes.append((fw[key], "aux"))
            main = f["VB"]
        chunk = "B-VP"
        idx = []
        if adv is not None and not auxes:
            idx.append((self.emit(adv, "B-ADVP"), "advmod"))
        for k, (tok, rel) in enumerate(auxes):
            idx.append((self.emit(tok, chunk), rel))
            chunk = "I-VP"
            if k == 0:
                if neg:
                    idx.append((self.emit(fw["not"], chunk), "advmod"))
                elif adv is not None:
                    idx.append((self.emit(adv, chunk), "advmod"))
        v = self.emit(main, chunk)
        for i, rel in idx:
            self.attach(i, v, rel)
        return v, 2 + len(auxes)

    def copula(self, number: str, person: str) -> tuple[Tok, ...]:
        """Choose the copula (with an optional modal) for a copular clause."""
        rng = self.rng
        fw = self.fw
        r = rng.random()
        sg3 = number == "Sing" and person == "3"
        if r < 0.5:
            return (
                fw["is"]
                if sg3
                else fw["am"]
                if person == "1" and number == "Sing"
                else (fw["are"]),
            )
        if r < 0.9:
            return (fw["was"] if number == "Sing" and person != "2" else fw["were"],)
        return (fw[rng.choice(("will", "might", "must", "can"))], fw["be"])

    # ------------------------------------------------------------------ clauses
    def predicate(
        self,
        stype: str,
        number: str,
        person: str,
        depth: int,
        topic: str | None,
        allow_coord: bool = True,
    ) -> tuple[int, int, str]:
        """Emit a predicate for an already-emitted subject of noun type ``stype``.

        Returns
        -------
        (head index, constituent depth, voice) ; the caller attaches the subject to the
        head with ``nsubj`` (``nsubj:pass`` when voice is ``"pass"``).
        """
        rng = self.rng
        p = self.p
        human = stype in "HG"
        r = rng.random()
        if r < p["passive"] and stype in self.lex.verbs_by_obj:
            verb = self.lex.verbs_by_obj[stype].sample(rng)
            v, d = self.verb_group(verb, number, person, "pass")
            if rng.random() < 0.5:
                iby = self.emit(self.fw["by"], "B-PP")
                ia, _, _, ad = self.subject(depth - 1 if depth > 0 else 0, topic, modifiers=False)
                self.attach(iby, ia, "case")
                self.attach(ia, v, "obl:agent")
                d = max(d, 2 + ad)
            d = max(d, self.adjuncts(v, depth, topic, human=False))
            return v, d, "pass"
        if not human and rng.random() < 0.35:
            # intransitive verbs take any subject: "the price rose"
            v, d = self.verb_group(self.verb("intr", "A", topic), number, person, "act")
            return v, max(d, self.adjuncts(v, depth, topic, human=False)), "act"
        if not human or r < p["passive"] + 0.12:
            # copular clause: "the car is very old" (head: the adjective)
            cop = self.copula(number, person)
            idx = []
            chunk = "B-VP"
            for k, tok in enumerate(cop):
                idx.append((self.emit(tok, chunk), "cop" if k == len(cop) - 1 else "aux"))
                chunk = "I-VP"
            achunk = "B-ADJP"
            iv = None
            a = self.lex.adjectives[stype].sample(rng)
            if rng.random() < 0.15:
                iv = self.emit(self.lex.adverbs["degree"].sample(rng), achunk)
                achunk = "I-ADJP"
            if rng.random() < 0.08 and a.cmp is not None:
                ia = self.emit(a.cmp, achunk)
            else:
                ia = self.emit(a.pos, achunk)
            if iv is not None:
                self.attach(iv, ia, "advmod")
            for i, rel in idx:
                self.attach(i, ia, rel)
            d = 2 + len(cop)
            d = max(d, self.adjuncts(ia, depth, topic, human=False))
            return ia, d, "act"
        # active clause with a human subject
        r2 = rng.random()
        if depth > 0 and r2 < p["complement"]:
            verb = self.verb("comp", "H", topic)
            v, d = self.verb_group(verb, number, person, "act")
            if rng.random() < 0.8:
                ithat = self.emit(self.fw["that_sc"], "B-SBAR")
            else:
                ithat = None
            c, cd = self.clause(depth - 1, topic)
            if ithat is not None:
                self.attach(ithat, c, "mark")
            self.attach(c, v, "ccomp")
            return v, max(d, 2 + cd), "act"
        r2 -= p["complement"] if depth > 0 else 0
        if r2 < 0.16:
            verb = self.verb("intr", "H", topic)
            v, d = self.verb_group(verb, number, person, "act")
        elif r2 < 0.22:
            verb = self.verb("ditr", "H", topic)
            v, d = self.verb_group(verb, number, person, "act")
            otype = "T" if "T" in verb.objs else "X"
            if rng.random() < 0.5:
                # double object: "gave the man a book"
                io, iod = self.object_np("H", 0, topic)
                o, od = self.object_np(otype, depth, topic)
                self.attach(io, v, "iobj")
            else:
                # dative shift: "gave a book to the man"
                o, od = self.object_np(otype, depth, topic)
                ito = self.emit(self.fw["to"], "B-PP")
                io, iod = self.object_np("H", 0, topic)
                self.attach(ito, io, "case")
                self.attach(io, v, "obl")
                iod += 1
            self.attach(o, v, "obj")
            d = max(d, 1 + max(iod, od))
        else:
            verb = self.verb("tr", "H", topic)
            v, d = self.verb_group(verb, number, person, "act")
            if verb.lemma in _XCOMP_VERBS and depth > 0 and rng.random() < 0.3:
                ito = self.emit(self.fw["to_inf"], "I-VP")
                inf = self.verb("tr", "H", topic)
                iv = self.emit(inf.forms["VB"], "I-VP")
                self.attach(ito, iv, "mark")
                self.attach(iv, v, "xcomp")
                o, od = self.object_np(inf.objs, depth - 1, topic)
                self.attach(o, iv, "obj")
            else:
                o, od = self.object_np(verb.objs, depth, topic)
                self.attach(o, v, "obj")
            d = max(d, 1 + od)
        d = max(d, self.adjuncts(v, depth, topic, human=True))
        if allow_coord and depth > 0 and rng.random() < p["coordination"] / 2:
            # VP coordination: "... and ate the cake"
            ic = self.emit(self.fw[rng.choice(("and", "and", "or", "but"))], "O")
            verb2 = self.verb("tr", "H", topic)
            v2, d2 = self.verb_group(verb2, number, person, "act")
            o2, od2 = self.object_np(verb2.objs, 0, topic)
            self.attach(o2, v2, "obj")
            self.attach(ic, v2, "cc")
            self.attach(v2, v, "conj")
            d = max(d, 1 + max(d2, 1 + od2))
        return v, d, "act"

    def adjuncts(self, v: int, depth: int, topic: str | None, human: bool) -> int:
        """Maybe attach a post-verbal adverbial to verb ``v``; return its depth + 1."""
        rng = self.rng
        r = rng.random()
        if r >= self.p["adverbial"]:
            return 0
        r /= self.p["adverbial"]
        if r < 0.25 and human:
            i, rel, d = self.adverb("manner")
        elif r < 0.33:
            i, rel, d = self.place_pp(depth, topic)
        elif r < 0.45:
            i, rel, d = self.adverb("place")
        elif r < 0.75:
            i, rel, d = self.time_phrase(topic)
        elif r < 0.85 or depth == 0:
            i, rel, d = self.adverb("time")
        else:
            i, rel, d = self.adverbial_clause(depth - 1, topic)
        self.attach(i, v, rel)
        return 1 + d

    def adverb(self, cls: str) -> tuple[int, str, int]:
        """Emit an adverb of class ``cls``; return (index, relation, depth).

        For ``cls == "time"``, a third of the draws are the deictic time nouns
        (yesterday, today, tomorrow), which UD English tags NOUN with ``obl:tmod``.
        """
        rng = self.rng
        if cls == "time" and rng.random() < 0.6:
            return self.emit(self.lex.deictic_time.sample(rng), "B-NP"), "obl:tmod", 2
        return self.emit(self.lex.adverbs[cls].sample(rng), "B-ADVP"), "advmod", 2

    def place_pp(self, depth: int, topic: str | None) -> tuple[int, str, int]:
        """Emit "in the park" / "at the station" / "in London"; return (head, rel, depth)."""
        rng = self.rng
        ip = self.emit(self.lex.prepositions["place"].sample(rng), "B-PP")
        if rng.random() < 0.3:
            n = self.emit(self.lex.places.sample(rng), "B-NP")
            d = 2
        else:
            n, _, d = self.common_np("P", depth - 1 if depth > 0 else 0, topic, number="Sing")
        self.attach(ip, n, "case")
        return n, "obl", 1 + d

    def time_phrase(self, topic: str | None) -> tuple[int, str, int]:
        """Emit a time adjunct ("on Monday", "in 1998", "last week"...); (head, rel, depth)."""
        rng = self.rng
        fw = self.fw
        r = rng.random()
        if r < 0.2:
            ip = self.emit(fw["on"], "B-PP")
            n = self.emit(self.lex.days.sample(rng), "B-NP")
        elif r < 0.4:
            ip = self.emit(fw["in"], "B-PP")
            n = self.emit(self.lex.months.sample(rng), "B-NP")
        elif r < 0.6:
            ip = self.emit(fw["in"], "B-PP")
            n = self.emit(self.lex.years.sample(rng), "B-NP")
        elif r < 0.8:
            ip = self.emit(fw[rng.choice(("after_adp", "before_adp", "during"))], "B-PP")
            n, _, _ = self.common_np("E", 0, topic, number="Sing", modifiers=False)
        else:
            d = self.emit(fw[rng.choice(("last", "next", "every"))], "B-NP")
            n = self.emit(self.lex.time_nouns.sample(rng).sg, "I-NP")
            self.attach(d, n, "det" if self.L[d - 1][2] == "DET" else "amod")
            return n, "obl:tmod", 2
        self.attach(ip, n, "case")
        return n, "obl", 3

    def adverbial_clause(self, depth: int, topic: str | None) -> tuple[int, str, int]:
        """Emit "because ..." (or while/when/although/if/after/before); (head, rel, depth)."""
        key = self.rng.choice(
            ("because", "because", "while", "when", "although", "if", "after_sc", "before_sc")
        )
        im = self.emit(self.fw[key], "B-SBAR")
        c, cd = self.clause(depth, topic)
        self.attach(im, c, "mark")
        return c, "advcl", 1 + cd

    def clause(self, depth: int, topic: str | None) -> tuple[int, int]:
        """Emit a full clause (subject + predicate); return (head, depth)."""
        rng = self.rng
        if rng.random() < 0.7:
            s, number, person, sd = self.subject(depth, topic)
            stype = "H"
        else:
            stype = rng.choice("NTFPXE")
            s, number, sd = self.common_np(stype, depth, topic)
            person = "3"
        v, vd, voice = self.predicate(stype, number, person, depth, topic)
        self.attach(s, v, _SUBJ_REL[voice])
        self._voice = voice
        return v, 1 + max(sd, vd)

    def existential(self, topic: str | None) -> tuple[int, int]:
        """Emit "there is a cat in the garden"; return (head, depth)."""
        rng = self.rng
        ith = self.emit(self.fw["there"], "B-NP")
        noun = self.noun(rng.choice("NTFH"), topic)
        number = "Plur" if noun.pl is not None and rng.random() < 0.4 else "Sing"
        past = rng.random() < 0.4
        key = ("was" if past else "is") if number == "Sing" else ("were" if past else "are")
        ib = self.emit(self.fw[key + "_ex"], "B-VP")
        n, number, nd = self.common_np(
            noun.ntype, 0, topic, number=number, noun=noun, indefinite=True
        )
        self.attach(ith, ib, "expl")
        self.attach(n, ib, "nsubj")
        ipp, rel, d = self.place_pp(0, topic)
        self.attach(ipp, ib, rel)
        return ib, 1 + max(nd, 1 + d)

    # ------------------------------------------------------------------ sentences
    def sentence(self, topic: str | None, meta: dict[str, str] | None = None) -> Sentence:
        """Generate one sentence about ``topic``; return it with its metadata."""
        rng = self.rng
        self.reset()
        fw = self.fw
        depth = self.max_depth
        self._voice = "act"
        top: list[str] = []
        fronted: list[tuple[int, str]] = []
        r = rng.random()
        if r < 0.04:
            root, d = self.existential(topic)
            top = ["NP", "VP"]
            voice = "act"
        else:
            if r < 0.14:
                i, rel, _ = self.adverb(rng.choice(("time", "preverbal")))
                fronted.append((i, rel))
                top += ["ADVP", ","]
            elif r < 0.22:
                i, rel, _ = self.time_phrase(topic)
                fronted.append((i, rel))
                top += ["PP", ","]
            elif r < 0.28 and depth > 0:
                i, rel, _ = self.adverbial_clause(depth - 1, topic)
                fronted.append((i, rel))
                top += ["SBAR", ","]
            if fronted:
                ic = self.emit(fw[","], "O")
                fronted.append((ic, "punct"))
            root, d = self.clause(depth, topic)
            voice = self._voice
            if depth > 0 and rng.random() < self.p["coordination"] / 2:
                ic = self.emit(fw[","], "O")
                icc = self.emit(fw[rng.choice(("and", "but", "and"))], "O")
                c2, d2 = self.clause(depth - 1, topic)
                self.attach(ic, c2, "punct")
                self.attach(icc, c2, "cc")
                self.attach(c2, root, "conj")
                d = max(d, d2)
                top += ["S", ",", "CC", "S"]
            else:
                top += ["NP", "VP"]
        for i, rel in fronted:
            self.attach(i, root, rel)
        ip = self.emit(fw["."], "O")
        self.attach(ip, root, "punct")
        self.H[root - 1] = 0
        self.R[root - 1] = "root"
        top.append(".")
        info = {
            "depth": str(1 + d),
            "top": "_".join(top),
            "voice": "passive" if voice == "pass" else "active",
            "topic": topic or "none",
        }
        if meta:
            info.update(meta)
        return self.finish(info)
