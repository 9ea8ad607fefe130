"""Shared fixtures: the embedded encoder (loaded once), an isolated cache and results folder."""

from __future__ import annotations

import pytest
import torch


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
    """Skip tests marked ``gpu`` on machines without CUDA."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
