"""Chapter 0 at full scale: a tiny WordPiece encoder on a CoNLL-U file of generated English."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate, to_conllu


def parameters(workdir: Path) -> dict[str, object]:
    data = workdir / "english.conllu"
    data.write_text(to_conllu(generate("english", n=90, seed=0)), encoding="utf-8")
    model = build_tiny_model("wordpiece", workdir / "wordpiece")
    return {"MODEL": str(model), "DATA": str(data), "N_TRAIN": 60, "N_TEST": 30,
            "EPOCHS": 2, "N_REPLICATES": 2}  # fmt: skip
