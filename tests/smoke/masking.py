"""Chapter 4 at full scale: a tiny byte-level BPE (RoBERTa-style) encoder on review files in the
format the full path reads (``train.conllu`` correlated, ``test.conllu`` uncorrelated, each
sentence with ``sentiment`` and ``genre`` metadata), written from the chapter's generator."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate, to_conllu

N_TRAIN, N_TEST = 40, 40


def parameters(workdir: Path, family: str = "bpe") -> dict[str, object]:
    data = workdir / "reviews"
    data.mkdir()
    for split, n, seed, p_aligned in (("train", N_TRAIN, 0, 0.85), ("test", N_TEST, 1000, 0.5)):
        corpus = generate("reviews", n=n, seed=seed, p_aligned=p_aligned)
        (data / f"{split}.conllu").write_text(to_conllu(corpus), encoding="utf-8")
    model = build_tiny_model(family, workdir / family)
    return {"MODEL": str(model), "DATA": str(data), "N_TRAIN": N_TRAIN, "N_TEST": N_TEST,
            "STEPS": 3, "BATCH": 4, "MICRO_BATCH": 3, "MASK_LR": 5e-3, "REFINE_STEPS": 2,
            "SPARSITIES": [0.0, 0.9], "N_PARAPHRASE": 30, "PARAPHRASE_STEPS": 2,
            "N_REPLICATES": 1, "TSNE_POINTS": 40}  # fmt: skip
