"""Chapter 2 at full scale: a tiny WordPiece encoder with a masked-LM head, on a CoNLL-U file of
generated English with its morphological features (UD FEATS), both layers probed and edited."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate, to_conllu


def parameters(workdir: Path) -> dict[str, object]:
    data = workdir / "english.conllu"
    data.write_text(to_conllu(generate("english", n=120, seed=0)), encoding="utf-8")
    model = build_tiny_model("wordpiece", workdir / "wordpiece", mlm_head=True)
    return {"MODEL": str(model), "DATA": str(data), "N_SENTENCES": 120, "LAYERS": "1,2",
            "MIN_TYPES": 2, "KS": [1, 2, 5, 10], "PROBE_BATCH": 32, "PROBE_EPOCHS": 2,
            "N_DECODER_SENTENCES": 80, "DECODER_EPOCHS": 20, "N_DECODERS": 2,
            "N_EDIT_SENTENCES": 12, "TRANSLATION_KS": [0, 5, 10, 20],
            "ABLATION_KS": [0, 10, 32], "BETAS": [4.0, 8.0], "N_TIMED": 1}  # fmt: skip
