"""Peak-memory estimates a chapter prints before a large run: the few big tensors it will
hold, against what the device has."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from math import prod

import torch


def tensor_bytes(*shape: int, dtype: torch.dtype = torch.float32) -> int:
    """Bytes of a dense tensor of ``shape`` and ``dtype``."""
    return prod(int(s) for s in shape) * torch.empty((), dtype=dtype).element_size()


def device_memory(device: str | torch.device) -> int:
    """Total memory of ``device`` in bytes: the GPU's, or the machine's RAM for the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def report_memory(parts: Mapping[str, int], device: str | torch.device) -> int:
    """Print an estimate of a run's peak memory on ``device``, part by part, and return it.

    Parameters
    ----------
    parts
        Name of each large tensor (or group of tensors alive at the same time) -> bytes, e.g.
        ``{"activations (N, L, D)": tensor_bytes(n, layers, d)}``. The estimate is their sum.
    device
        Where they live; a total over its memory is a warning, raised before the run starts.
    """
    total = sum(parts.values())
    available = device_memory(device)
    width = max(len(name) for name in parts) if parts else 0
    print(f"estimated peak memory on {device}:")
    for name, size in parts.items():
        print(f"  {name.ljust(width)}  {size / 2**30:8.3f} GiB")
    print(f"  {'total'.ljust(width)}  {total / 2**30:8.3f} GiB of {available / 2**30:.1f} GiB")
    if total > available:
        warnings.warn(
            f"the run needs about {total / 2**30:.1f} GiB on {device}, which has "
            f"{available / 2**30:.1f} GiB: lower the sizes in the parameters cell",
            stacklevel=2,
        )
    return total
