"""Benchmark: a masked training step on the cached bottom layers against the full forward pass.

One step of weight-mask training (both factors, forward and backward, ``batch`` triplets of
reviews) run two ways: the whole encoder from the token ids every step, with the masks
installed in its top layers; and only the masked top layers on the cached output of the
frozen bottom ones. Run as ``python tests/bench_masks.py [n_masked]``; prints both timings and
the ratio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utils.corpus import generate  # noqa: E402
from utils.disentangle import disentangled_triplet_loss  # noqa: E402
from utils.frozen_bottom import encode_bottom, encoder_layers, mean_pool, run_layers  # noqa: E402
from utils.masks import FactorMasks, apply_masks  # noqa: E402
from utils.models import load_encoder  # noqa: E402


def main(n_masked: int = 2, batch: int = 8, repeats: int = 5) -> None:
    model, tokenizer = load_encoder("minilm")
    model.requires_grad_(False)
    sentences = generate("reviews", n=3 * batch, seed=0).words()
    start = len(encoder_layers(model)) - n_masked
    top = encoder_layers(model)[start:]
    masks = FactorMasks(top, "weights")
    enc = tokenizer(sentences, is_split_into_words=True, padding=True, return_tensors="pt")

    def step(forward) -> None:
        z = []
        for factor in (0, 1):
            with apply_masks(top, masks, factor):
                z.append(forward())
        n = len(sentences) // 3
        loss = disentangled_triplet_loss(z[0].view(3, n, -1), z[1].view(3, n, -1))
        masks.zero_grad()
        loss.backward()

    def full() -> torch.Tensor:
        out = model(**enc).last_hidden_state
        return mean_pool(out, enc["attention_mask"])

    bottom = encode_bottom(model, tokenizer, sentences, start, progress=False)
    hidden, attention = bottom.batch(range(len(sentences)))

    def cached() -> torch.Tensor:
        return mean_pool(run_layers(top, hidden, attention), attention)

    timings = {}
    for name, forward in (("full forward pass", full), ("cached bottom + masked top", cached)):
        step(forward)  # warm-up
        begin = time.perf_counter()
        for _ in range(repeats):
            step(forward)
        timings[name] = (time.perf_counter() - begin) / repeats
    slow, fast = timings.values()
    print(
        f"one training step: {batch} triplets ({3 * batch} reviews), both factors, top "
        f"{n_masked} of {len(encoder_layers(model))} layers masked"
    )
    print(f"full forward pass:          {slow:7.3f} s")
    print(f"cached bottom + masked top: {fast:7.3f} s")
    print(f"speed-up:                   {slow / fast:7.1f}x")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
