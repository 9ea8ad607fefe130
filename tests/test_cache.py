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
    def build():
        return torch.arange(1000)

    cache.cached("unit", "k", build)
    key = cache.entry_key("unit", "k", build)
    payload, manifest = cache.entry_paths("unit", key)
    data = payload.read_bytes()
    if damage == "truncate":
        payload.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        payload.write_bytes(data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:])
    elif damage == "no-manifest":
        manifest.unlink()
    else:
        manifest.write_text("{not json")
    assert cache.load("unit", key) is None
    rebuilt = cache.cached("unit", "k", build)
    assert torch.equal(rebuilt, torch.arange(1000))
    assert cache.load("unit", key) is not None


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


def _import_from(path, name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TRAINER = """
from utils.cache import cached
from utils.svcca import svcca


def train(calls):
    def build():
        calls.append(1)
        return {"w": step()}

    return cached("unit-trainer", {"n": 1}, build)


def step():
    return 1.0
"""


def test_editing_the_code_that_builds_an_entry_is_a_cache_miss(tmp_path, monkeypatch):
    import shutil
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # edits of equal size and mtime
    # a copy of the package, so that its modules can be edited
    package = tmp_path / "utils_copy"
    shutil.copytree(cache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE", package)
    source = tmp_path / "trainer.py"
    source.write_text(TRAINER)
    calls = []
    _import_from(source, "trainer_v1").train(calls)
    _import_from(source, "trainer_v1b").train(calls)
    assert len(calls) == 1, "same code: a hit"

    # the body of a function in the building module changes
    source.write_text(TRAINER.replace("return 1.0", "return 2.0"))
    assert _import_from(source, "trainer_v2").train(calls)["w"] == 2.0
    assert len(calls) == 2, "edited module: a miss"

    # a utils module the building module imports changes (svcca)
    svcca = package / "svcca.py"
    svcca.write_text(svcca.read_text() + "\n# edited\n")
    _import_from(source, "trainer_v3").train(calls)
    assert len(calls) == 3, "edited dependency: a miss"

    # a utils module it does not import changes (widgets): still a hit
    widgets = package / "widgets.py"
    widgets.write_text(widgets.read_text() + "\n# edited\n")
    _import_from(source, "trainer_v4").train(calls)
    assert len(calls) == 3


def test_a_build_whose_source_cannot_be_read_is_keyed_by_the_whole_package(monkeypatch, tmp_path):
    import shutil

    namespace = {"__name__": "__main__"}
    exec(compile("def build():\n    return 1\n", "<no file>", "exec"), namespace)
    build = namespace["build"]
    package = tmp_path / "utils_copy"
    shutil.copytree(cache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE", package)
    before = cache.code_fingerprint(build)
    assert before == cache.code_fingerprint(build)
    (package / "widgets.py").write_text("# edited\n")
    assert cache.code_fingerprint(build) != before


NOTEBOOK = """
from utils.svcca import svcca


class Net:
    def score(self):
        return svcca


def helper():
    return Net()


def build():
    return {"w": helper()}
"""


def test_a_notebook_build_is_keyed_by_the_utils_modules_it_reaches(tmp_path, monkeypatch):
    import shutil

    package = tmp_path / "utils_copy"
    shutil.copytree(cache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE", package)
    cell = tmp_path / "cell.py"  # where a kernel keeps a cell's source for inspect

    def notebook_build(text):
        cell.write_text(text)
        namespace = {"__name__": "__main__"}
        exec(compile(text, str(cell), "exec"), namespace)
        return namespace["build"]

    before = cache.code_fingerprint(notebook_build(NOTEBOOK))
    (package / "widgets.py").write_text("# edited\n")  # not reached: the same key
    assert cache.code_fingerprint(notebook_build(NOTEBOOK)) == before
    (package / "svcca.py").write_text((package / "svcca.py").read_text() + "\n# edited\n")
    after = cache.code_fingerprint(notebook_build(NOTEBOOK))
    assert after != before, "a utils module reached through a notebook class"
    edited = NOTEBOOK.replace("return Net()", "return Net()  # changed")
    assert cache.code_fingerprint(notebook_build(edited)) != after, "a notebook helper"
