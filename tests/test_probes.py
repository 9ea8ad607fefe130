import pytest
import torch

from tests.naive import train_probe_alone
from utils.probes import encode_labels, train_linear_probes


def planted(n=600, d=20, seed=0):
    """Labels decided by neuron 3 alone; the other neurons are noise."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen)
    y = (x[:, 3] > 0).long() + (x[:, 3] > 1).long()
    return x, y


def test_grid_matches_separate_runs():
    x, y = planted()
    l1, l2 = [0.0, 1e-3, 1e-2], [0.0, 1e-4, 1e-3]
    probe = train_linear_probes(
        x, y, l1=l1, l2=l2, epochs=3, batch_size=64, lr=1e-2, progress=False
    )
    assert probe.weight.shape == (3, 20, 3)
    for g in range(3):
        w, b = train_probe_alone(x, y, 3, l1[g], l2[g], epochs=3, batch_size=64, lr=1e-2, seed=0)
        torch.testing.assert_close(probe.weight[g], w, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(probe.bias[g], b, atol=1e-5, rtol=1e-4)


def test_planted_neuron_carries_the_weight():
    x, y = planted()
    probe = train_linear_probes(x, y, l1=1e-3, epochs=60, lr=5e-2, progress=False)
    mass = probe.weight[0].abs().sum(1)
    assert mass.argmax() == 3
    assert probe.accuracy(x, y)[0] > 0.9


def test_l1_makes_weights_sparser():
    x, y = planted()
    probe = train_linear_probes(x, y, l1=[0.0, 1e-2], epochs=20, lr=1e-2, progress=False)
    mass = probe.weight.abs().sum((1, 2))
    assert mass[1] < 0.5 * mass[0]


def test_encode_labels_and_bad_input():
    y, classes = encode_labels(["NN", "VB", "NN", "DT"])
    assert classes == ["DT", "NN", "VB"] and y.tolist() == [1, 2, 1, 0]
    with pytest.raises(ValueError, match="not among"):
        encode_labels(["XX"], classes)
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="two classes"):
        train_linear_probes(x, torch.zeros(4, dtype=torch.long), progress=False)
    with pytest.raises(ValueError, match="NaN"):
        train_linear_probes(x.fill_(float("nan")), torch.tensor([0, 1, 0, 1]), progress=False)
    with pytest.raises(ValueError, match="shape"):
        train_linear_probes(torch.zeros(4), torch.tensor([0, 1, 0, 1]), progress=False)
    with pytest.raises(ValueError, match="l1 must be"):
        train_linear_probes(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]), l1=[0, 1], l2=[0, 1, 2])
