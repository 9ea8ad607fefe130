"""Benchmark: batched, length-bucketed activation extraction against one sentence at a time.

Run as ``python tests/bench_activations.py [N_SENTENCES]``; prints both timings and the ratio.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.naive import word_activations_one_by_one  # noqa: E402
from utils.activations import extract_activations  # noqa: E402
from utils.models import load_encoder  # noqa: E402


def main(n_sentences: int = 300) -> None:
    model, tokenizer = load_encoder("minilm")
    rng = random.Random(0)
    vocab = [w for w in tokenizer.get_vocab() if w.isalpha() and w.islower() and len(w) > 2]
    sentences = [rng.sample(vocab, rng.randint(5, 40)) for _ in range(n_sentences)]
    n_words = sum(map(len, sentences))

    start = time.perf_counter()
    batched = extract_activations(model, tokenizer, sentences, progress=False)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    naive = word_activations_one_by_one(model, tokenizer, sentences)
    t_naive = time.perf_counter() - start

    assert torch.allclose(batched.values, naive, atol=1e-4)
    print(f"{n_sentences} sentences, {n_words} words, {torch.get_num_threads()} threads")
    print(f"one sentence at a time: {t_naive:7.2f} s")
    print(f"batched + bucketed:     {t_batched:7.2f} s")
    print(f"speed-up:               {t_naive / t_batched:7.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
