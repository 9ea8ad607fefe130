"""Chapter 3 at full scale: a tiny WordPiece encoder (fine-tuned too, Table 6) with every task
on its own corpus and splits, as in the paper: a UD-style CoNLL-U treebank (dependency labels,
positions) and Penn Treebank ``word/TAG``, CoNLL-2000 and PMB files for POS, chunking and
semantic tags, one file per split, all of generated English."""

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


WRITERS = {  # name pattern, writer of one split
    "DATA": ("ud_{split}.conllu", to_conllu),
    "POS_DATA": ("wsj_{split}.pos", _ptb),
    "CHUNK_DATA": ("conll2000_{split}.txt", lambda c: _columns(c, ("xpos", "chunk"))),
    "SEM_DATA": ("pmb_{split}.sem", lambda c: _columns(c, ("sem",), word_first=False)),
}


def parameters(workdir: Path) -> dict[str, object]:
    files = {}
    for seed, (name, (pattern, write)) in enumerate(WRITERS.items()):
        corpus = generate("english", n=sum(SIZES.values()), seed=seed).split(SIZES)
        for split, part in corpus.items():
            (workdir / pattern.format(split=split)).write_text(write(part), encoding="utf-8")
        files[name] = str(workdir / pattern)
    model = build_tiny_model("wordpiece", workdir / "wordpiece", max_positions=128)
    return {
        "MODEL": str(model), **files, "N_TRAIN": 40, "N_DEV": 15, "N_TEST": 15,
        "BATCH_SIZE": 64, "PROBE_EPOCHS": 2, "GRID_EPOCHS": 1, "GRID_BATCH_SIZE": 64,
        "LAMBDA_GRID": [1e-4, 1e-2, 0.0], "MAX_FRACTION": 0.15, "N_SEEDS": 2, "N_DRAWS": 3,
        "N_RETRAIN_DRAWS": 2, "CURVE_PERCENTS": [5, 20], "FINE_TUNING_STEPS": 3,
        "FINE_TUNING_REVIEWS": 30, "FINE_TUNING_BATCH": 4,
    }  # fmt: skip
