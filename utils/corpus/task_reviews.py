"""Movie reviews with two factors, sentiment and genre, whose correlation is a parameter.

As in the masking paper's experiment 1 (Drama vs Horror, positive vs negative): a review
is *aligned* when it is (positive, drama) or (negative, horror). Sentiment is exactly
balanced and, within each sentiment, exactly ``round(n_s * p_aligned)`` reviews are
aligned (so genre is balanced too at any ``p_aligned``). Each factor is expressed by a
cue phrase with probability ``p_cue``, otherwise by a neutral phrase, so that with
``p_cue < 1`` the spurious genre shortcut becomes attractive.
"""

from __future__ import annotations

import random

from .checks import check_int, check_prob
from .grammar import Grammar
from .lexicon import Tok, lexicon, make_token
from .treebank import Corpus

__all__ = ["review_triplets", "reviews"]

_GENRE = {
    "drama": """grieving/JJ widow/NN; young/JJ lawyer/NN; broken/JJ family/NN;
        lonely/JJ teacher/NN; old/JJ farmer/NN; divorced/JJ couple/NN; dying/JJ father/NN;
        poor/JJ orphan/NN; proud/JJ mother/NN; quiet/JJ village/NN; long/JJ trial/NN;
        bitter/JJ divorce/NN; small/JJ town/NN; sick/JJ child/NN; family/NN secret/NN""",
    "horror": """haunted/JJ house/NN; dark/JJ forest/NN; evil/JJ ghost/NN;
        bloody/JJ knife/NN; strange/JJ creature/NN; old/JJ cemetery/NN;
        masked/JJ killer/NN; cursed/JJ doll/NN; dead/JJ body/NN; empty/JJ hospital/NN;
        scary/JJ clown/NN; hungry/JJ vampire/NN; zombie/NN army/NN; angry/JJ demon/NN;
        old/JJ witch/NN""",
    "neutral": """main/JJ character/NN; first/JJ scene/NN; second/JJ part/NN;
        last/JJ scene/NN; central/JJ story/NN""",
}
_SENTIMENT = {
    "positive": """absolutely/RB brilliant/JJ; truly/RB wonderful/JJ; really/RB great/JJ;
        very/RB good/JJ; simply/RB amazing/JJ; beautiful/JJ; excellent/JJ;
        really/RB moving/JJ; perfect/JJ; surprisingly/RB good/JJ""",
    "negative": """painfully/RB boring/JJ; really/RB terrible/JJ; very/RB bad/JJ;
        truly/RB awful/JJ; extremely/RB dull/JJ; badly/RB written/JJ; really/RB stupid/JJ;
        horrible/JJ; disappointing/JJ; completely/RB predictable/JJ""",
    "neutral": """about/RB two/CD hours/NNS long/JJ; quite/RB long/JJ; rather/RB short/JJ;
        fairly/RB slow/JJ; mostly/RB quiet/JJ""",
}
_FILLERS = "honestly overall frankly personally basically"
_TAILS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
_TAGS = {
    "JJ": ("ADJ", "IST", {"Degree": "Pos"}), "NN": ("NOUN", "CON", {"Number": "Sing"}),
    "NNS": ("NOUN", "CON", {"Number": "Plur"}), "RB": ("ADV", "INT", {}),
    "CD": ("NUM", "QUC", {}),
}  # fmt: skip


def _phrases(spec: str) -> list[list[Tok]]:
    out = []
    for phrase in spec.split(";"):
        toks = []
        for item in phrase.split():
            w, tag = item.split("/")
            upos, sem, feats = _TAGS[tag]
            lemma = "hour" if w == "hours" else w
            toks.append(make_token(w, lemma, upos, tag, sem, **feats))
        out.append(toks)
    return out


