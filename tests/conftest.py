"""Shared fixtures: the embedded encoder (loaded once), an isolated cache and results folder."""

from __future__ import annotations

import os

import pytest
import torch

if os.environ.get("BOOK_THREADS"):  # the Makefile's 1 when test files run side by side
    torch.set_num_threads(int(os.environ["BOOK_THREADS"]))


@pytest.fixture(scope="session")
def minilm():
    """The embedded MiniLM encoder and tokenizer, on the CPU."""
    from utils.models import load_encoder

    return load_encoder("minilm")


@pytest.fixture(autouse=True)
def isolated_storage(tmp_path, monkeypatch):
    """Every test gets its own empty cache and results folders."""
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BOOK_RESULTS_DIR", str(tmp_path / "results"))


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` on machines without CUDA, and the full-scale smoke runs
    unless asked for (``-m smoke``: ``make smoke``)."""
    smoke_asked = "smoke" in (config.getoption("markexpr") or "")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))
        if "smoke" in item.keywords and not smoke_asked:
            item.add_marker(pytest.mark.skip(reason="the full-scale path: make smoke"))
