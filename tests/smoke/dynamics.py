"""Chapter 5 at full scale: tiny LSTMs on a CoNLL-U file of generated topic documents (the
``doc_id`` and ``topic`` sentence metadata that the full path reads, gold UPOS, PTB tags,
semantic tags and trees), every size tiny."""

from __future__ import annotations

from pathlib import Path

from utils.corpus import generate, to_conllu

N_TRAIN, N_TEST = 120, 60


def parameters(workdir: Path) -> dict[str, object]:
    data = workdir / "topics.conllu"
    corpus = generate("topics", n=N_TRAIN + N_TEST, seed=0, doc_len=10)
    data.write_text(to_conllu(corpus), encoding="utf-8")
    return {
        "DATA": str(data), "N_SENTENCES": N_TRAIN, "N_TEST": N_TEST, "MIN_COUNT": 1, "DIM": 8,
        "LM_EPOCHS": 2, "TAGGER_EPOCHS": 1, "N_CHECKPOINTS": 5, "BATCH": 4, "N_LMS": 2,
        "EVAL_TOKENS": 64, "PROBE_EPOCHS": 1, "MIN_OCCURRENCES": 1, "N_DRAWS": 2,
        "N_CD_SENTENCES": 2, "MIN_CASES": 2, "N_DI": 10, "N_UNTRAINED": 20, "DI_BATCH": 16,
        "K_VALUES": [4], "SCAFFOLD_VOCAB": 20, "N_SCAFFOLDS": 4, "RULES_PER_SCAFFOLD": 2,
        "SCAFFOLD_COPIES": 4, "N_ROWS": 40, "SCAFFOLD_EPOCHS": 1, "SCAFFOLD_DIM": 8,
        "N_EVAL": 8, "N_SCAFFOLD_CHECKPOINTS": 3, "RESTARTS": 1, "PAGE_FRAMES": 1,
    }  # fmt: skip
