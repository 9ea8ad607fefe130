"""Benchmark: Contextual Decomposition of 64 (sentence, focus span) rows of a two-layer LSTM,
batched over rows (one step at a time, every layer per step), against the per-sequence,
per-step reference loop.

Run as ``python tests/bench_decomposition.py``; prints both timings and the ratio.
"""

from __future__ import annotations

import os

# one thread for both sides: the ratio measures batching, not threading
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_decomposition import naive_cd  # noqa: E402
from utils.decomposition import contextual_decomposition, span_focus  # noqa: E402
from utils.lstm import LSTMNetwork  # noqa: E402


def main(rows: int = 64, steps: int = 20, hidden: int = 64) -> None:
    torch.manual_seed(0)
    model = LSTMNetwork(
        vocab_size=500, n_outputs=500, embedding_dim=hidden, hidden_dim=hidden, n_layers=2
    ).eval()
    tokens = torch.randint(0, 500, (rows, steps))
    starts = torch.randint(0, steps - 3, (rows,))
    focus = span_focus(steps, starts, starts + 2)

    start = time.perf_counter()
    looped = [
        naive_cd(model, tokens[r].tolist(), set(range(s, s + 3)))[0]
        for r, s in enumerate(starts.tolist())
    ]
    t_loop = time.perf_counter() - start
    start = time.perf_counter()
    batched = contextual_decomposition(model, tokens, focus)
    t_batch = time.perf_counter() - start

    assert torch.allclose(batched.relevant.transpose(0, 1), torch.stack(looped), atol=1e-8)
    print(f"{rows} rows x {steps} steps, 2 layers of {hidden} units, float64")
    print(f"one sequence and step at a time: {t_loop:7.3f} s")
    print(f"batched over rows:               {t_batch:7.3f} s")
    print(f"speed-up:                        {t_loop / t_batch:7.1f}x")


if __name__ == "__main__":
    main()
