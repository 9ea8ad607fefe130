"""Sweeps: one chapter over a grid of seeds and parameter values, run as independent jobs on
Dask, with one verdict per claim over the replicates of every job.

Each job is ``python -m replication run CHAPTER ...`` in a process of its own, with its own
output folder (``seed=1,MODEL=bert-base-cased/``) holding the executed notebook, the recorded
JSON, the log, and ``job.json``, written last and atomically: what ran, its status and, for a
failed job, its error and the cell it failed in. A job is *complete* when its chapter reached
``results.finish()`` and the runner recorded success; a rerun of the same sweep skips
complete jobs, so a killed or failed job is simply run again.

Engines (all Dask): ``local`` starts a ``LocalCluster`` of worker processes on this machine
(one per GPU with ``--device cuda``), ``slurm`` and ``pbs`` submit workers as batch jobs
through dask-jobqueue (site settings in Dask's ``jobqueue.yaml`` or ``--cores``,
``--memory``, ``--walltime``, ``--queue``, ``--account``), and a ``tcp://...`` address
connects to a running Dask scheduler. With ``--device cuda`` every job asks its worker for
one ``GPU`` resource.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from replication.runner import ROOT, RUN_STATUS, check_parameters, format_report
from utils import lca_architectures
from utils.cache import atomic_write
from utils.results import published, verdict_counts
from utils.runtime import check_scale
from utils.verdicts import NOT_TESTED, Rule, decision_record

JOB_STATUS = "job.json"
ENGINES = ("local", "slurm", "pbs")
# claims a chapter decides across the runs of a sweep, each run having recorded what they
# compare (one model per run: the architectures of chapter 3), and the table that shows them
ACROSS_RUNS = {
    "lca": (lca_architectures.cross_model_claims, lca_architectures.cross_model_table),
}


@dataclass(frozen=True)
class Job:
    """One execution of a chapter: a seed and a value for each swept parameter."""

    chapter: str
    scale: str
    device: str
    seed: int
    parameters: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> str:
        """The job's folder name, e.g. ``seed=1,MODEL=bert-base-cased``."""
        parts = [f"seed={self.seed}"] + [f"{k}={_slug(v)}" for k, v in self.parameters]
        return ",".join(parts)

    def command(self, folder: Path) -> list[str]:
        """The command line that runs this job into ``folder``."""
        command = [
            sys.executable,
            "-m",
            "replication",
            "run",
            self.chapter,
            "--scale",
            self.scale,
            "--device",
            self.device,
            "--seed",
            str(self.seed),
            "--output",
            str(folder),
        ]
        for key, value in self.parameters:
            command += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        return command


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text.rstrip("/").split("/")[-1])[:60]


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"0,3,7"`` -> [0, 3, 7]; ranges and lists combine."""
    seeds: list[int] = []
    for part in text.split(","):
        low, sep, high = part.strip().partition("-")
        try:
            seeds += list(range(int(low), int(high) + 1)) if sep else [int(low)]
        except ValueError:
            raise ValueError(f"--seeds takes e.g. 0-4 or 0,2,5, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must name distinct seeds, got {text!r}")
    return seeds


def parse_grid_param(text: str) -> tuple[str, list[Any]]:
    """``NAME=V1,V2`` -> (NAME, [V1, V2]). Values are read as JSON where they parse; a value
    that is itself valid JSON (a number, a quoted string with commas, a list) is one value."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise ValueError(f"-p takes NAME=VALUE or NAME=V1,V2, got {text!r}")
    try:
        return name, [json.loads(value)]
    except json.JSONDecodeError:
        pass
    values = []
    for item in value.split(","):
        try:
            values.append(json.loads(item))
        except json.JSONDecodeError:
            values.append(item)
    return name, values


