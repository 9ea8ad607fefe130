import random

import numpy as np
import pytest
import torch

from utils.runtime import check_scale, resolve_device, seed_everything


def test_seed_everything_reproduces_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first
    rng = seed_everything(7)
    assert isinstance(rng, np.random.Generator)
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed"):
            seed_everything(bad)


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")


@pytest.mark.gpu
def test_resolve_cuda():
    assert resolve_device("cuda").type == "cuda"


def test_scales():
    assert check_scale("full") == "full"
    with pytest.raises(ValueError, match="unknown SCALE 'tiny'"):
        check_scale("tiny")


def test_cpu_threads_follow_the_scale_and_the_environment(monkeypatch):
    from utils.runtime import limit_cpu_threads

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("BOOK_THREADS", raising=False)
        assert limit_cpu_threads(torch.device("cpu"), "ci") == 1
        torch.set_num_threads(2)
        assert limit_cpu_threads(torch.device("cpu"), "ci", threads_below_full=None) == 2
        assert limit_cpu_threads(torch.device("cpu"), "full") == 2
        monkeypatch.setenv("BOOK_THREADS", "2")
        assert limit_cpu_threads(torch.device("cpu"), "ci") == 2
        monkeypatch.setenv("BOOK_THREADS", "many")
        with pytest.raises(ValueError, match="BOOK_THREADS"):
            limit_cpu_threads(torch.device("cpu"), "ci")
    finally:
        torch.set_num_threads(before)


def test_fill_scale_defaults_keeps_given_values_and_names_bad_tables():
    from utils.runtime import fill_scale_defaults

    table = {"ci": {"STEPS": 10, "LR": 0.1}, "default": {"STEPS": 100, "LR": 0.1},
             "full": {"STEPS": 1000, "LR": 0.01}}  # fmt: skip
    namespace = {"STEPS": None, "LR": 0.5}
    assert fill_scale_defaults(namespace, table, "full") == {"STEPS": 1000, "LR": 0.5}
    assert namespace == {"STEPS": 1000, "LR": 0.5}
    with pytest.raises(ValueError, match="does not declare"):
        fill_scale_defaults({"STEPS": None}, table, "ci")
    with pytest.raises(ValueError, match="differ in"):
        fill_scale_defaults(namespace, {**table, "full": {"STEPS": 1}}, "ci")
    with pytest.raises(ValueError, match="unknown SCALE"):
        fill_scale_defaults(namespace, table, "huge")
