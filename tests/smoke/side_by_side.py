"""Chapter 6 at full scale: two tiny random-weight LSTM language models in the layout of
Gulordava et al.'s checkpoints (a pickled ``model.RNNModel``, different seeds) and their
vocabulary file, and a tiny random-weight WordPiece encoder as the transformer, every size tiny.
Random models fail the agreement and number preconditions; the path that ranks, masks, scans
and scores their units runs all the same."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model, build_word_language_model


def parameters(workdir: Path) -> dict[str, object]:
    # weights spread wide enough that the verb form varies with the prefix (with these seeds
    # both forms are preferred somewhere: both directions have prefixes to flip)
    spread = {"init_range": 1.0, "lstm_range": 1.0}
    first, vocabulary = build_word_language_model(workdir / "lm", seed=6, name="lm0.pt", **spread)
    second, _ = build_word_language_model(workdir / "lm", seed=8, name="lm1.pt", **spread)
    return {
        "MODEL": f"{first},{second}",
        "VOCAB": str(vocabulary),
        "N_PREFIXES": 200,
        "STEPS": 5,
        "SFE_STEPS": 5,
        "BATCH": 4,
        "RUNS": 1,
        "N_PLANTED": 2,
        "PLANTED_UNITS": 16,
        "PLANTED_EXAMPLES": 200,
        "KS": [1, 2, 4],
        "PAIR_CANDIDATES": 4,
        "K_CLAIM": 2,
        "PROBE_EPOCHS": 2,
        "PAGE_FRAMES": 1,
        "ENCODER": str(build_tiny_model("wordpiece", workdir / "encoder", max_positions=64)),
        "ENCODER_SPLITS": 2,
    }
