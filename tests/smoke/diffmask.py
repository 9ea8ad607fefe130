"""Chapter 1 at full scale: two tiny random-weight LSTM language models in the layout of
Gulordava et al.'s checkpoints (a pickled ``model.RNNModel``, different seeds) and their
vocabulary file, on agreement and gender items in the formats of the paper's data: NA-task
files as Lakretz et al. distribute them (one per construction, tab-separated correct and
wrong versions) and Vig et al.'s ``professions.json`` and templates, written from the
chapter's generated items (so that every word is in the tiny vocabulary)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tiny_models import build_word_language_model
from utils.corpus import generate
from utils.corpus.task_gender import DEFAULT_STEREOTYPES, TEMPLATES

NUMBER = {"sing": "singular", "plur": "plural"}


def write_agreement_files(folder: Path, n: int) -> list[Path]:
    """Lakretz-format files, one per construction, from ``n`` generated prefix items."""
    lines: dict[str, list[str]] = {}
    for index, item in enumerate(generate("agreement", n=n, seed=5, mode="prefix")):
        meta, prefix = item.meta, " ".join(item.forms[:-1])
        number = NUMBER[meta["subj_number"]]
        if meta["congruent"] != "none":  # the attractor's number after the subject's
            same = meta["congruent"] == "yes"
            other = number if same else ({"singular": "plural", "plural": "singular"}[number])
            number = f"{number}_{other}"
        for label in ("correct", "wrong"):
            lines.setdefault(meta["construction"], []).append(
                f"{prefix} {meta[label]}\t{number}\t{label}\tid{index}"
            )
    paths = []
    for construction, text in lines.items():
        paths.append(folder / f"{construction}.txt")
        paths[-1].write_text("\n".join(text) + "\n", encoding="utf-8")
    return paths


def parameters(workdir: Path) -> dict[str, object]:
    # weights spread wide enough that the pronoun and the verb form vary with the prefix (with
    # these seeds both forms are preferred somewhere: every direction has prefixes to flip)
    spread = {"init_range": 1.0, "lstm_range": 1.0}
    first, vocabulary = build_word_language_model(workdir / "lm", seed=6, name="lm0.pt", **spread)
    second, _ = build_word_language_model(workdir / "lm", seed=8, name="lm1.pt", **spread)
    agreement = write_agreement_files(workdir, 160)
    professions = workdir / "professions.json"
    professions.write_text(
        json.dumps([[p, 0.0, 2 * s - 1] for p, s in DEFAULT_STEREOTYPES.items()])
    )
    templates = workdir / "templates.txt"
    templates.write_text("\n".join(TEMPLATES[:4]) + "\n", encoding="utf-8")
    return {
        "MODEL": f"{first},{second}",
        "VOCAB": str(vocabulary),
        "AGREEMENT_FILES": ",".join(map(str, agreement)),
        "PROFESSIONS": str(professions),
        "TEMPLATES": str(templates),
        "N_AGREEMENT_TRAIN": 60,
        "N_GENDER_TRAIN": 40,
        "N_PREFIXES": 160,
        "N_GENDER_PREFIXES": 17 * 4,
        "N_EVAL": 8,
        "N_LMS": 2,
        "STEPS": 4,
        "BATCH": 4,
        "RUNS": 2,
        "T3_RUNS": 2,
        "T3_BUDGET": 1,
        "N_DRAWS": 2,
        "PAGE_FRAMES": 1,
        "TOP_UNITS_FOR_PAIRS": 4,
        "CHUNK_GIB": 0.001,  # about 1 MiB: the steps and evaluations are cut into chunks
    }
