"""Execute a chapter notebook with papermill and print its numbers beside the paper's.

A chapter is ``book/NN_NAME.ipynb``; its runner name is ``NAME``. The chapter writes its
headline numbers and claims through :class:`utils.results.Results` into the folder given by
``BOOK_RESULTS_DIR``, which the runner points at the run's output folder. The paper's
published numbers live in ``replication/published/NAME.json`` under the same keys.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from utils.cache import atomic_write
from utils.results import published, read_results, results_dir, verdict_counts
from utils.runtime import check_scale, resolve_device
from utils.verdicts import NOT_TESTED, VERDICTS

# papermill reads a parameters cell line by line; the lines of a chapter's multi-line BY_SCALE
# table are not parameters of their own, and its warning for each of them is noise
logging.getLogger("papermill.translators").setLevel(logging.ERROR)

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
DEVICES = ("auto", "cpu", "cuda")
RUN_STATUS = "run.json"  # written by run_and_report: ok or failed, and in which cell


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


def parameter_names(chapter: str) -> list[str]:
    """The variables a chapter's ``parameters`` cell defines (what ``-p`` can set)."""
    import papermill

    return list(papermill.inspect_notebook(str(notebook_for(chapter))))


def check_parameters(chapter: str, names: Iterable[str]) -> None:
    """A clear error for a ``-p NAME`` that the chapter's parameters cell does not define
    (papermill would inject it silently, and the chapter would never read it)."""
    known = parameter_names(chapter)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"{chapter} has no parameter {', '.join(map(repr, unknown))}: its parameters cell "
            f"defines {', '.join(known)}"
        )


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
    check_parameters(chapter, parameters or {})
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


GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)(?::[^`]*)?`")


def missing_glue(executed: Path) -> list[str]:
    """The ``{glue}`` keys an executed notebook's Markdown uses that no cell glued: each
    would render as nothing in the built book."""
    notebook = json.loads(Path(executed).read_text())
    glued = {
        output.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    }
    used = [
        key
        for cell in notebook["cells"]
        if cell["cell_type"] == "markdown"
        for key in GLUE_ROLE.findall("".join(cell["source"]))
    ]
    return sorted({key for key in used if key not in glued})


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "-"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        value = "[" + ", ".join(_fmt(v) for v in value) + "]"
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def _effect(claim: dict[str, Any]) -> str:
    """'0.12 [0.08, 0.15] n=3 (3 on the paper's side, 3 needed)', or '-' without
    measurements. A count one replicate from what the rule needs is a verdict that another
    draw of the data can change."""
    if "mean" not in claim:
        return "-"
    low, high = claim["interval"]
    text = f"{claim['mean']:.3g} [{low:.3g}, {high:.3g}] n={claim['n']}"
    if "on_side" in claim:
        text += f" ({claim['on_side']} on the paper's side, {claim['needed']} needed)"
    return text


def report(chapter: str, folder: Path) -> str:
    """The side-by-side table of a finished run: our numbers beside the paper's, then every
    claim of the paper's inventory with its verdict, effect, control and the paper's value."""
    return format_report(chapter, read_results(chapter, folder))


def format_report(chapter: str, ours: dict[str, Any]) -> str:
    """:func:`report` of recorded results ``ours`` (one run's, or a sweep's pooled ones)."""
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
    preconditions = ours.get("preconditions", {})
    lines += [""] if preconditions else []
    for name, pre in preconditions.items():
        state = "ok" if pre["ok"] else f"FAILED ({pre['advice']})"
        lines.append(f"precondition {name}: {state}")
    claims = claims_of_run(ours, paper)
    counts = verdict_counts(claims)
    lines += [
        "",
        f"claims: {len(claims)} in the inventory; "
        + ", ".join(f"{k}: {v}" for k, v in counts.items()),
    ]
    for c in claims:
        lines.append(f"  [{c['verdict']}] {c['id']}")
        if c["verdict"] == NOT_TESTED or "mean" not in c:
            lines.append(f"      why: {c.get('reason', '')}")
            continue
        control = c.get("control")
        against = "-"
        if control:
            against = f"{_effect(control)} ({'passes' if control['passes'] else 'fails'})"
        lines.append(f"      effect {_effect(c)}; control {against}; paper {_fmt(c.get('paper'))}")
        lines.append(f"      rule: {c['rule']}")
    return "\n".join(lines)


def claims_of_run(ours: dict[str, Any], paper: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's claim records in the inventory's order; an inventory claim the run never
    reached (it stopped early) is listed as not tested."""
    recorded = {c["id"]: c for c in ours.get("claims", []) if "id" in c}
    claims = []
    for entry in paper["claims"]:
        claims.append(
            recorded.pop(entry["id"], None)
            or {
                "id": entry["id"],
                "claim": entry["claim"],
                "verdict": NOT_TESTED,
                "reason": "the run stopped before this claim's cell",
            }
        )
    return claims + list(recorded.values())


def latest_results(chapter: str, scale: str | None = None) -> dict[str, Any] | None:
    """The most recent recorded run of a chapter (at ``scale`` if given): the replication
    runner's output folders and the results folder of the book build."""
    candidates = [results_dir() / f"{chapter}.json"]
    candidates += sorted((ROOT / "replication" / "runs").glob(f"*/{chapter}.json"))
    found = []
    for path in candidates:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("chapter") == chapter and scale in (None, data.get("scale")):
            found.append(data)
    return max(found, key=lambda d: d.get("updated", ""), default=None)


def summary(scale: str | None = None) -> list[dict[str, Any]]:
    """One row per chapter: the claims in its inventory and the counts of each verdict in
    its most recent run (``None`` counts for a chapter that has not run)."""
    rows = []
    for chapter in chapters():
        paper = published(chapter)
        run_data = latest_results(chapter, scale)
        row: dict[str, Any] = {"chapter": chapter, "inventory": len(paper["claims"])}
        if run_data is None:
            row.update({"scale": None, "updated": None, **dict.fromkeys(VERDICTS)})
        else:
            counts = verdict_counts(claims_of_run(run_data, paper))
            row.update({"scale": run_data["scale"], "updated": run_data.get("updated"), **counts})
        rows.append(row)
    return rows


def summary_table(rows: list[dict[str, Any]], markdown: bool = False) -> str:
    """The book's table of verdicts, as aligned text or as a Markdown table."""
    header = ["chapter", "scale", "claims", *VERDICTS]
    body = [
        [r["chapter"], r["scale"] or "not run", str(r["inventory"])]
        + ["-" if r[v] is None else str(r[v]) for v in VERDICTS]
        for r in rows
    ]
    totals = ["all", "", str(sum(r["inventory"] for r in rows))] + [
        str(sum(r[v] or 0 for r in rows)) for v in VERDICTS
    ]
    body.append(totals)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [header, *body]
    )


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
    folder = Path(output or default_output(chapter, scale))
    outcome: dict[str, Any] = {"status": "ok", "cell": None, "error": None}
    (folder / RUN_STATUS).unlink(missing_ok=True)
    try:
        run(chapter, scale, device, seed, folder, parameters)
    except papermill.PapermillExecutionError as err:
        print(f"the chapter failed in cell {err.exec_count}: {err.ename}: {err.evalue}")
        outcome = {
            "status": "failed",
            "cell": err.exec_count,
            "error": f"{err.ename}: {err.evalue}",
        }
        status = 1
    seconds = time.perf_counter() - start
    executed = folder / notebook_for(chapter).name
    if outcome["status"] == "ok" and executed.exists():
        missing = missing_glue(executed)
        if missing:
            print(f"the text uses numbers no cell glued: {', '.join(missing)}")
            outcome = {"status": "failed", "cell": None, "error": f"unglued: {missing}"}
            status = 1
    text = json.dumps({**outcome, "seconds": round(seconds, 1)}, indent=1)
    atomic_write(folder / RUN_STATUS, lambda fh: fh.write(text.encode()))
    print(f"\nran {chapter} at scale {scale} in {seconds:.0f} s\n")
    try:
        print(report(chapter, folder))
    except FileNotFoundError as err:
        print(err)
        status = 1
    return status
