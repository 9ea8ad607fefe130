"""Benchmark the split model of the intervention evaluation against the whole model per edit.

Run as ``python tests/bench_neuron_edits.py``; prints both timings and the ratio. The task is
one intervention sweep as the chapter runs it: 40 sentences of the generated corpus, the
embedded MiniLM edited at layer 1, translation of 30 random neurons at 12 values of k plus the
unedited prediction. The reference runs the whole model once per edit, the edit applied by a
forward hook; :class:`utils.neuron_edits.SplitModel` runs the bottom once and the top on
length-bucketed stacks of edited states, and gives the same words.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.naive import predicted_ids_with_hook, words_from_ids  # noqa: E402
from utils.corpus import generate  # noqa: E402
from utils.models import load_encoder  # noqa: E402
from utils.neuron_edits import (  # noqa: E402
    SplitModel,
    WordDecoder,
    tokenize_words,
    translation,
    translation_coefficients,
)


def main(n_sentences: int = 40, layer: int = 1, ks: range = range(0, 120, 10)) -> None:
    torch.set_num_threads(1)
    model, tokenizer = load_encoder("minilm")
    sentences = generate("english", n=n_sentences, seed=0).words()
    batch = tokenize_words(tokenizer, sentences)
    gen = torch.Generator().manual_seed(0)
    edited_words = [(torch.rand(len(s), generator=gen) < 0.3).long() - 1 for s in sentences]
    labels = batch.spread([row.tolist() for row in edited_words])  # 0 on ~30% of words
    d = model.config.hidden_size
    torch.manual_seed(0)
    decoder = WordDecoder(model.get_input_embeddings().weight, torch.arange(4000)).eval()
    ranking = torch.randperm(d, generator=gen)
    alpha = translation_coefficients(ranking, d, beta=4.0)
    means = torch.randn(2, d, generator=gen)
    edits = [None] + [translation(labels, ranking[:k], alpha, means) for k in ks if k > 0]
    print(
        f"{n_sentences} sentences, MiniLM edited at layer {layer}, {len(edits)} edits, 1 thread\n"
    )

    start = time.perf_counter()
    split = SplitModel(model, decoder, tokenizer, batch, layer)
    words = split.predict(edits)
    t_split = time.perf_counter() - start
    start = time.perf_counter()
    reference = [
        predicted_ids_with_hook(model, decoder, batch, layer, e or (lambda h: h)) for e in edits
    ]
    t_whole = time.perf_counter() - start
    agree = words == [words_from_ids(tokenizer, batch, ids) for ids in reference]
    print(
        f"whole model per edit: {t_whole:8.2f} s\nsplit model:          {t_split:8.2f} s\n"
        f"speed-up:             {t_whole / t_split:8.1f}x\n"
        f"same words as the reference: {agree}"
    )


if __name__ == "__main__":
    main()
