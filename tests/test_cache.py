import numpy as np
import pytest
import torch

from utils import cache


def test_key_depends_on_content_not_identity():
    a = {"lr": 1e-3, "data": torch.arange(5), "words": [["a", "b"]]}
    b = {"words": [["a", "b"]], "data": torch.arange(5), "lr": 1e-3}
    assert cache.content_key(a) == cache.content_key(b)
    assert cache.content_key(a) != cache.content_key({**a, "lr": 1e-2})
    assert cache.content_key(torch.zeros(2)) != cache.content_key(torch.zeros(2, dtype=torch.int64))
    assert cache.content_key(np.ones(3)) != cache.content_key(np.ones(4))
    assert cache.content_key("1") != cache.content_key(1)
    assert cache.content_key(torch.tensor(3)) != cache.content_key(torch.tensor(4))
    with pytest.raises(TypeError, match="cache key"):
        cache.content_key(object())


def test_build_once_then_reuse():
    calls = []

    def build():
        calls.append(1)
        return {"w": torch.randn(3), "note": "x"}

    first = cache.cached("unit", {"n": 3}, build)
    second = cache.cached("unit", {"n": 3}, build)
    assert len(calls) == 1
    assert torch.equal(first["w"], second["w"])
    cache.cached("unit", {"n": 4}, build)
    assert len(calls) == 2


def test_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "elsewhere"))
    cache.cached("unit", 1, lambda: torch.ones(1))
    assert list((tmp_path / "elsewhere" / "unit").glob("*.pt"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "no-manifest", "garbage"])
def test_corrupt_or_partial_entries_are_rebuilt(damage):
    cache.cached("unit", "k", lambda: torch.arange(1000))
    payload, manifest = cache.entry_paths("unit", cache.content_key("unit", "k"))
    data = payload.read_bytes()
    if damage == "truncate":
        payload.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        payload.write_bytes(data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:])
    elif damage == "no-manifest":
        manifest.unlink()
    else:
        manifest.write_text("{not json")
    assert cache.load("unit", cache.content_key("unit", "k")) is None
    rebuilt = cache.cached("unit", "k", lambda: torch.arange(1000))
    assert torch.equal(rebuilt, torch.arange(1000))
    assert cache.load("unit", cache.content_key("unit", "k")) is not None


def test_failed_build_leaves_nothing_behind(tmp_path):
    def build():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.cached("unit", "fails", build)
    assert not list((tmp_path / "cache").rglob("*.pt"))


def test_failed_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.bin"

    def write(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        cache.atomic_write(target, write)
    assert not target.exists() and not list(tmp_path.glob(".out.bin*"))


def test_disable_and_clear(monkeypatch):
    cache.cached("unit", 1, lambda: torch.ones(1))
    assert cache.clear(["unit"]) == 2
    monkeypatch.setenv("BOOK_CACHE_DIR", "off")
    calls = []
    cache.cached("unit", 1, lambda: calls.append(1))
    cache.cached("unit", 1, lambda: calls.append(1))
    assert len(calls) == 2


def test_module_fingerprint_sees_weights():
    a = torch.nn.Linear(3, 2)
    b = torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert cache.module_fingerprint(a) == cache.module_fingerprint(b)
    with torch.no_grad():
        b.weight[0, 0] += 1e-6
    assert cache.module_fingerprint(a) != cache.module_fingerprint(b)


def test_bad_kind_is_named():
    with pytest.raises(ValueError, match="cache kind"):
        cache.cached("../escape", 1, lambda: 1)
