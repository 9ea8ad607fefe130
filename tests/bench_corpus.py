"""Benchmark of utils.corpus (a plain script, not collected by pytest).

Run as ``python tests/bench_corpus.py [N]``; prints the time to generate N sentences
(100,000 by default; the target is under 30 s on one core) and to write them as CoNLL-U.
"""

from __future__ import annotations

import sys
import time

from utils.corpus import TASKS, generate, to_conllu

SMALL = {"scaffold": {"n_scaffolds": 20, "rules_per_scaffold": 5}}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    generate("english", 10, 0)  # build the lexicon once
    t0 = time.perf_counter()
    corpus = generate("english", n, 0)
    t1 = time.perf_counter()
    text = to_conllu(corpus)
    t2 = time.perf_counter()
    print(
        f"english: {n} sentences, {corpus.n_tokens} tokens: generate {t1 - t0:.2f} s "
        f"({n / (t1 - t0):,.0f} sentences/s), to_conllu {t2 - t1:.2f} s "
        f"({len(text) / 1e6:.0f} MB); target < 30 s: {'OK' if t1 - t0 < 30 else 'SLOW'}"
    )
    for task in TASKS:
        m = 10_000
        t0 = time.perf_counter()
        generate(task, m, 0, **SMALL.get(task, {}))
        print(f"{task:>10s}: {m} items in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
