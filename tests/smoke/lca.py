"""Chapter 3 at full scale: a tiny WordPiece encoder (fine-tuned too, Table 6) on a CoNLL-U
file of generated English that carries every label layer the chapter reads."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate, to_conllu


def parameters(workdir: Path) -> dict[str, object]:
    data = workdir / "english.conllu"
    data.write_text(to_conllu(generate("english", n=70, seed=0)), encoding="utf-8")
    model = build_tiny_model("wordpiece", workdir / "wordpiece", max_positions=128)
    return {
        "MODEL": str(model), "DATA": str(data), "N_TRAIN": 40, "N_DEV": 15, "N_TEST": 15,
        "BATCH_SIZE": 64, "PROBE_EPOCHS": 2, "GRID_EPOCHS": 1, "GRID_BATCH_SIZE": 64,
        "LAMBDA_GRID": [1e-4, 1e-2, 0.0], "MAX_FRACTION": 0.15, "N_SEEDS": 2, "N_DRAWS": 3,
        "N_RETRAIN_DRAWS": 2, "CURVE_PERCENTS": [5, 20], "FINE_TUNING_STEPS": 3,
        "FINE_TUNING_REVIEWS": 30, "FINE_TUNING_BATCH": 4,
    }  # fmt: skip