def grid(
    chapter: str,
    scale: str,
    device: str,
    seeds: Sequence[int],
    parameters: dict[str, list[Any]] | None = None,
) -> list[Job]:
    """Every (seed x parameter values) combination, as jobs."""
    check_scale(scale)
    check_parameters(chapter, parameters or {})
    names = list(parameters or {})
    combos = itertools.product(*[(parameters or {})[n] for n in names])
    return [
        Job(chapter, scale, device, seed, tuple(zip(names, combo)))
        for combo in combos
        for seed in seeds
    ]


def is_complete(job: Job, folder: Path) -> bool:
    """Whether ``folder`` holds a finished, successful run of ``job``."""
    try:
        status = json.loads((folder / JOB_STATUS).read_text())
        recorded = json.loads((folder / f"{job.chapter}.json").read_text())
    except (OSError, ValueError):
        return False
    return status.get("status") == "ok" and "finished" in recorded


def run_job(job: Job, folder: Path) -> dict[str, Any]:
    """Run one job in a process of its own; write and return its ``job.json`` status.

    Runs inside a Dask worker (or anywhere). The process's id goes to ``folder/pid`` while
    it runs. On a local multi-GPU cluster, the worker's number picks its GPU.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / JOB_STATUS).unlink(missing_ok=True)
    env = dict(os.environ)
    if job.device == "cuda" and "CUDA_VISIBLE_DEVICES" not in env:
        slot = _local_worker_number()
        if slot is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(slot)
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(folder / "log.txt", "wb") as log:
        process = subprocess.Popen(
            job.command(folder), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
        )
        (folder / "pid").write_text(str(process.pid))
        returncode = process.wait()
    (folder / "pid").unlink(missing_ok=True)
    outcome: dict[str, Any] = {"status": "failed", "cell": None, "error": None}
    try:
        outcome.update(json.loads((folder / RUN_STATUS).read_text()))
    except (OSError, ValueError):
        pass
    if returncode < 0:
        name = signal.Signals(-returncode).name
        outcome.update(status="failed", error=f"killed by {name}")
    elif returncode != 0 and outcome["status"] == "ok":
        outcome.update(status="failed", error=f"exited with status {returncode}")
    if outcome["status"] == "failed" and not outcome["error"]:
        outcome["error"] = _last_error_line(folder / "log.txt") or f"exit status {returncode}"
    status = {
        "job": asdict(job),
        "returncode": returncode,
        "started": started,
        "ended": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **outcome,
    }
    text = json.dumps(status, indent=1)
    atomic_write(folder / JOB_STATUS, lambda fh: fh.write(text.encode()))
    return status


def _local_worker_number() -> int | None:
    try:
        from distributed import get_worker

        name = get_worker().name
    except (ImportError, ValueError):
        return None
    return name if isinstance(name, int) else None


def _last_error_line(log: Path) -> str | None:
    try:
        lines = [x for x in log.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return None
    errors = [x for x in lines if "Error" in x or x.startswith("error")]
    return (errors or lines or [None])[-1]


def make_cluster(engine: str, workers: int, device: str, **queue: Any):
    """A Dask cluster for ``engine`` (``local``, ``slurm``, ``pbs``), or ``None`` for the
    address of a running scheduler."""
    from dask.distributed import LocalCluster

    gpu = {"GPU": 1} if device == "cuda" else None
    if engine == "local":
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            resources=gpu,
            dashboard_address=None,
        )
    if engine in ("slurm", "pbs"):
        import dask_jobqueue

        kind = dask_jobqueue.SLURMCluster if engine == "slurm" else dask_jobqueue.PBSCluster
        options = {k: v for k, v in queue.items() if v is not None}
        if gpu:
            directive = "--gres=gpu:1" if engine == "slurm" else "-l ngpus=1"
            options["job_extra_directives"] = [directive]
            options["worker_extra_args"] = ["--resources", "GPU=1"]
        cluster = kind(processes=1, **options)
        cluster.scale(jobs=workers)
        return cluster
    if engine.startswith(("tcp://", "tls://")):
        return None
    raise ValueError(f"unknown engine {engine!r}: choose {', '.join(ENGINES)} or tcp://HOST:PORT")


def run_sweep(
    jobs: Sequence[Job],
    output: Path,
    engine: str = "local",
    workers: int = 1,
    **queue: Any,
) -> dict[str, dict[str, Any]]:
    """Run every incomplete job of ``jobs`` on ``engine``; return each job's status by name
    (``"skipped"`` for a job already complete). A failed job does not stop the others."""
    output = Path(output)
    todo = [job for job in jobs if not is_complete(job, output / job.name)]
    statuses = {job.name: {"status": "skipped"} for job in jobs if job not in todo}
    if not todo:
        return statuses
    from dask.distributed import Client

    device = todo[0].device
    cluster = make_cluster(engine, workers, device, **queue)
    client = Client(cluster if cluster is not None else engine)
    try:
        resources = {"GPU": 1} if device == "cuda" else None
        futures = {
            job.name: client.submit(
                run_job,
                job,
                output / job.name,
                key=f"job-{job.name}",
                resources=resources,
                pure=False,
            )
            for job in todo
        }
        for name, future in futures.items():
            try:
                statuses[name] = future.result()
            except Exception as err:  # the worker itself died: the job did not record
                statuses[name] = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return statuses


# -- one verdict per claim over every job ------------------------------------------------------
def collect(jobs: Sequence[Job], output: Path) -> list[tuple[Job, dict[str, Any]]]:
    """The recorded results of every complete job."""
    found = []
    for job in jobs:
        folder = Path(output) / job.name
        if is_complete(job, folder):
            found.append((job, json.loads((folder / f"{job.chapter}.json").read_text())))
    return found


def pooled_reason(reasons: Sequence[str]) -> str:
    """The runs' reasons for not testing a claim, each once, in the order of the runs.
    Reasons that differ only in their numbers (the values a failed precondition measured in
    each run) are one reason, given with the first run's numbers and the count of runs."""
    groups: dict[str, list[str]] = {}
    for reason in filter(None, reasons):
        groups.setdefault(re.sub(r"\d+(?:\.\d+)?", "#", reason), []).append(reason)
    parts = []
    for found in groups.values():
        if len(set(found)) > 1:
            parts.append(f"{found[0]} (in {len(found)} runs; the first run's numbers)")
        else:
            parts.append(found[0] + (f" (in {len(found)} runs)" if len(found) > 1 else ""))
    return "; ".join(parts) or "no run recorded it"


