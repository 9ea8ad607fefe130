"""Run-time choices every chapter makes: the device, the seeds, the scale and the threads."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

SCALES = ("ci", "default", "full")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into a :class:`torch.device`.

    ``"auto"`` picks CUDA when a GPU is visible and the CPU otherwise. Asking for CUDA on a
    machine without it is an error rather than a silent fall-back to the CPU.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(
            f"unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but no CUDA device is available")
    return resolved


def limit_cpu_threads(
    device: torch.device, scale: str, *, threads_below_full: int | None = 1
) -> int:
    """Set PyTorch's CPU threads for a chapter and return their number: ``$BOOK_THREADS``
    when set; else, on the CPU below full scale, ``threads_below_full`` (one by default: the
    book's small models spend a second thread waiting, and on a shared laptop core it slows
    every other job; ``None`` for a chapter whose training gains from every core); else the
    library's default.
    """
    threads = os.environ.get("BOOK_THREADS")
    if threads is not None:
        if not threads.isdigit() or int(threads) < 1:
            raise ValueError(f"BOOK_THREADS must be a positive integer, got {threads!r}")
        torch.set_num_threads(int(threads))
    elif (
        threads_below_full is not None
        and torch.device(device).type == "cpu"
        and check_scale(scale) != "full"
    ):
        torch.set_num_threads(threads_below_full)
    return torch.get_num_threads()


def seed_everything(seed: int, *, deterministic: bool = False) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and CUDA) from one integer.

    Parameters
    ----------
    seed
        A non-negative integer.
    deterministic
        Also ask PyTorch for deterministic kernels (slower on GPU; exact reruns).

    Returns
    -------
    numpy.random.Generator
        A fresh generator seeded with ``seed``, for code that prefers explicit generators.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeding the legacy global state is the point)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return np.random.default_rng(seed)


def check_scale(scale: str) -> str:
    """Return ``scale`` if it is one of :data:`SCALES`, else raise a ValueError naming them."""
    if scale not in SCALES:
        raise ValueError(f"unknown SCALE {scale!r}: choose one of {', '.join(SCALES)}")
    return scale


def fill_scale_defaults(
    namespace: dict[str, Any], table: Mapping[str, Mapping[str, Any]], scale: str
) -> dict[str, Any]:
    """Give each knob that a chapter's parameters cell left ``None`` its value at ``scale``.

    A chapter's parameters cell declares every size and hyperparameter as ``NAME = None`` and
    gives their values per scale in one table, ``BY_SCALE = {"ci": {...}, "default": {...},
    "full": {...}}``. A value set in the cell, or with ``-p NAME=VALUE``, is kept as given; the
    others take ``BY_SCALE[scale]``.

    Parameters
    ----------
    namespace
        The chapter's globals (``globals()``), updated in place.
    table
        The per-scale defaults (the chapter's ``BY_SCALE``); every scale names the same knobs.
    scale
        One of :data:`SCALES`.

    Returns
    -------
    dict
        Every knob of the table with the value the run uses, for the run's record.
    """
    check_scale(scale)
    names = set(table.get(scale, {}))
    for other, values in table.items():
        if set(values) != names:
            diff = sorted(set(values) ^ names)
            raise ValueError(f"BY_SCALE[{other!r}] and BY_SCALE[{scale!r}] differ in {diff}")
    undeclared = sorted(name for name in names if name not in namespace)
    if undeclared:
        raise ValueError(
            f"BY_SCALE names {undeclared}, which the parameters cell does not declare: add "
            "them there as NAME = None so that -p can set them"
        )
    for name in names:
        if namespace[name] is None:
            namespace[name] = table[scale][name]
    return {name: namespace[name] for name in table[scale]}
