"""Syntax vs semantics triplets: meaning-preserving rewrites and same-syntax content swaps.

For each item the generator draws a clause (a *frame*: agent, verb, patient, optional
time adjunct or reason clause) and realises it three times, as consecutive sentences:

* ``original``: the canonical form;
* ``rewrite``: the same meaning in another syntax (``passive`` voice, adjunct
  ``fronting``, ``dative`` shift, ``there`` insertion, or ``clause_order`` swap);
* ``swap``: the same syntax as the original with every content word replaced by
  another word of the same class (same function words, different meaning).

Metadata: ``group`` (item index), ``role``, ``rewrite`` (the rewrite type), ``voice``
(active/passive) and ``template`` (a syntactic label known by construction).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from .checks import check_choice, check_int
from .grammar import Grammar, article_for
from .lexicon import Lexicon, Noun, Pool, Tok, Verb, lexicon
from .treebank import Corpus, Sentence

__all__ = ["REWRITES", "paraphrase"]

REWRITES = ("passive", "fronting", "dative", "there", "clause_order")


@dataclass(frozen=True)
class _NP:
    noun: Noun
    number: str
    det: str  # "the" | "a" | "poss:<key>" | "none"
    adj: Tok | None


@dataclass(frozen=True)
class _Frame:
    kind: str  # "tr" | "ditr" | "there"
    agent: _NP
    verb: Verb | None
    patient: _NP | None
    recipient: _NP | None
    time: tuple[Tok, Tok] | None  # (preposition, noun)
    reason: _Frame | None
    past: bool


class _Realiser:
    def __init__(self, lex: Lexicon, rng: random.Random) -> None:
        self.lex = lex
        self.rng = rng
        self.g = Grammar(lex, rng, 0)
        self.fw = lex.fw
        self.ditr = Pool([v for v in lex.verb_list if v.frame == "ditr" and "T" in v.objs])

    # -- content sampling
    def np(self, ntype: str, det: str | None = None, number: str | None = None) -> _NP:
        rng = self.rng
        pool = self.lex.countable.get((ntype, "general")) or self.lex.countable[(ntype, "any")]
        noun = pool.sample(rng)
        if number is None:
            number = "Plur" if rng.random() < 0.3 else "Sing"
        if det is None:
            det = "the" if rng.random() < 0.7 else "a"
        if det == "a" and number == "Plur":
            det = "none"
        adj = self.lex.adjectives[ntype].sample(rng).pos if rng.random() < 0.3 else None
        return _NP(noun, number, det, adj)

    def swap_np(self, np: _NP, ntype: str) -> _NP:
        pool = self.lex.countable.get((ntype, "general")) or self.lex.countable[(ntype, "any")]
        noun = np.noun
        while noun.lemma == np.noun.lemma:
            noun = pool.sample(self.rng)
        adj = np.adj
        if adj is not None:
            while adj[1] == np.adj[1]:
                adj = self.lex.adjectives[ntype].sample(self.rng).pos
        return replace(np, noun=noun, adj=adj)

    def frame(self, kind: str, with_reason: bool) -> _Frame:
        rng = self.rng
        lex = self.lex
        time = None
        if rng.random() < 0.6 or kind == "fronting":
            day = lex.days.sample(rng)
            time = (self.fw["on"], day)
        reason = self.frame("tr", False) if with_reason else None
        past = rng.random() < 0.6
        if kind == "there":
            return _Frame(
                "there",
                self.np(rng.choice("NTF"), det="a"),
                None,
                None,
                self.np("P", det="the", number="Sing"),
                None,
                None,
                past,
            )
        if kind == "dative":
            verb = self.ditr.sample(rng)
            return _Frame(
                "ditr", self.np("H"), verb, self.np("T"), self.np("H"), time, reason, past
            )
        verb = lex.verbs_by_obj["T"].sample(rng)
        while verb.subj != "H":
            verb = lex.verbs_by_obj["T"].sample(rng)
        return _Frame("tr", self.np("H"), verb, self.np("T"), None, time, reason, past)

    def swap(self, f: _Frame) -> _Frame:
        lex = self.lex
        rng = self.rng
        verb = f.verb
        if verb is not None:
            pool = self.ditr if f.kind == "ditr" else lex.verbs_by_obj["T"]
            while verb.lemma == f.verb.lemma or verb.subj != "H":
                verb = pool.sample(rng)
        agent_type = "H" if f.kind != "there" else f.agent.noun.ntype
        time = f.time
        if time is not None:
            day = time[1]
            while day == time[1]:
                day = lex.days.sample(rng)
            time = (time[0], day)
        return replace(
            f,
            agent=self.swap_np(f.agent, agent_type),
            verb=verb,
            patient=self.swap_np(f.patient, "T") if f.patient else None,
            recipient=self.swap_np(f.recipient, "H" if f.kind == "ditr" else "P")
            if f.recipient
            else None,
            time=time,
            reason=self.swap(f.reason) if f.reason else None,
        )

    # -- realisation
    def emit_np(self, np: _NP, chunk: str = "B-NP") -> int:
        g = self.g
        tok = np.noun.sg if np.number == "Sing" else np.noun.pl
        first = np.adj[0] if np.adj else tok[0]
        idx = []
        if np.det != "none":
            key = article_for(first) if np.det == "a" else np.det
            idx.append((g.emit(self.fw[key], chunk), "det"))
            chunk = "I-NP"
        if np.adj is not None:
            idx.append((g.emit(np.adj, chunk), "amod"))
            chunk = "I-NP"
        h = g.emit(tok, chunk)
        for i, rel in idx:
            g.attach(i, h, rel)
        return h

    def be(self, number: str, past: bool, existential: bool = False) -> Tok:
        key = ("was" if past else "is") if number == "Sing" else ("were" if past else "are")
        return self.fw[key + "_ex" if existential else key]

    def clause(self, f: _Frame, rewrite: str | None) -> int:
        """Emit the clause of frame ``f`` (rewritten or not); return its head."""
        g = self.g
        if f.kind == "there":
            if rewrite == "there":
                ith = g.emit(self.fw["there"], "B-NP")
                v = g.emit(self.be(f.agent.number, f.past, existential=True), "B-VP")
                s = self.emit_np(f.agent)
                ip = g.emit(self.fw["in"], "B-PP")
                loc = self.emit_np(f.recipient)
                g.attach(ith, v, "expl")
                g.attach(s, v, "nsubj")
                g.attach(ip, loc, "case")
                g.attach(loc, v, "obl")
                return v
            s = self.emit_np(f.agent)
            icop = g.emit(self.be(f.agent.number, f.past), "B-VP")
            ip = g.emit(self.fw["in"], "B-PP")
            loc = self.emit_np(f.recipient)
            g.attach(s, loc, "nsubj")
            g.attach(icop, loc, "cop")
            g.attach(ip, loc, "case")
            return loc
        front_time = rewrite == "fronting" and f.time is not None
        fronted = []
        if front_time:
            fronted = [self.time(f.time), g.emit(self.fw[","], "O")]
        if rewrite == "passive":
            s = self.emit_np(f.patient)
            iaux = g.emit(self.be(f.patient.number, f.past), "B-VP")
            v = g.emit(f.verb.forms["VBN"], "I-VP")
            iby = g.emit(self.fw["by"], "B-PP")
            a = self.emit_np(f.agent)
            g.attach(iaux, v, "aux:pass")
            g.attach(s, v, "nsubj:pass")
            g.attach(iby, a, "case")
            g.attach(a, v, "obl:agent")
        else:
            s = self.emit_np(f.agent)
            sg3 = f.agent.number == "Sing"
            form = "VBD" if f.past else ("VBZ" if sg3 else "VBP")
            v = g.emit(f.verb.forms[form], "B-VP")
            g.attach(s, v, "nsubj")
            if f.kind == "ditr" and rewrite != "dative":
                r = self.emit_np(f.recipient)
                o = self.emit_np(f.patient)
                g.attach(r, v, "iobj")
                g.attach(o, v, "obj")
            else:
                o = self.emit_np(f.patient)
                g.attach(o, v, "obj")
                if f.kind == "ditr":
                    ito = g.emit(self.fw["to"], "B-PP")
                    r = self.emit_np(f.recipient)
                    g.attach(ito, r, "case")
                    g.attach(r, v, "obl")
        if f.time is not None and not front_time:
            g.attach(self.time(f.time), v, "obl")
        for i in fronted:
            g.attach(i, v, "obl" if self.g.L[i - 1][2] != "PUNCT" else "punct")
        return v

    def time(self, t: tuple[Tok, Tok]) -> int:
        ip = self.g.emit(t[0], "B-PP")
        n = self.g.emit(t[1], "B-NP")
        self.g.attach(ip, n, "case")
        return n

    def sentence(self, f: _Frame, rewrite: str | None, meta: dict[str, str]) -> Sentence:
        g = self.g
        g.reset()
        fw = self.fw
        if f.reason is not None and rewrite == "clause_order":
            im = g.emit(fw["because"], "B-SBAR")
            c = self.clause(f.reason, None)
            ic = g.emit(fw[","], "O")
            v = self.clause(replace(f, reason=None), None)
            g.attach(im, c, "mark")
            g.attach(c, v, "advcl")
            g.attach(ic, v, "punct")
        else:
            v = self.clause(replace(f, reason=None), rewrite)
            if f.reason is not None:
                im = g.emit(fw["because"], "B-SBAR")
                c = self.clause(f.reason, None)
                g.attach(im, c, "mark")
                g.attach(c, v, "advcl")
        g.attach(g.emit(fw["."], "O"), v, "punct")
        g.H[v - 1] = 0
        g.R[v - 1] = "root"
        return g.finish(meta)


def paraphrase(
    n: int,
    seed: int,
    rewrites: tuple[str, ...] = REWRITES,
) -> Corpus:
    """Generate ``n`` (original, rewrite, swap) triplets as ``3 * n`` sentences.

    Parameters
    ----------
    n : int
        Number of triplets.
    seed : int
        Random seed.
    rewrites : tuple of str
        Subset of :data:`REWRITES`, drawn uniformly.

    Returns
    -------
    Corpus
        Sentences ``3 * i``, ``3 * i + 1``, ``3 * i + 2`` are the original, the rewrite
        and the swap of item ``i``.
    """
    check_int("n", n)
    rewrites = tuple(rewrites)
    if not rewrites:
        raise ValueError("parameter 'rewrites' must not be empty")
    for r in rewrites:
        check_choice("rewrites", r, REWRITES)
    lex = lexicon()
    rng = random.Random(seed)
    R = _Realiser(lex, rng)
    out = []
    for i in range(n):
        rw = rewrites[int(rng.random() * len(rewrites))]
        kind = "there" if rw == "there" else "dative" if rw == "dative" else rw
        f = R.frame(kind, with_reason=rw == "clause_order")
        swapped = R.swap(f)
        template = f"{f.kind}{'+time' if f.time else ''}{'+reason' if f.reason else ''}"
        base = {"group": str(i), "rewrite": rw, "template": template}
        for role, frame, how in (
            ("original", f, None),
            ("rewrite", f, rw),
            ("swap", swapped, None),
        ):
            voice = "passive" if how == "passive" else "active"
            meta = {
                "sent_id": f"paraphrase-{seed}-{i}-{role}",
                **base,
                "role": role,
                "voice": voice,
            }
            out.append(R.sentence(frame, how, meta))
    return Corpus(out)
