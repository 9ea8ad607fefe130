"""A content-keyed, atomically written on-disk cache for trained models and activations.

An entry is keyed by a SHA-256 hash of everything that determines its content: the package
version, a free-form ``kind``, the caller's configuration and data (strings, numbers,
lists, dicts, arrays, tensors) and the source code that builds it (:func:`code_fingerprint`:
the module defining the ``build`` function and every ``utils`` module it imports, so that
editing a training loop is a cache miss). Each entry is two files, written atomically
(temporary file, then ``os.replace``): the payload ``KEY.pt`` and a manifest ``KEY.json``
holding the payload's checksum, written last. A missing manifest, a checksum mismatch or
an unreadable payload marks the entry as corrupt; :func:`cached` then rebuilds it.

The location is ``$BOOK_CACHE_DIR`` if set, else ``~/.cache/neuron-book``.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any, TypeVar

import numpy as np
import torch

from utils import __version__

T = TypeVar("T")

ENV_VAR = "BOOK_CACHE_DIR"


def cache_disabled() -> bool:
    """Whether ``BOOK_CACHE_DIR`` is ``off`` (or ``none``): everything is recomputed."""
    return os.environ.get(ENV_VAR, "").lower() in {"off", "none"}


def cache_dir() -> Path:
    """The cache root: ``$BOOK_CACHE_DIR``, or ``~/.cache/neuron-book``."""
    root = os.environ.get(ENV_VAR)
    if not root or cache_disabled():
        return Path.home() / ".cache" / "neuron-book"
    return Path(root).expanduser()


def _feed(hasher: Any, obj: Any) -> None:
    """Feed a canonical, type-tagged byte encoding of ``obj`` into ``hasher``."""
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu()
        hasher.update(f"tensor{tuple(obj.shape)}{obj.dtype}".encode())
        flat = obj.reshape(-1).contiguous()  # 0-d tensors cannot be viewed as bytes
        hasher.update(flat.view(torch.uint8).numpy().tobytes() if obj.numel() else b"")
    elif isinstance(obj, np.ndarray):
        hasher.update(f"ndarray{obj.shape}{obj.dtype}".encode())
        hasher.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, Mapping):
        hasher.update(f"dict{len(obj)}".encode())
        for key in sorted(obj, key=repr):
            _feed(hasher, key)
            _feed(hasher, obj[key])
    elif isinstance(obj, (list, tuple)):
        hasher.update(f"{type(obj).__name__}{len(obj)}".encode())
        for item in obj:
            _feed(hasher, item)
    elif obj is None or isinstance(obj, (str, int, float, bool, bytes, np.generic)):
        hasher.update(f"{type(obj).__name__}:{obj!r};".encode())
    else:
        raise TypeError(
            f"cannot build a cache key from a {type(obj).__name__}: pass strings, numbers, "
            "lists, dicts, numpy arrays or tensors"
        )


def content_key(*parts: Any) -> str:
    """A hex SHA-256 of ``parts`` (and the package version), stable across runs and machines."""
    hasher = hashlib.sha256()
    _feed(hasher, ("utils", __version__, parts))
    return hasher.hexdigest()


PACKAGE = Path(__file__).resolve().parent


def _utils_imports(source: str) -> set[str]:
    """The ``utils`` modules a source file imports (``import utils.x``, ``from utils.x import
    y``, ``from utils import x``), as dotted names."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "utils")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "utils":
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _utils_source(name: str) -> Path | None:
    """The file of a ``utils`` module by dotted name (a package's ``__init__.py``), if any."""
    parts = name.split(".")[1:]
    if not parts:
        return PACKAGE / "__init__.py"
    relative = Path(*parts)
    for candidate in (PACKAGE / relative.with_suffix(".py"), PACKAGE / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _closure_digest(path: Path) -> str:
    """SHA-256 over the source of ``path`` and, transitively, of the ``utils`` modules it
    imports. Files are named relative to the package (or by their name alone), so the digest
    does not depend on where the project is checked out."""
    seen: dict[Path, bytes] = {}
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        source = current.read_bytes()
        seen[current] = source
        for name in _utils_imports(source.decode()):
            module = _utils_source(name)
            if module is not None:
                todo.append(module)
    hasher = hashlib.sha256()
    for file in sorted(seen):
        name = file.relative_to(PACKAGE) if file.is_relative_to(PACKAGE) else file.name
        hasher.update(str(name).encode() + b"\0" + seen[file] + b"\0")
    return hasher.hexdigest()


def package_fingerprint() -> str:
    """SHA-256 over every source file of the ``utils`` package."""
    hasher = hashlib.sha256()
    for file in sorted(PACKAGE.rglob("*.py")):
        hasher.update(str(file.relative_to(PACKAGE)).encode() + b"\0" + file.read_bytes() + b"\0")
    return hasher.hexdigest()


def _notebook_code(build: Callable[..., Any]) -> tuple[list[str], set[str]] | None:
    """The source of a notebook-defined ``build`` and of the notebook functions and classes it
    reaches, and the ``utils`` modules whose objects they use; ``None`` where some source
    cannot be read (or the whole ``utils`` package is used)."""
    sources, modules, seen = [], set(), set()
    todo: list[Any] = [build]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, type):  # a notebook class: its methods and its bases
            todo += [v for v in vars(item).values() if isinstance(v, FunctionType)]
            todo += list(item.__bases__)
            continue
        try:
            sources.append(inspect.getsource(item))
        except (OSError, TypeError):
            return None
        codes, names = [item.__code__], set()
        while codes:
            code = codes.pop()
            names.update(code.co_names)
            codes += [c for c in code.co_consts if isinstance(c, CodeType)]
        values = [item.__globals__[n] for n in names if n in item.__globals__]
        values += _closure_values(item)
        for value in values:
            if isinstance(value, ModuleType):
                if value.__name__ == "utils":
                    return None
                if value.__name__.startswith("utils."):
                    modules.add(value.__name__)
                continue
            owner = value if isinstance(value, (type, FunctionType)) else type(value)
            module = getattr(owner, "__module__", "") or ""
            if module.startswith("utils."):
                modules.add(module)
            elif module == "__main__" and isinstance(value, (type, FunctionType)):
                todo.append(value)
            elif module == "__main__":
                todo.append(owner)
    return sources, modules


