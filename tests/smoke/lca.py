"""Chapter 3 at full scale: a tiny WordPiece encoder (fine-tuned too, Table 6) with every task
on its own corpus and splits, as in the paper: a UD-style CoNLL-U treebank (dependency labels,
positions) and Penn Treebank ``word/TAG``, CoNLL-2000, PMB and CCGbank AUTO files for POS,
chunking, semantic tags and CCG supertags, one file per split, and a CoNLL-U treebank for each
"language" of section 13 (the same encoder as their multilingual and monolingual model), all
of generated English."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import Corpus, generate, to_conllu

SIZES = {"train": 40, "dev": 15, "test": 15}


def _ptb(corpus: Corpus) -> str:
    return "".join(
        " ".join(f"{w}/{t}" for w, t in zip(s.forms, s.layer("xpos"))) + "\n" for s in corpus
    )


def _columns(corpus: Corpus, layers: tuple[str, ...], word_first: bool = True) -> str:
    lines = []
    for s in corpus:
        for j, form in enumerate(s.forms):
            tags = [s.layer(layer)[j] for layer in layers]
            lines.append(" ".join([form, *tags] if word_first else [*tags, form]))
        lines.append("")
    return "\n".join(lines) + "\n"


def _supertag(tag: str) -> str:
    """A CCG-like lexical category for a PTB tag: the check needs the format, not a grammar."""
    if tag.startswith("VB"):
        return "(S[dcl]\\NP)/NP"
    return {"DT": "NP[nb]/N", "JJ": "N/N", "IN": "(NP\\NP)/NP"}.get(tag, "N")


def _ccg_auto(corpus: Corpus) -> str:
    lines = []
    for i, s in enumerate(corpus):
        leaves = " ".join(
            f"(<L {_supertag(t)} {t} {t} {w} {_supertag(t)}>)"
            for w, t in zip(s.forms, s.layer("xpos"))
        )
        lines += [f"ID=wsj_0001.{i + 1} PARSER=GOLD NUMPARSE=1", f"(<T S[dcl] 0 2> {leaves} )"]
    return "\n".join(lines) + "\n"


WRITERS = {  # name pattern, writer of one split
    "DATA": ("ud_{split}.conllu", to_conllu),
    "POS_DATA": ("wsj_{split}.pos", _ptb),
    "CHUNK_DATA": ("conll2000_{split}.txt", lambda c: _columns(c, ("xpos", "chunk"))),
    "SEM_DATA": ("pmb_{split}.sem", lambda c: _columns(c, ("sem",), word_first=False)),
    "CCG_DATA": ("ccgbank_{split}.auto", _ccg_auto),
}


def parameters(workdir: Path) -> dict[str, object]:
    files = {}
    for seed, (name, (pattern, write)) in enumerate(WRITERS.items()):
        corpus = generate("english", n=sum(SIZES.values()), seed=seed).split(SIZES)
        for split, part in corpus.items():
            (workdir / pattern.format(split=split)).write_text(write(part), encoding="utf-8")
        files[name] = str(workdir / pattern)
    languages = {}  # section 13: a treebank per "language", all generated English
    for seed, language in enumerate(("en", "de", "fr"), start=len(WRITERS)):
        corpus = generate("english", n=sum(SIZES.values()), seed=seed).split(SIZES)
        for split, part in corpus.items():
            (workdir / f"{language}_{split}.conllu").write_text(to_conllu(part), encoding="utf-8")
        languages[language] = str(workdir / f"{language}_{{split}}.conllu")
    model = build_tiny_model("wordpiece", workdir / "wordpiece", max_positions=128)
    return {
        "MODEL": str(model), **files, "LANGUAGE_DATA": languages,
        "LANGUAGE_MODELS": {"de": str(model), "fr": str(model)},
        "N_TRAIN": 40, "N_DEV": 15, "N_TEST": 15,
        "BATCH_SIZE": 64, "PROBE_EPOCHS": 2, "GRID_EPOCHS": 1, "GRID_BATCH_SIZE": 64,
        "LAMBDA_GRID": [1e-4, 1e-2, 0.0], "MAX_FRACTION": 0.15, "N_SEEDS": 2, "N_DRAWS": 3,
        "N_RETRAIN_DRAWS": 2, "CURVE_PERCENTS": [5, 20], "FINE_TUNING_STEPS": 3,
        "FINE_TUNING_REVIEWS": 30, "FINE_TUNING_BATCH": 4,
    }  # fmt: skip
