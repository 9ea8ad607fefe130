"""Peak memory of every chapter's heavy kernels at 1x, 2x and 4x tokens and neurons.

Each measurement runs in a fresh process: the inputs are built, the peak is reset (the
process's resident-set high-water mark on the CPU, ``torch.cuda.reset_peak_memory_stats`` on a
GPU), the kernel runs, and what it added on top of its inputs is its peak. Scaling tokens and
neurons together by ``s``, a tensor of one data dimension grows ``s`` times, a product of two
``s**2`` times (a neuron-by-neuron covariance), a product of three ``s**3`` times: the last is
what the book forbids. The script exits 1 when a kernel grows faster than ``1.5 * s**2``.

Run ``python tests/bench_memory.py [--device cuda] [NAME ...]``.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACTORS = (1, 2, 4)
TOLERANCE = 1.5  # allowed growth over s**2 (allocator granularity, constant buffers)


def kernels() -> dict[str, tuple]:
    import tests.memory

    found = {}
    for info in pkgutil.iter_modules(tests.memory.__path__):
        module = importlib.import_module(f"tests.memory.{info.name}")
        for name, kernel in module.KERNELS.items():
            found[f"{info.name}.{name}"] = kernel
    return found


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _measure(name: str, factor: int, device: str, queue) -> None:
    import torch

    torch.set_num_threads(1)
    setup, run, (n_tokens, n_neurons) = kernels()[name]
    inputs = setup(n_tokens * factor, n_neurons * factor, device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        run(inputs)
        torch.cuda.synchronize()
        queue.put(torch.cuda.max_memory_allocated() - before)
    else:
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
        before = _rss_kib("VmRSS")
        run(inputs)
        queue.put((_rss_kib("VmHWM") - before) * 1024)


def measure(name: str, factor: int, device: str) -> int:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(name, factor, device, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{name} at {factor}x failed (exit {process.exitcode})")
    return queue.get()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="kernels to measure (default: all)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    names = args.names or sorted(kernels())
    print(f"peak memory added by each kernel ({args.device}), tokens and neurons scaled by s")
    print(f"{'kernel':40s} " + " ".join(f"{f'{s}x MiB':>10s}" for s in FACTORS) + "  growth")
    failed = []
    for name in names:
        peaks = [max(measure(name, s, args.device), 1) for s in FACTORS]
        growth = peaks[-1] / peaks[0]
        bad = growth > TOLERANCE * FACTORS[-1] ** 2
        failed += [name] * bad
        cells = " ".join(f"{p / 2**20:10.1f}" for p in peaks)
        print(f"{name:40s} {cells}  {growth:5.1f}x{'  FASTER THAN s**2' if bad else ''}")
    if failed:
        print(f"memory grows faster than s**2 in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
