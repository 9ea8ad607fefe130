"""Chapter 1 at full scale: two tiny random-weight LSTM language models in the layout of
Gulordava et al.'s checkpoints (a pickled ``model.RNNModel``, different seeds) and their
vocabulary file, on the chapter's generated agreement and gender prefixes."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_word_language_model


def parameters(workdir: Path) -> dict[str, object]:
    # weights spread wide enough that the pronoun and the verb form vary with the prefix (with
    # these seeds both forms are preferred somewhere: every direction has prefixes to flip)
    spread = {"init_range": 1.0, "lstm_range": 1.0}
    first, vocabulary = build_word_language_model(workdir / "lm", seed=6, name="lm0.pt", **spread)
    second, _ = build_word_language_model(workdir / "lm", seed=8, name="lm1.pt", **spread)
    return {
        "MODEL": f"{first},{second}",
        "VOCAB": str(vocabulary),
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
