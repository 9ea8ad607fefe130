import pytest
import torch

from utils.memory import report_memory, tensor_bytes


def test_tensor_bytes_and_the_report(capsys):
    assert tensor_bytes(10, 3) == 120
    assert tensor_bytes(4, dtype=torch.float64) == 32
    assert report_memory({"acts (N, D)": tensor_bytes(1000, 10)}, "cpu") == 40_000
    assert "acts (N, D)" in capsys.readouterr().out
    with pytest.warns(UserWarning, match="lower the sizes"):
        report_memory({"huge": 2**62}, "cpu")