def _closure_values(function: FunctionType) -> list[Any]:
    """The values a function's closure holds (cells not yet filled are skipped)."""
    values = []
    for cell in function.__closure__ or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:
            continue
    return values


def code_fingerprint(build: Callable[..., Any] | ModuleType) -> str:
    """A hash of the code behind ``build``: the source of the file that defines it and of
    every ``utils`` module that file imports, transitively.

    A ``build`` defined in a notebook has no module file: it is keyed by its own source, the
    source of the notebook functions and classes it reaches, and the ``utils`` modules whose
    objects they use (with their imports); by the whole ``utils`` package where that cannot
    be read.
    """
    if isinstance(build, ModuleType):
        name, file = build.__name__, getattr(build, "__file__", None)
    else:
        code = getattr(build, "__code__", None)
        name, file = build.__module__, code.co_filename if code else None
    if name != "__main__" and file and file.endswith(".py") and Path(file).is_file():
        return _closure_digest(Path(file).resolve())
    reached = _notebook_code(build) if isinstance(build, FunctionType) else None
    if reached is None:
        try:
            own = inspect.getsource(build)
        except (OSError, TypeError):
            own = ""
        return content_key("interactive", own, package_fingerprint())
    sources, modules = reached
    files = sorted({f for m in modules if (f := _utils_source(m)) is not None})
    return content_key("notebook", sorted(sources), [_closure_digest(f) for f in files])


def entry_key(kind: str, config: Any, build: Callable[..., Any]) -> str:
    """The key of the entry that ``cached(kind, config, build)`` reads or writes."""
    return content_key(kind, config, code_fingerprint(build))


def _file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def atomic_write(path: Path, write: Callable[[Any], None]) -> None:
    """Write through ``write(file_object)`` into a temporary file, then rename it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def entry_paths(kind: str, key: str) -> tuple[Path, Path]:
    """The payload and manifest paths of an entry."""
    if not kind or not kind.replace("-", "").replace("_", "").isalnum():
        raise ValueError(
            f"cache kind must be a short name of letters, digits, '-' or '_': {kind!r}"
        )
    folder = cache_dir() / kind
    return folder / f"{key}.pt", folder / f"{key}.json"


def load(kind: str, key: str) -> Any | None:
    """The payload of a valid entry, or ``None`` if it is missing, partial or corrupt."""
    payload, manifest = entry_paths(kind, key)
    try:
        meta = json.loads(manifest.read_text())
        if meta.get("key") != key or _file_sha256(payload) != meta.get("sha256"):
            return None
        return torch.load(payload, map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError, EOFError, KeyError):
        return None


def save(kind: str, key: str, value: Any, description: str = "") -> None:
    """Store ``value`` (tensors, arrays as tensors, nested dicts/lists of them and plain values)."""
    payload, manifest = entry_paths(kind, key)
    atomic_write(payload, lambda fh: torch.save(value, fh))
    meta = {
        "key": key,
        "kind": kind,
        "sha256": _file_sha256(payload),
        "bytes": payload.stat().st_size,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "utils_version": __version__,
        "description": description,
    }
    atomic_write(manifest, lambda fh: fh.write(json.dumps(meta, indent=1).encode()))


def cached(kind: str, config: Any, build: Callable[[], T], *, description: str = "") -> T:
    """Return the cached result for ``(kind, config)``, building and storing it if needed.

    Parameters
    ----------
    kind
        A short name grouping entries on disk, e.g. ``"activations"`` or ``"lstm-lm"``.
    config
        Everything that determines the result: hyperparameters, data, model fingerprint.
        Hashed with :func:`content_key`, together with :func:`code_fingerprint` of ``build``.
    build
        Called without arguments when the entry is missing or corrupt. Must return tensors,
        numbers, strings, or nested dicts/lists/tuples of them (what ``torch.load`` accepts
        with ``weights_only=True``).
    description
        A human-readable note stored in the manifest.

    Setting ``BOOK_CACHE_DIR=off`` (or ``none``) disables the cache entirely.
    """
    if cache_disabled():
        return build()
    key = entry_key(kind, config, build)
    hit = load(kind, key)
    if hit is not None:
        return hit
    value = build()
    save(kind, key, value, description)
    return value


def clear(kinds: Iterable[str] | None = None) -> int:
    """Delete cache entries (of the given kinds, or all); return how many files were removed."""
    root = cache_dir()
    folders = [root / k for k in kinds] if kinds is not None else [p for p in root.glob("*")]
    removed = 0
    for folder in folders:
        if folder.is_dir():
            for path in folder.iterdir():
                if path.suffix in {".pt", ".json", ".tmp"}:
                    path.unlink()
                    removed += 1
    return removed


def module_fingerprint(module: torch.nn.Module) -> str:
    """A content hash of a module's class, parameters and buffers (its ``state_dict``)."""
    return content_key(type(module).__qualname__, dict(module.state_dict()))
