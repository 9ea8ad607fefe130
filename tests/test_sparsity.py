import math

import numpy as np
import pytest
import torch

from utils.lstm import LSTMNetwork
from utils.sparsity import (
    concentration,
    mean_per_word,
    pearson,
    softmax_gradient,
    softmax_gradient_concentration,
)


def test_concentration_bounds_and_loop():
    assert float(concentration(torch.tensor([0.0, 3.0, 0.0]))) == pytest.approx(1.0)
    assert float(concentration(torch.ones(16))) == pytest.approx(1 / math.sqrt(16))
    assert math.isnan(float(concentration(torch.zeros(4))))
    v = torch.randn(50, 8)
    naive = [math.sqrt(sum(x * x for x in row)) / sum(abs(x) for x in row) for row in v.tolist()]
    torch.testing.assert_close(concentration(v), torch.tensor(naive))


def test_softmax_gradient_equals_autograd():
    torch.manual_seed(0)
    model = LSTMNetwork(vocab_size=30, n_outputs=30, embedding_dim=5, hidden_dim=7, n_layers=2)
    h = torch.randn(3, 4, 7, requires_grad=True)
    targets = torch.randint(0, 30, (3, 4))
    logit_grad, hidden_grad = softmax_gradient(model.decoder, h, targets)
    loss = torch.nn.functional.cross_entropy(
        model.decoder(h).reshape(-1, 30), targets.reshape(-1), reduction="sum"
    )
    loss.backward()
    torch.testing.assert_close(hidden_grad, h.grad)
    assert torch.allclose(logit_grad.sum(-1), torch.zeros(3, 4), atol=1e-6)


def test_mean_per_word_and_pearson():
    values = torch.tensor([1.0, 3.0, 5.0, 2.0])
    words = torch.tensor([0, 0, 2, 2])
    means, counts = mean_per_word(values, words, 4)
    assert means[0] == 2.0 and means[2] == 3.5 and means[1].isnan()
    assert counts.tolist() == [2, 0, 2, 0]
    x, y = torch.randn(100), torch.randn(100)
    assert pearson(x, y) == pytest.approx(np.corrcoef(x.numpy(), y.numpy())[0, 1], abs=1e-6)
    x[5] = float("nan")
    assert not math.isnan(pearson(x, y))
    with pytest.raises(ValueError, match="word ids"):
        mean_per_word(values, torch.tensor([0, 0, 9, 2]), 4)


@pytest.mark.parametrize("chunk", [None, 1, 5])
def test_chunked_gradient_concentration_equals_the_whole(chunk):
    torch.manual_seed(1)
    model = LSTMNetwork(vocab_size=40, n_outputs=40, embedding_dim=5, hidden_dim=7, n_layers=2)
    h = torch.randn(3, 6, 7)
    targets = torch.randint(0, 40, (3, 6))
    logit_grad, hidden_grad = softmax_gradient(model.decoder, h, targets)
    chi, hidden = softmax_gradient_concentration(model.decoder, h, targets, chunk_tokens=chunk)
    torch.testing.assert_close(chi, concentration(logit_grad))
    torch.testing.assert_close(hidden, hidden_grad)
