"""Chapter 2 at full scale: a tiny WordPiece encoder with its masked-LM head (used as the word
decoder), on a treebank's own train, dev and test files of generated English with its
morphological features (UD FEATS) and a few multiword tokens (read whole by the model), both
layers probed and edited."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate, to_conllu


def parameters(workdir: Path) -> dict[str, object]:
    corpus = generate("english", n=130, seed=0)
    # every fifth sentence writes its first two words as one token (as UD writes "del")
    sentences = [
        dataclasses.replace(s, multiword=((0, 2, s.forms[0] + s.forms[1]),)) if i % 5 else s
        for i, s in enumerate(corpus)
    ]
    cuts = {"train": slice(0, 90), "dev": slice(90, 110), "test": slice(110, None)}
    for split, rows in cuts.items():
        (workdir / f"en_gen-ud-{split}.conllu").write_text(
            to_conllu(sentences[rows]), encoding="utf-8"
        )
    model = build_tiny_model("wordpiece", workdir / "wordpiece", mlm_head=True)
    return {"MODEL": str(model), "DATA": str(workdir / "en_gen-ud-train.conllu"),
            "N_SENTENCES": 120, "LAYERS": "1,2", "MIN_TYPES": 2, "KS": [1, 2, 5, 10],
            "PROBE_BATCH": 32, "PROBE_EPOCHS": 2, "N_DECODER_SENTENCES": 80, "DECODER_EPOCHS": 20,
            "N_DECODERS": 2, "N_EDIT_SENTENCES": 12, "TRANSLATION_KS": [0, 5, 10, 20],
            "ABLATION_KS": [0, 10, 32], "BETAS": [4.0, 8.0], "N_TIMED": 1}  # fmt: skip
