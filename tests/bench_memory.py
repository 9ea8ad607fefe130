"""Peak memory of every chapter's heavy kernels at 1x, 2x and 4x tokens and neurons.

Each measurement runs in a fresh process: the inputs are built and the kernel is called once
(its one-off costs), the peak is reset (the process's resident-set high-water mark on the CPU,
``torch.cuda.reset_peak_memory_stats`` on a GPU), the kernel runs again, and what it added on
top of its inputs is its peak. Scaling tokens and
neurons together by ``s``, a tensor of one data dimension grows ``s`` times, a product of two
``s**2`` times (a neuron-by-neuron covariance), a product of three ``s**3`` times: the last is
what the book forbids. The script exits 1 when a kernel grows faster than ``1.5 * s**2``.

A kernel with a third data dimension (K masks, G probes, V vocabulary entries, T time steps)
must scale it too, or a (K, N, D) tensor would grow like the inputs: such a kernel's setup
takes the factor itself (see :mod:`tests.memory`).

Run ``python tests/bench_memory.py [--device cuda] [NAME ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import multiprocessing
import os
import pkgutil
import queue as queue_module
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACTORS = (1, 2, 4)
TOLERANCE = 1.5  # allowed growth over s**2 (allocator granularity, constant buffers)


def kernels(where: str = "tests.memory") -> dict[str, tuple]:
    """``"module.name" -> (setup, run, base sizes)`` of every module of the package ``where``
    (or of the one module ``where``)."""
    package = importlib.import_module(where)
    modules = [package]
    if hasattr(package, "__path__"):
        modules = [
            importlib.import_module(f"{where}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)
        ]
    found = {}
    for module in modules:
        for name, kernel in getattr(module, "KERNELS", {}).items():
            found[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] = kernel
    return found


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


@contextlib.contextmanager
def _quiet():
    """Silence the process's stdout and stderr at the file-descriptor level (the tokenizers
    library's trainer writes there from native code)."""
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)


def _measure(name: str, factor: int, device: str, where: str, queue) -> None:
    import torch

    torch.set_num_threads(1)
    setup, run, *base = kernels(where)[name]
    with _quiet():
        if base:  # (n_tokens, n_neurons): those two scale
            inputs = setup(base[0][0] * factor, base[0][1] * factor, device)
        else:  # the kernel's setup scales every data dimension itself
            inputs = setup(factor, device)
        run(inputs)  # a first call pays the one-off costs (kernels loaded, buffers grown)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        run(inputs)
        torch.cuda.synchronize()
        queue.put(torch.cuda.max_memory_allocated() - before)
    else:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed heap pages back first
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
        before = _rss_kib("VmRSS")
        run(inputs)
        queue.put((_rss_kib("VmHWM") - before) * 1024)


def measure(name: str, factor: int, device: str = "cpu", where: str = "tests.memory") -> int:
    """Peak bytes that kernel ``name`` of ``where`` adds to its inputs at ``factor`` x its
    base sizes, measured in a fresh process."""
    os.environ.update(TQDM_DISABLE="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
                      TRANSFORMERS_VERBOSITY="error",
                      # blocks over 64 KiB are mapped and unmapped, not kept by malloc for
                      # reuse: the measured call cannot hide in memory the warm-up freed
                      MALLOC_MMAP_THRESHOLD_="65536")  # fmt: skip
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(name, factor, device, where, queue))
    process.start()
    # read before joining (a child with queued data exits only once it is read), and stop
    # waiting when the child is gone without a result
    peak = None
    while peak is None:
        alive = process.is_alive()
        try:
            peak = queue.get(timeout=1)
        except queue_module.Empty:
            if not alive:
                raise RuntimeError(
                    f"{name} at {factor}x failed (exit {process.exitcode})"
                ) from None
    process.join()
    return peak


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
        print(
            f"{name:40s} {cells}  {growth:5.1f}x{'  FASTER THAN s**2' if bad else ''}", flush=True
        )
    if failed:
        print(f"memory grows faster than s**2 in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
