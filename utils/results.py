"""Recording a chapter's headline numbers, preconditions and claim verdicts as JSON.

A chapter creates one :class:`Results` near the top. It reads the paper's inventory of claims
(``replication/published/CHAPTER.json``) and every call rewrites
``$BOOK_RESULTS_DIR/CHAPTER.json`` atomically (default: the ``results`` folder of the
cache), so whatever a run reached is on disk even if a later cell fails::

    results = Results("toolkit", scale=SCALE, seed=SEED)
    results.number("probe_accuracy", acc)    # also glued for the prose: {glue:text}`probe_accuracy`
    fit = results.precondition("probe_converged", loss_plateau < 0.01,
                               "train the probe for more epochs", plateau=loss_plateau)
    verdict = results.claim(
        "probe_beats_majority",                      # an id of the inventory
        effects=[a - m for a, m in zip(accs, majorities)],   # one per replicate
        rule=Rule(threshold=0.5, share=1.0),          # stated before the numbers are seen
        control=[a - m for a, m in zip(random_accs, majorities)],
        requires=["probe_converged"],
    )
    assert verdict                                   # only for claims shown stable across seeds
    results.finish()                                 # every other id: "not tested", with why

The verdicts and what is recorded beside them come from
:func:`utils.verdicts.decision_record`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from utils.cache import atomic_write, cache_dir
from utils.runtime import check_scale
from utils.verdicts import NOT_TESTED, VERDICTS, Rule, decision_record

ENV_VAR = "BOOK_RESULTS_DIR"


def results_dir() -> Path:
    """Where chapters write their JSON: ``$BOOK_RESULTS_DIR``, else ``<cache>/results``."""
    folder = os.environ.get(ENV_VAR)
    return Path(folder).expanduser() if folder else cache_dir() / "results"


def published(chapter: str) -> dict[str, Any]:
    """A paper's published numbers and claim inventory, ``replication/published/CHAPTER.json``
    (an empty record for a chapter without one)."""
    path = resources.files("replication") / "published" / f"{chapter}.json"
    if not path.is_file():
        return {"chapter": chapter, "paper": None, "numbers": {}, "claims": []}
    data = json.loads(path.read_text())
    data.setdefault("numbers", {})
    data.setdefault("claims", [])
    return data


def _plain(value: Any) -> Any:
    """Convert numpy/torch scalars and arrays to JSON-ready Python values."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def glue(name: str, value: Any) -> Any:
    """Make a number of this run available to the chapter's prose, written
    ``{glue:text}`name:.3f``` in a Markdown cell (myst-nb's glue, given plain Python values
    so that format specs apply); a no-op outside a notebook kernel. Returns ``value``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return value
    if get_ipython() is None:
        return value
    from myst_nb import glue as myst_glue

    myst_glue(name, _plain(value), display=False)
    return value


@dataclass(frozen=True)
class Verdict:
    """The recorded outcome of one claim. True (for ``assert``) only when reproduced."""

    id: str
    verdict: str
    reason: str = ""
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return self.verdict == "reproduced"

    def __str__(self) -> str:
        return f"[{self.verdict}] {self.id}" + (f": {self.reason}" if self.reason else "")


class Results:
    """The numbers, preconditions and claim verdicts of one chapter run, mirrored to JSON.

    Parameters
    ----------
    chapter
        The chapter's runner name, e.g. ``"diffmask"``; names the JSON file and the inventory.
    scale
        The SCALE the chapter ran at.
    **settings
        Anything else that identifies the run (seed, device, model name, ...).
    """

    def __init__(self, chapter: str, scale: str, **settings: Any) -> None:
        self.chapter = chapter
        self.path = results_dir() / f"{chapter}.json"
        self.published = published(chapter)
        self.inventory = {entry["id"]: entry for entry in self.published["claims"]}
        self.data: dict[str, Any] = {
            "chapter": chapter,
            "scale": check_scale(scale),
            "settings": _plain(settings),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "numbers": {},
            "preconditions": {},
            "claims": [],
        }
        self._save()

    # -- numbers ------------------------------------------------------------------------
    def number(self, name: str, value: Any, **context: Any) -> Any:
        """Record a headline number (a scalar, or a small list/dict of them) and glue it
        under ``name`` for the prose; return it."""
        entry = {"value": _plain(value)}
        if context:
            entry["context"] = _plain(context)
        self.data["numbers"][name] = entry
        self._save()
        return glue(name, value)

    def paper(self, name: str) -> Any:
        """The paper's published value of a number (``published/CHAPTER.json``)."""
        numbers = self.published["numbers"]
        if name not in numbers:
            raise KeyError(f"{self.chapter}: the paper has no published number {name!r}")
        return numbers[name]["value"]

    # -- preconditions --------------------------------------------------------------------
    def precondition(self, name: str, ok: bool, advice: str, **measured: Any) -> bool:
        """Record whether what a method analyses is fit (a model learned the behaviour, a
        probe converged, masks moved). A claim that ``requires`` a failed precondition is
        recorded as not tested, with ``advice`` (what to change) as the reason."""
        self.data["preconditions"][name] = {
            "ok": bool(ok),
            "advice": advice,
            "measured": _plain(measured),
        }
        self._save()
        return bool(ok)

    # -- claims ---------------------------------------------------------------------------
    def _entry(self, claim_id: str) -> dict[str, Any]:
        if claim_id not in self.inventory:
            known = ", ".join(self.inventory) or "(none)"
            raise ValueError(
                f"{self.chapter}: {claim_id!r} is not a claim of the inventory in "
                f"replication/published/{self.chapter}.json; its ids are: {known}"
            )
        return self.inventory[claim_id]

    def _record(self, claim_id: str, record: dict[str, Any]) -> Verdict:
        entry = self._entry(claim_id)
        record = {"id": claim_id, "claim": entry["claim"], **record}
        record = _plain(record)
        self.data["claims"] = [c for c in self.data["claims"] if c["id"] != claim_id]
        self.data["claims"].append(record)
        self._save()
        return Verdict(claim_id, record["verdict"], record.get("reason", ""), record)

    def claim(
        self,
        claim_id: str,
        effects: Sequence[float],
        rule: Rule,
        *,
        control: Sequence[float] | None = None,
        requires: Sequence[str] = (),
        paper: Any = None,
        **measured: Any,
    ) -> Verdict:
        """Decide and record a claim of the inventory from its replicates.

        Parameters
        ----------
        claim_id
            The claim's ``id`` in ``replication/published/CHAPTER.json``.
        effects
            One measured effect per replicate (model seed, data seed, random draw), oriented
            as the rule reads it.
        rule
            The decision rule, stated in the cell before the numbers are seen.
        control
            The negative control's effects, measured the same way: if they pass the rule
            too, the claim is "not discriminating".
        requires
            Names of preconditions (:meth:`precondition`); if one failed or was never
            checked, the claim is "not tested" and says why.
        paper
            The paper's own value, shown beside ours in reports.
        **measured
            Any further evidence worth keeping (per-replicate details, sizes).
        """
        failed = [name for name in requires if not self.precondition_ok(name)]
        if failed:
            reasons = [self._precondition_reason(name) for name in failed]
            # what was measured on the unfit setup is kept, but decides nothing
            unfit = {"effects": list(effects), "control": control}
            return self._record(
                claim_id,
                {
                    "verdict": NOT_TESTED,
                    "reason": "; ".join(reasons),
                    "paper": paper,
                    "requires": list(requires),
                    "measured": {**measured, "unfit": unfit},
                },
            )
        record = {
            **decision_record(effects, rule, control),
            "paper": paper,
            "requires": list(requires),
            "measured": measured,
        }
        return self._record(claim_id, record)

    def not_tested(self, claim_id: str, reason: str, **measured: Any) -> Verdict:
        """Record that a claim of the inventory is not tested in this run, and why."""
        if not reason:
            raise ValueError(f"{claim_id}: say why the claim is not tested")
        return self._record(
            claim_id, {"verdict": NOT_TESTED, "reason": reason, "measured": measured}
        )

    def precondition_ok(self, name: str) -> bool:
        """Whether precondition ``name`` was checked and held."""
        return bool(self.data["preconditions"].get(name, {}).get("ok", False))

    def _precondition_reason(self, name: str) -> str:
        entry = self.data["preconditions"].get(name)
        if entry is None:
            return f"precondition {name!r} was never checked"
        return f"precondition {name!r} failed: {entry['advice']}"

    def verdicts(self) -> VerdictTable:
        """The verdicts so far, every claim of the inventory listed (one without a verdict
        yet with its ``not_tested`` reason), without recording anything: for a chapter's
        text before its last cell."""
        recorded = {c["id"]: c for c in self.data["claims"]}
        return VerdictTable(
            [
                recorded.get(claim_id)
                or {
                    "id": claim_id,
                    "claim": entry["claim"],
                    "verdict": NOT_TESTED,
                    "reason": self._reason(entry),
                }
                for claim_id, entry in self.inventory.items()
            ]
        )

    @staticmethod
    def _reason(entry: dict[str, Any]) -> str:
        return entry.get("not_tested") or "this chapter has no claim cell for it yet"

    def finish(self) -> VerdictTable:
        """Record every claim of the inventory that has no verdict yet as not tested (with
        the inventory's ``not_tested`` reason), and return the chapter's table of verdicts."""
        seen = {c["id"] for c in self.data["claims"]}
        for claim_id, entry in self.inventory.items():
            if claim_id not in seen:
                self.not_tested(claim_id, self._reason(entry))
        order = list(self.inventory)
        self.data["claims"].sort(key=lambda c: order.index(c["id"]))
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self._save()
        return VerdictTable(self.data["claims"])

    def _save(self) -> None:
        self.data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        text = json.dumps(self.data, indent=1, sort_keys=False)
        atomic_write(self.path, lambda fh: fh.write(text.encode()))


