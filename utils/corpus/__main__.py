"""Command line: ``python -m utils.corpus --task TASK --n N --seed S [--param key=value]``.

Writes the generated corpus as CoNLL-U to standard output. Parameter values are parsed
as Python literals when possible (``--param max_depth=3 --param familiar=True``), else
kept as strings (``--param mode=train``).
"""

from __future__ import annotations

import argparse
import ast
import sys

from .tasks import TASKS, generate
from .treebank import to_conllu


def _parse_param(item: str) -> tuple[str, object]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param expects key=value, got {item!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.corpus", description="Generate an annotated corpus as CoNLL-U."
    )
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--n", type=int, required=True, help="number of sentences (items)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        type=_parse_param,
        metavar="KEY=VALUE",
        help="task-specific parameter (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        corpus = generate(args.task, args.n, args.seed, **dict(args.param))
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    sys.stdout.write(to_conllu(corpus))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
