"""Benchmark: SVCCA of 24 (checkpoint, layer) views against one tagger view, batched, against
the plain numpy reference run one pair at a time.

Run as ``python tests/bench_svcca.py``; prints both timings and the ratio.
"""

from __future__ import annotations

import os

# one thread for both sides: the ratio measures batching, not threading
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_svcca import numpy_svcca  # noqa: E402
from utils.svcca import svcca  # noqa: E402


def main(n_views: int = 24, n: int = 5000, d: int = 64) -> None:
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(n, 16))
    views = np.stack(
        [shared @ rng.normal(size=(16, d)) + rng.normal(size=(n, d)) for _ in range(n_views)]
    )
    tagger = shared @ rng.normal(size=(16, d)) + rng.normal(size=(n, d))

    start = time.perf_counter()
    looped = [numpy_svcca(view, tagger).mean() for view in views]
    t_loop = time.perf_counter() - start
    start = time.perf_counter()
    batched = svcca(torch.from_numpy(views), torch.from_numpy(tagger))
    t_batch = time.perf_counter() - start

    assert np.allclose(batched.numpy(), looped, atol=1e-4)
    print(f"{n_views} view pairs, {n} tokens x {d} units")
    print(f"numpy, one pair at a time: {t_loop:7.3f} s")
    print(f"batched torch:             {t_batch:7.3f} s")
    print(f"speed-up:                  {t_loop / t_batch:7.1f}x")


if __name__ == "__main__":
    main()