def verdict_counts(claims: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many claims have each verdict (every verdict listed, zeros included)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for claim in claims:
        counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    return counts


class VerdictTable:
    """A chapter's verdicts, shown as a table in a notebook (Markdown) or as text."""

    def __init__(self, claims: Sequence[dict[str, Any]]) -> None:
        self.claims = list(claims)

    def counts(self) -> dict[str, int]:
        return verdict_counts(self.claims)

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for c in self.claims:
            if c["verdict"] == NOT_TESTED or "mean" not in c:
                evidence = c.get("reason", "")
            else:
                low, high = c["interval"]
                evidence = f"{c['mean']:.3g} [{low:.3g}, {high:.3g}]"
                if "on_side" in c:
                    evidence += (
                        f", {c['on_side']} of {c['n']} on the paper's side, {c['needed']} needed"
                    )
                else:
                    evidence += f" over {c['n']}"
                if c.get("control"):
                    evidence += f"; control {c['control']['mean']:.3g}"
            rows.append((c["verdict"], c["id"], evidence))
        return rows

    def __str__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.counts().items())
        lines = [f"{len(self.claims)} claims ({counts})"]
        lines += [f"  [{v}] {i}: {e}" for v, i, e in self._rows()]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        counts = ", ".join(f"{k}: **{v}**" for k, v in self.counts().items())
        lines = [
            f"{len(self.claims)} claims ({counts})",
            "",
            "| verdict | claim | evidence |",
            "|---|---|---|",
        ]
        lines += [f"| {v} | `{i}` | {e.replace('|', '/')} |" for v, i, e in self._rows()]
        return "\n".join(lines)


def read_results(chapter: str, folder: Path | None = None) -> dict[str, Any]:
    """Read what a chapter recorded; a clear error if it has not run yet."""
    path = (folder or results_dir()) / f"{chapter}.json"
    if not path.exists():
        raise FileNotFoundError(f"no recorded results for chapter {chapter!r} at {path}")
    return json.loads(path.read_text())
