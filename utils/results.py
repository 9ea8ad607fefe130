"""Recording a chapter's headline numbers and the outcome of its claims as JSON.

A chapter creates one :class:`Results` near the top and calls :meth:`Results.number` for
each headline number and :meth:`Results.claim` in each claim cell::

    results = Results("toolkit", scale=SCALE, seed=SEED)
    results.number("probe_accuracy", acc)
    assert results.claim("a probe beats the majority baseline", acc > majority, acc=acc)

Each call rewrites ``$BOOK_RESULTS_DIR/CHAPTER.json`` atomically (default: the ``results``
folder of the cache), so whatever a run reached is on disk even if a later cell fails. The
replication runner reads that file and prints it beside the paper's published numbers.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from utils.cache import atomic_write, cache_dir
from utils.runtime import check_scale

ENV_VAR = "BOOK_RESULTS_DIR"


def results_dir() -> Path:
    """Where chapters write their JSON: ``$BOOK_RESULTS_DIR``, else ``<cache>/results``."""
    folder = os.environ.get(ENV_VAR)
    return Path(folder).expanduser() if folder else cache_dir() / "results"


def _plain(value: Any) -> Any:
    """Convert numpy/torch scalars and arrays to JSON-ready Python values."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class Results:
    """The numbers and claims of one chapter run, mirrored to a JSON file after every change.

    Parameters
    ----------
    chapter
        The chapter's runner name, e.g. ``"diffmask"``; names the JSON file.
    scale
        The SCALE the chapter ran at.
    **settings
        Anything else that identifies the run (seed, device, model name, ...).
    """

    def __init__(self, chapter: str, scale: str, **settings: Any) -> None:
        self.chapter = chapter
        self.path = results_dir() / f"{chapter}.json"
        self.data: dict[str, Any] = {
            "chapter": chapter,
            "scale": check_scale(scale),
            "settings": _plain(settings),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "numbers": {},
            "claims": [],
        }
        self._save()

    def number(self, name: str, value: Any, **context: Any) -> Any:
        """Record a headline number (a scalar, or a small list/dict of them); return it."""
        entry = {"value": _plain(value)}
        if context:
            entry["context"] = _plain(context)
        self.data["numbers"][name] = entry
        self._save()
        return value

    def claim(self, text: str, holds: bool, **measured: Any) -> bool:
        """Record whether a claim of the paper held in this run, with the measured evidence.

        Returns ``holds`` so that a claim cell reads ``assert results.claim(...)``. A claim
        that was investigated and did not reproduce is recorded without the assert, and the
        chapter explains it in its "What did not reproduce" section.
        """
        holds = bool(holds)
        self.data["claims"] = [c for c in self.data["claims"] if c["claim"] != text]
        self.data["claims"].append({"claim": text, "holds": holds, "measured": _plain(measured)})
        self._save()
        return holds

    def _save(self) -> None:
        self.data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        text = json.dumps(self.data, indent=1, sort_keys=False)
        atomic_write(self.path, lambda fh: fh.write(text.encode()))


def read_results(chapter: str, folder: Path | None = None) -> dict[str, Any]:
    """Read what a chapter recorded; a clear error if it has not run yet."""
    path = (folder or results_dir()) / f"{chapter}.json"
    if not path.exists():
        raise FileNotFoundError(f"no recorded results for chapter {chapter!r} at {path}")
    return json.loads(path.read_text())