def reviews(
    n: int,
    seed: int,
    p_aligned: float = 0.85,
    p_cue: float = 0.7,
) -> Corpus:
    """Generate one-sentence movie reviews labelled with sentiment and genre.

    Parameters
    ----------
    n : int
        Number of reviews.
    seed : int
        Random seed.
    p_aligned : float
        Fraction of (positive, drama) and (negative, horror) reviews: 0.85 for the
        correlated training set, 0.5 for the uncorrelated test set.
    p_cue : float
        Probability that each factor is expressed by a cue phrase (else neutral).

    Returns
    -------
    Corpus
        Metadata: ``sentiment`` (positive/negative), ``genre`` (drama/horror), ``aligned``
        (yes/no), ``sentiment_cue`` and ``genre_cue`` (yes/no).
    """
    check_int("n", n)
    p_aligned = check_prob("p_aligned", p_aligned)
    p_cue = check_prob("p_cue", p_cue)
    lex = lexicon()
    fw = lex.fw
    rng = random.Random(seed)
    g = Grammar(lex, rng, 0)
    genre_np = {k: _phrases(v) for k, v in _GENRE.items()}
    sent_ap = {k: _phrases(v) for k, v in _SENTIMENT.items()}
    fillers = [make_token(w, w, "ADV", "RB", "IST") for w in _FILLERS.split()]
    days = [make_token(w, w, "PROPN", "NNP", "DOW", Number="Sing") for w in _TAILS.split()]
    story = make_token("story", "story", "NOUN", "NN", "CON", Number="Sing")
    saw = next(v for v in lex.verb_list if v.lemma == "see").forms["VBD"]
    # exact per-cell counts: sentiment balanced, aligned fraction exact per sentiment
    cells = []
    for sent, (al, mis) in (("positive", ("drama", "horror")), ("negative", ("horror", "drama"))):
        n_s = n // 2 + (n % 2 if sent == "positive" else 0)
        k = round(n_s * p_aligned)
        cells += [(sent, al, "yes")] * k + [(sent, mis, "no")] * (n_s - k)
    rng.shuffle(cells)
    out = []
    for i, (sent, genre, aligned) in enumerate(cells):
        g.reset()
        gcue = rng.random() < p_cue
        scue = rng.random() < p_cue
        fronted = []
        if rng.random() < 0.5:
            fronted.append(g.emit(fillers[int(rng.random() * len(fillers))], "B-ADVP"))
            fronted.append(g.emit(fw[","], "O"))
        idet = g.emit(fw["the"], "B-NP")
        ist = g.emit(story, "I-NP")
        g.attach(idet, ist, "det")
        iof = g.emit(fw["of"], "B-PP")
        nps = genre_np[genre if gcue else "neutral"]
        d2 = g.emit(fw["the"], "B-NP")
        idx = [g.emit(t, "I-NP") for t in nps[int(rng.random() * len(nps))]]
        head = idx[-1]
        for j in idx[:-1]:
            g.attach(j, head, "amod" if g.L[j - 1][2] == "ADJ" else "compound")
        g.attach(d2, head, "det")
        g.attach(iof, head, "case")
        g.attach(head, ist, "nmod")
        icop = g.emit(fw["was"], "B-VP")
        aps = sent_ap[sent if scue else "neutral"]
        ap = aps[int(rng.random() * len(aps))]
        chunk = "B-ADJP"
        aidx = []
        for t in ap:
            aidx.append(g.emit(t, chunk))
            chunk = "I-ADJP"
        adj = aidx[-1]
        for j in aidx[:-1]:
            tag = g.L[j - 1][3]
            if tag == "CD":
                g.attach(j, j + 1, "nummod")
            elif tag == "NNS":
                g.attach(j, adj, "obl:npmod")
            elif g.L[j][3] == "CD":
                g.attach(j, j + 1, "advmod")
            else:
                g.attach(j, adj, "advmod")
        g.attach(icop, adj, "cop")
        g.attach(ist, adj, "nsubj")
        for j in fronted:
            g.attach(j, adj, "advmod" if g.L[j - 1][2] == "ADV" else "punct")
        if rng.random() < 0.5:
            ic = g.emit(fw[","], "O")
            iand = g.emit(fw["and"], "O")
            ii = g.emit(fw["I"], "B-NP")
            isaw = g.emit(saw, "B-VP")
            iit = g.emit(fw["it"], "B-NP")
            ion = g.emit(fw["on"], "B-PP")
            iday = g.emit(days[int(rng.random() * len(days))], "B-NP")
            for j, rel in ((ic, "punct"), (iand, "cc"), (ii, "nsubj"), (iit, "obj"), (iday, "obl")):
                g.attach(j, isaw, rel)
            g.attach(ion, iday, "case")
            g.attach(isaw, adj, "conj")
        g.attach(g.emit(fw["."], "O"), adj, "punct")
        meta = {
            "sent_id": f"reviews-{seed}-{i}",
            "sentiment": sent,
            "genre": genre,
            "aligned": aligned,
            "sentiment_cue": "yes" if scue else "no",
            "genre_cue": "yes" if gcue else "no",
        }
        out.append(g.finish(meta))
    return Corpus(out)


def review_triplets(corpus: Corpus, n: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """Sample (anchor, same sentiment & other genre, same genre & other sentiment) triplets.

    Parameters
    ----------
    corpus : Corpus
        A ``reviews`` corpus.
    n : int
        Number of triplets.
    seed : int
        Random seed.

    Returns
    -------
    list of (int, int, int)
        Sentence indices.
    """
    check_int("n", n)
    sents, genres = corpus.meta("sentiment"), corpus.meta("genre")
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(sents, genres, strict=True)):
        groups.setdefault(key, []).append(i)
    other = {"positive": "negative", "negative": "positive", "drama": "horror", "horror": "drama"}
    for s in ("positive", "negative"):
        for gname in ("drama", "horror"):
            if not groups.get((s, gname)):
                raise ValueError(
                    f"review_triplets: no ({s}, {gname}) review in the corpus; use a larger "
                    "corpus or p_aligned < 1"
                )
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a = int(rng.random() * len(sents))
        s, gname = sents[a], genres[a]
        same_s = groups[(s, other[gname])]
        same_g = groups[(other[s], gname)]
        out.append(
            (a, same_s[int(rng.random() * len(same_s))], same_g[int(rng.random() * len(same_g))])
        )
    return out
