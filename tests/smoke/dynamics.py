"""Chapter 5 at full scale: tiny LSTMs, the language models on a plain-text corpus
(``LM_DATA``: documents separated by blank lines, as in a Wikipedia text dump) and the taggers
and analyses on a UD-style CoNLL-U treebank (``DATA``: documents marked by ``newdoc id`` on
their first sentence only, no topic metadata, so each document is its own topic and is split
within itself, as the thesis splits its articles), every size tiny."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from utils.corpus import Corpus, generate, to_conllu

N_TRAIN, N_TEST = 120, 60


def parameters(workdir: Path) -> dict[str, object]:
    data = workdir / "treebank.conllu"
    corpus = generate("topics", n=N_TRAIN + N_TEST, seed=0, doc_len=10)
    ud = []
    for s in corpus:
        meta = {"sent_id": s.meta["sent_id"], "text": s.meta.get("text", " ".join(s.forms))}
        if s.meta["position"] == "0":
            meta = {"newdoc id": f"doc-{s.meta['doc_id']}", **meta}
        ud.append(replace(s, meta=meta))
    data.write_text(to_conllu(Corpus(ud)), encoding="utf-8")
    text = workdir / "wiki.txt"
    lm_corpus = generate("topics", n=200, seed=1, doc_len=10)
    documents = [
        "\n".join(" ".join(s.forms) for s in lm_corpus[start : start + 10])
        for start in range(0, len(lm_corpus), 10)
    ]
    text.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    return {
        "DATA": str(data), "LM_DATA": str(text), "LM_LAYOUT": "blank", "N_LM_TOKENS": 1500,
        "N_SENTENCES": N_TRAIN, "N_TEST": N_TEST, "MIN_COUNT": 1, "DIM": 8,
        "LM_EPOCHS": 2, "TAGGER_EPOCHS": 1, "N_CHECKPOINTS": 5, "BATCH": 4, "N_LMS": 2,
        "EVAL_TOKENS": 64, "PROBE_EPOCHS": 1, "MIN_OCCURRENCES": 1, "N_DRAWS": 2,
        "N_CD_SENTENCES": 2, "MIN_CASES": 2, "N_DI": 10, "N_UNTRAINED": 20, "DI_BATCH": 16,
        "K_VALUES": [4], "SCAFFOLD_VOCAB": 20, "N_SCAFFOLDS": 4, "RULES_PER_SCAFFOLD": 2,
        "SCAFFOLD_COPIES": 4, "N_ROWS": 40, "SCAFFOLD_EPOCHS": 1, "SCAFFOLD_DIM": 8,
        "N_EVAL": 8, "N_SCAFFOLD_CHECKPOINTS": 3, "RESTARTS": 1, "PAGE_FRAMES": 1,
    }  # fmt: skip
