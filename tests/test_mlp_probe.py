"""The MLP probe: it fits what no linear probe can (XOR), is reproducible from its seed, and
names bad labels."""

import pytest
import torch

from utils.mlp_probe import mlp_accuracy, train_mlp_probe
from utils.probes import train_linear_probes


def xor(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    return torch.cat([x, torch.randn(n, 6, generator=g)], 1), y  # six irrelevant dimensions


def test_the_mlp_fits_xor_where_a_linear_probe_cannot():
    x, y = xor()
    probe = train_mlp_probe(x[:400], y[:400], 2, hidden=32, epochs=20, batch_size=32, lr=1e-2)
    assert mlp_accuracy(probe, x[400:], y[400:]) > 0.9
    linear = train_linear_probes(x[:400], y[:400], n_classes=2, epochs=20, batch_size=32, lr=1e-2,
                                 progress=False)  # fmt: skip
    assert float(linear.accuracy(x[400:], y[400:])[0]) < 0.7


def test_the_same_seed_gives_the_same_probe_and_chunks_change_nothing():
    x, y = xor()
    first, second = (train_mlp_probe(x, y, 2, hidden=8, epochs=2, seed=3) for _ in range(2))
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)
    assert mlp_accuracy(first, x, y, chunk=7) == mlp_accuracy(first, x, y)


def test_the_probe_depends_on_its_seed_alone_not_on_the_global_generator():
    x, y = xor()
    torch.manual_seed(0)
    first = train_mlp_probe(x, y, 2, hidden=8, epochs=1, seed=3)
    torch.rand(5)  # the global generator moves on; the probe must not
    second = train_mlp_probe(x, y, 2, hidden=8, epochs=1, seed=3)
    third = train_mlp_probe(x, y, 2, hidden=8, epochs=1, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))
    assert not torch.equal(first[0].weight, third[0].weight)


def test_mlp_accuracy_equals_a_row_by_row_count():
    x, y = xor(50)
    probe = train_mlp_probe(x, y, 2, hidden=8, epochs=1)
    with torch.no_grad():
        naive = sum(int(probe(row[None]).argmax(1)) == int(label) for row, label in zip(x, y))
    assert mlp_accuracy(probe, x, y, chunk=16) == naive / len(y)


def test_bad_labels_are_named():
    x, y = xor(10)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\)"):
        train_mlp_probe(x, y, 1)
    with pytest.raises(ValueError, match="x must be"):
        train_mlp_probe(x[:5], y, 2)
