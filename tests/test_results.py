import json

import numpy as np
import pytest
import torch

from utils.results import Results, read_results


def test_numbers_and_claims_are_written_at_once(tmp_path):
    results = Results("demo", scale="ci", seed=3)
    path = tmp_path / "results" / "demo.json"
    assert json.loads(path.read_text())["scale"] == "ci"
    results.number("accuracy", np.float32(0.5), layer=2)
    results.number("curve", torch.tensor([0.1, 0.2]))
    assert results.claim("it works", np.bool_(True), accuracy=0.5) is True
    assert results.claim("it does not", False) is False
    assert results.claim("it works", True, accuracy=0.6)  # re-running a cell replaces
    data = read_results("demo")
    assert data["numbers"]["accuracy"] == {"value": 0.5, "context": {"layer": 2}}
    assert data["numbers"]["curve"]["value"] == pytest.approx([0.1, 0.2])
    assert [(c["claim"], c["holds"]) for c in data["claims"]] == [
        ("it does not", False),
        ("it works", True),
    ]
    assert data["settings"] == {"seed": 3}


def test_errors_are_named():
    with pytest.raises(ValueError, match="SCALE"):
        Results("demo", scale="huge")
    with pytest.raises(FileNotFoundError, match="no recorded results"):
        read_results("never-ran")
    Results("nan", scale="ci").number("x", float("nan"))
    assert read_results("nan")["numbers"]["x"]["value"] == "nan"
