"""Command line: ``python -m replication {run,report,summary,sweep,list} ...``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from replication.runner import (
    DEVICES,
    ROOT,
    chapters,
    default_output,
    notebook_for,
    report,
    run_and_report,
    summary,
    summary_table,
)
from utils.runtime import SCALES


def parse_param(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (NAME, VALUE), VALUE read as JSON when it parses (numbers, true,
    null, lists), else kept as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise ValueError(f"--param takes NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def sweep_command(args: argparse.Namespace) -> int:
    """Run (or resume) a sweep, then print its pooled report; 1 if a job failed."""
    from replication.sweep import grid, parse_grid_param, parse_seeds, run_sweep, sweep_report

    parameters = dict(parse_grid_param(text) for text in args.param)
    jobs = grid(args.chapter, args.scale, args.device, parse_seeds(args.seeds), parameters)
    output = args.output or ROOT / "replication" / "runs" / f"sweep-{args.chapter}-{args.scale}"
    workers = args.workers
    if workers is None:
        import torch

        gpus = torch.cuda.device_count() if args.device == "cuda" else 0
        workers = max(1, gpus)
    queue = {k: getattr(args, k) for k in ("cores", "memory", "walltime", "queue", "account")}
    if queue["cores"] is not None:
        queue["cores"] = int(queue["cores"])
    statuses = run_sweep(jobs, output, args.engine, workers, **queue)
    print(sweep_report(jobs, output, statuses))
    return int(any(s.get("status") == "failed" for s in statuses.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replication", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute a chapter headless and compare with the paper")
    p_run.add_argument("chapter")
    p_run.add_argument("--scale", default="ci", choices=SCALES)
    p_run.add_argument("--device", default="auto", choices=DEVICES)
    p_run.add_argument("--seed", type=int, default=0)
    p_run.add_argument("--output", type=Path, help="folder for the executed notebook and JSON")
    p_run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable of the parameters cell, e.g. -p MODEL=bert-base-cased (repeatable)",
    )
    p_report = sub.add_parser("report", help="print the comparison table of a finished run")
    p_report.add_argument("chapter")
    p_report.add_argument("--scale", default="ci", choices=SCALES)
    p_report.add_argument("--output", type=Path)
    p_summary = sub.add_parser(
        "summary", help="the whole book's verdicts: one row per chapter, from its latest run"
    )
    p_summary.add_argument("--scale", choices=SCALES, help="only runs at this scale")
    p_summary.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p_sweep = sub.add_parser(
        "sweep", help="run a chapter over seeds and parameter values on Dask, one verdict per claim"
    )
    p_sweep.add_argument("chapter")
    p_sweep.add_argument("--scale", default="ci", choices=SCALES)
    p_sweep.add_argument("--device", default="auto", choices=DEVICES)
    p_sweep.add_argument("--seeds", default="0-2", help="e.g. 0-4 or 0,2,5 (default 0-2)")
    p_sweep.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a parameter and its values, one job per value (repeatable: the grid)",
    )
    p_sweep.add_argument(
        "--engine",
        default="local",
        help="local (worker processes here), slurm, pbs (dask-jobqueue) or tcp://HOST:PORT",
    )
    p_sweep.add_argument(
        "--workers",
        type=int,
        help="workers (jobs at once); local default: the GPUs with --device cuda, else 1",
    )
    p_sweep.add_argument("--output", type=Path, help="the sweep's folder")
    for option in ("cores", "memory", "walltime", "queue", "account"):
        p_sweep.add_argument(f"--{option}", help=f"slurm/pbs: the batch jobs' {option}")
    sub.add_parser("list", help="list the chapters")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            for name, path in chapters().items():
                print(f"{name:<10} {path.relative_to(ROOT)}")
            return 0
        if args.command == "summary":
            print(summary_table(summary(args.scale), markdown=args.markdown))
            return 0
        notebook_for(args.chapter)
        if args.command == "sweep":
            return sweep_command(args)
        if args.command == "report":
            print(report(args.chapter, args.output or default_output(args.chapter, args.scale)))
            return 0
        parameters = dict(parse_param(text) for text in args.param)
        return run_and_report(
            args.chapter, args.scale, args.device, args.seed, args.output, parameters
        )
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