def pool_claims(chapter: str, runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every claim of the inventory, decided over the replicates of all ``runs`` with the
    rule the chapter states. A run where the claim was not tested contributes nothing. A claim
    the chapter decides across runs (``ACROSS_RUNS``) is decided so where the runs allow."""
    across = ACROSS_RUNS[chapter][0](runs) if chapter in ACROSS_RUNS else {}
    pooled = []
    for entry in published(chapter)["claims"]:
        if entry["id"] in across:
            pooled.append(
                {"id": entry["id"], "claim": entry["claim"], **across[entry["id"]],
                 "paper": None, "runs": len(runs), "runs_not_tested": 0}
            )  # fmt: skip
            continue
        records = [c for run in runs for c in run.get("claims", []) if c.get("id") == entry["id"]]
        tested = [c for c in records if "effects" in c]
        if not tested:
            pooled.append(
                {
                    "id": entry["id"],
                    "claim": entry["claim"],
                    "verdict": NOT_TESTED,
                    "reason": pooled_reason([c.get("reason", "") for c in records]),
                }
            )
            continue
        specs = {json.dumps(c["rule_spec"], sort_keys=True) for c in tested}
        if len(specs) > 1:
            raise ValueError(
                f"{chapter}: claim {entry['id']!r} is decided by different rules "
                f"in different runs: {sorted(specs)}"
            )
        rule = Rule(**tested[0]["rule_spec"])
        effects = [e for c in tested for e in c["effects"]]
        with_control = [c for c in tested if c.get("control")]
        control = [e for c in with_control for e in c["control"]["effects"]]
        pooled.append(
            {
                "id": entry["id"],
                "claim": entry["claim"],
                **decision_record(effects, rule, control or None),
                "paper": tested[0].get("paper"),
                "runs": len(tested),
                "runs_not_tested": len(records) - len(tested),
            }
        )
    return pooled


def pooled_results(chapter: str, scale: str, runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Results in the shape one run records: numbers averaged over the runs (where they are
    scalars), preconditions that failed in any run, and the pooled claims."""
    numbers: dict[str, Any] = {}
    for key in dict.fromkeys(k for run in runs for k in run.get("numbers", {})):
        values = [run["numbers"][key]["value"] for run in runs if key in run.get("numbers", {})]
        scalar = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        numbers[key] = {"value": sum(values) / len(values) if scalar else values[0]}
    preconditions: dict[str, Any] = {}
    for run in runs:
        for name, pre in run.get("preconditions", {}).items():
            if name not in preconditions or not pre["ok"]:
                preconditions[name] = pre
    return {
        "chapter": chapter,
        "scale": scale,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "numbers": numbers,
        "preconditions": preconditions,
        "claims": pool_claims(chapter, runs),
    }


def sweep_report(
    jobs: Sequence[Job], output: Path, statuses: dict[str, dict[str, Any]] | None = None
) -> str:
    """The pooled report (the same as ``replication report``), the failed jobs, and the
    verdict of every claim per value of each swept parameter."""
    chapter, scale = jobs[0].chapter, jobs[0].scale
    done = collect(jobs, output)
    lines = [f"sweep of {chapter} at scale {scale}: {len(done)} of {len(jobs)} jobs complete"]
    for job in jobs:
        status = (statuses or {}).get(job.name) or _read_status(Path(output) / job.name)
        if status and status.get("status") == "failed":
            cell = f" in cell {status['cell']}" if status.get("cell") else ""
            lines.append(f"  FAILED {job.name}{cell}: {status.get('error')}")
        elif not is_complete(job, Path(output) / job.name):
            lines.append(f"  not run: {job.name}")
    if not done:
        return "\n".join(lines)
    lines += ["", format_report(chapter, pooled_results(chapter, scale, [r for _, r in done]))]
    if chapter in ACROSS_RUNS and (table := ACROSS_RUNS[chapter][1]([r for _, r in done])):
        lines += ["", table]
    for key in _swept(jobs):
        values = list(dict.fromkeys(_shown(dict(job.parameters)[key]) for job in jobs))
        lines += ["", f"per {key}:"]
        by_value = {}
        for value in values:
            runs = [r for job, r in done if _shown(dict(job.parameters)[key]) == value]
            by_value[value] = {c["id"]: c for c in pool_claims(chapter, runs)} if runs else {}
            counts = (
                ", ".join(
                    f"{k}: {v}" for k, v in verdict_counts(list(by_value[value].values())).items()
                )
                if runs
                else "no complete run"
            )
            lines.append(f"  {key}={value}: {len(runs)} runs; {counts}")
        for entry in published(chapter)["claims"]:
            cells = [
                f"{value}: {by_value[value].get(entry['id'], {}).get('verdict', '-')}"
                for value in values
            ]
            lines.append(f"    {entry['id']}: " + "; ".join(cells))
    return "\n".join(lines)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _swept(jobs: Sequence[Job]) -> list[str]:
    """The parameters that take more than one value over ``jobs``."""
    names = dict.fromkeys(k for job in jobs for k, _ in job.parameters)
    return [k for k in names if len({_shown(dict(j.parameters)[k]) for j in jobs}) > 1]


def _read_status(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / JOB_STATUS).read_text())
    except (OSError, ValueError):
        return None
