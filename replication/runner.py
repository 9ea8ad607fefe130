"""Execute a chapter notebook with papermill and print its numbers beside the paper's.

A chapter is ``book/NN_NAME.ipynb``; its runner name is ``NAME``. The chapter writes its
headline numbers and claims through :class:`utils.results.Results` into the folder given by
``BOOK_RESULTS_DIR``, which the runner points at the run's output folder. The paper's
published numbers live in ``replication/published/NAME.json`` under the same keys.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from utils.results import read_results
from utils.runtime import check_scale, resolve_device

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PUBLISHED = Path(__file__).resolve().parent / "published"
DEVICES = ("auto", "cpu", "cuda")


def chapters() -> dict[str, Path]:
    """Runner name -> notebook, for every ``book/NN_NAME.ipynb``."""
    found = {}
    for path in sorted(BOOK.glob("[0-9][0-9]_*.ipynb")):
        found[path.stem.split("_", 1)[1]] = path
    return found


def notebook_for(chapter: str) -> Path:
    """The notebook of a chapter; an unknown name is an error listing the known ones."""
    known = chapters()
    if chapter not in known:
        raise ValueError(f"unknown chapter {chapter!r}: choose one of {', '.join(known)}")
    return known[chapter]


def published(chapter: str) -> dict[str, Any]:
    """The paper's published numbers for a chapter (empty if the chapter has no paper)."""
    path = PUBLISHED / f"{chapter}.json"
    if not path.exists():
        return {"paper": None, "numbers": {}}
    return json.loads(path.read_text())


def default_output(chapter: str, scale: str) -> Path:
    """Where a run's executed notebook and JSON go unless told otherwise."""
    return ROOT / "replication" / "runs" / f"{chapter}-{scale}"


def run(
    chapter: str,
    scale: str = "ci",
    device: str = "auto",
    seed: int = 0,
    output: Path | None = None,
    parameters: dict[str, Any] | None = None,
) -> Path:
    """Execute a chapter headless; return the folder holding its executed notebook and JSON.

    Parameters are passed twice: as papermill parameters (injected after the chapter's
    ``parameters`` cell) and as ``BOOK_SCALE``/``BOOK_DEVICE``/``BOOK_SEED`` in the kernel's
    environment, so that the chapter sees them whichever way it reads them. ``parameters``
    sets other variables of the chapter's parameters cell, e.g. ``{"MODEL": "bert-base-cased"}``.
    """
    import papermill

    notebook = notebook_for(chapter)
    check_scale(scale)
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    resolve_device(device)  # fails now, not inside the kernel, if CUDA is missing
    output = Path(output) if output else default_output(chapter, scale)
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{chapter}.json").unlink(missing_ok=True)

    env = {"BOOK_SCALE": scale, "BOOK_DEVICE": device, "BOOK_SEED": str(seed)}
    env["BOOK_RESULTS_DIR"] = str(output.resolve())
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output / notebook.name),
            parameters={**(parameters or {}), "SCALE": scale, "DEVICE": device, "SEED": seed},
            cwd=str(BOOK),
            kernel_name="python3",
            progress_bar=True,
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return output


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "-"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        value = "[" + ", ".join(_fmt(v) for v in value) + "]"
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def report(chapter: str, folder: Path) -> str:
    """The side-by-side table of a finished run: our numbers, the paper's, and the claims."""
    ours = read_results(chapter, folder)
    paper = published(chapter)
    lines = [
        f"chapter {chapter!r} at scale {ours['scale']!r} ({ours.get('updated', '?')})",
        f"paper: {paper.get('paper') or '(none: this chapter has no paper)'}",
        "",
    ]
    keys = list(ours["numbers"]) + [k for k in paper["numbers"] if k not in ours["numbers"]]
    if keys:
        width = max(len(k) for k in keys)
        lines.append(f"{'number':<{width}}  {'ours':>12}  {'paper':>12}  source")
        for key in keys:
            mine = ours["numbers"].get(key, {}).get("value")
            theirs = paper["numbers"].get(key, {})
            lines.append(
                f"{key:<{width}}  {_fmt(mine):>12}  {_fmt(theirs.get('value')):>12}  "
                f"{theirs.get('source', '')}"
            )
    claims = ours["claims"]
    if claims:
        held = sum(c["holds"] for c in claims)
        lines += ["", f"claims: {held} of {len(claims)} reproduced"]
        for c in claims:
            lines.append(f"  [{'yes' if c['holds'] else 'NO '}] {c['claim']}")
    return "\n".join(lines)


def run_and_report(
    chapter: str,
    scale: str,
    device: str,
    seed: int,
    output: Path | None,
    parameters: dict[str, Any] | None = None,
) -> int:
    """The command-line action: run, then print the report (also after a failed run)."""
    import papermill

    start = time.perf_counter()
    status = 0
    folder = output or default_output(chapter, scale)
    try:
        run(chapter, scale, device, seed, folder, parameters)
    except papermill.PapermillExecutionError as err:
        print(f"the chapter failed in cell {err.exec_count}: {err.ename}: {err.evalue}")
        status = 1
    print(f"\nran {chapter} at scale {scale} in {time.perf_counter() - start:.0f} s\n")
    try:
        print(report(chapter, folder))
    except FileNotFoundError as err:
        print(err)
        status = 1
    return status
