"""``make smoke``: every chapter's full-scale code path (``SCALE="full"``, every size tiny),
on tiny real-format models and data files that :mod:`tests.smoke` builds offline.

Skipped unless selected with ``-m smoke``. ``BOOK_DEVICE`` picks the device (``make gpu-check``
runs it on ``cuda``).
"""

from __future__ import annotations

import importlib
import os
import time

import pytest

from replication.runner import chapters, run

pytestmark = pytest.mark.smoke
SMOKE_CHAPTERS = sorted(chapters())


def test_every_chapter_has_a_smoke_run():
    for chapter in SMOKE_CHAPTERS:
        assert importlib.util.find_spec(f"tests.smoke.{chapter}"), f"no tests/smoke/{chapter}.py"


@pytest.mark.parametrize("chapter", SMOKE_CHAPTERS)
def test_full_scale_path(chapter, tmp_path):
    module = importlib.import_module(f"tests.smoke.{chapter}")
    workdir = tmp_path / "inputs"
    workdir.mkdir()
    parameters = module.parameters(workdir)
    started = time.perf_counter()
    output = run(chapter, "full", os.environ.get("BOOK_DEVICE", "cpu"), 0, tmp_path / "run",
                 parameters)  # fmt: skip
    assert (output / f"{chapter}.json").exists()
    print(f"{chapter}: full path in {time.perf_counter() - started:.0f} s")
