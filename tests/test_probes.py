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
    with pytest.raises(ValueError, match="l2_penalty"):
        train_linear_probes(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]), l2_penalty="l2")
    with pytest.raises(ValueError, match="init_scale"):
        train_linear_probes(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]), init_scale="fan")


def test_per_probe_seeds_match_separate_runs():
    x, y = planted()
    kwargs = dict(l1=[1e-3, 0.0, 1e-2], l2=1e-4, epochs=3, batch_size=64, lr=1e-2, progress=False)
    together = train_linear_probes(x, y, seeds=[0, 7, 11], **kwargs)
    for g, seed in enumerate([0, 7, 11]):
        alone = train_linear_probes(
            x,
            y,
            l1=kwargs["l1"][g],
            l2=1e-4,
            epochs=3,
            batch_size=64,
            lr=1e-2,
            seed=seed,
            progress=False,
        )
        torch.testing.assert_close(together.weight[g], alone.weight[0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(together.bias[g], alone.bias[0], atol=1e-5, rtol=1e-4)


def test_neuron_sets_match_keep_masks():
    x, y = planted()
    sets = [torch.tensor([3, 5]), torch.tensor([0, 1, 2, 3, 4, 9]), torch.tensor([17])]
    keep = torch.zeros(3, x.shape[1], dtype=torch.bool)
    for g, s in enumerate(sets):
        keep[g, s] = True
    kwargs = dict(l1=1e-3, l2=1e-3, epochs=4, batch_size=50, lr=1e-2, progress=False)
    masked = train_linear_probes(x, y, keep=keep, **kwargs)
    indexed = train_linear_probes(x, y, neurons=sets, **kwargs)
    torch.testing.assert_close(indexed.weight, masked.weight, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(indexed.bias, masked.bias, atol=1e-5, rtol=1e-4)
    assert (indexed.weight[~keep] == 0).all()
    # per-probe seeds with neuron sets: each as its own run
    seeded = train_linear_probes(x, y, neurons=sets, seeds=[1, 2, 3], **kwargs)
    alone = train_linear_probes(x, y, keep=keep[1:2], seed=2, **kwargs)
    torch.testing.assert_close(seeded.weight[1], alone.weight[0], atol=1e-5, rtol=1e-4)


def test_step_budget_and_loss_record():
    x, y = planted()  # 600 examples, batch 64: 10 steps an epoch
    default = train_linear_probes(x, y, l1=1e-3, epochs=2, batch_size=64, lr=1e-2, progress=False)
    recorded = train_linear_probes(
        x, y, l1=1e-3, epochs=2, batch_size=64, lr=1e-2, progress=False, record_losses=True
    )
    assert default.losses is None and recorded.steps == 20 and recorded.losses.shape == (2, 1)
    torch.testing.assert_close(recorded.weight, default.weight, atol=1e-5, rtol=1e-4)
    budget = train_linear_probes(
        x, y, l1=1e-3, max_steps=25, batch_size=64, lr=1e-2, progress=False
    )
    assert budget.steps == 25 and budget.losses.shape == (3, 1)
    longer = train_linear_probes(
        x, y, l1=1e-3, max_steps=200, batch_size=64, lr=1e-2, progress=False
    )
    assert longer.losses[-1, 0] < longer.losses[0, 0]  # the objective went down
    with pytest.raises(ValueError, match="max_steps"):
        train_linear_probes(x, y, max_steps=0, progress=False)
    with pytest.raises(ValueError, match="not both"):
        train_linear_probes(
            x,
            y,
            keep=torch.ones(1, 20, dtype=torch.bool),
            neurons=[torch.tensor([1])],
            progress=False,
        )
    with pytest.raises(ValueError, match="seeds must be"):
        train_linear_probes(x, y, neurons=[[1], [2], [3]], seeds=[1, 2], progress=False)


def test_probes_of_different_tasks_in_one_call():
    x, y = planted()  # 3 classes
    other = (x[:, 7] > 0).long()  # 2 classes
    kwargs = dict(epochs=3, batch_size=64, lr=1e-2, progress=False)
    together = train_linear_probes(
        x,
        y,
        targets=[y, other, other],
        class_counts=[3, 2, 2],
        seeds=[0, 0, 5],
        l1=[1e-3, 0.0, 1e-3],
        neurons=[torch.arange(20), torch.tensor([7, 8]), torch.arange(20)],
        **kwargs,
    )
    assert together.weight.shape == (3, 20, 3)
    alone = train_linear_probes(x, other, l1=1e-3, seed=5, **kwargs)
    torch.testing.assert_close(together.weight[2, :, :2], alone.weight[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(together.bias[2, :2], alone.bias[0], atol=1e-5, rtol=1e-4)
    assert (together.weight[1:, :, 2] == 0).all() and torch.isinf(together.bias[1:, 2]).all()
    alone = train_linear_probes(x, y, l1=1e-3, seed=0, **kwargs)
    torch.testing.assert_close(together.weight[0], alone.weight[0], atol=1e-5, rtol=1e-4)
    # one seed for two tasks: each still has its own run's shuffles (its generator has drawn
    # an initialisation of its own number of classes before them)
    one_seed = train_linear_probes(x, y, targets=[y, other], class_counts=[3, 2], **kwargs)
    alone = train_linear_probes(x, other, **kwargs)
    torch.testing.assert_close(one_seed.weight[1, :, :2], alone.weight[0], atol=1e-5, rtol=1e-4)
    assert together.predict(x)[1].max() < 2  # an absent class is never predicted
    with pytest.raises(ValueError, match="targets must lie"):
        train_linear_probes(x, y, targets=[y], class_counts=[2], progress=False)


def test_streamed_mini_batches_give_the_same_probes():
    """``stream=True`` (x left where it is, each mini-batch's rows copied to the training
    device: a training set larger than the GPU) trains the same probes, on both paths."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(300, 12, generator=gen)
    y = (x[:, 0] > 0).long() + (x[:, 3] > 0.5).long()
    kwargs = dict(epochs=2, batch_size=64, lr=1e-2, progress=False)
    for extra in (
        dict(l1=[0.0, 1e-3]),  # the fused grid
        dict(seeds=[0, 1, 1]),  # per-probe shuffles: the batch's distinct rows
        dict(neurons=[torch.arange(5), torch.tensor([2, 7, 11])]),  # shared shuffles
        dict(seeds=[4, 5], neurons=[torch.arange(5), torch.tensor([2, 7, 11])], max_steps=7),
    ):
        here = train_linear_probes(x, y, **kwargs, **extra)
        streamed = train_linear_probes(x, y, stream=True, **kwargs, **extra)
        assert torch.equal(here.weight, streamed.weight), extra
        assert torch.equal(here.bias, streamed.bias), extra


@pytest.mark.gpu
def test_host_held_training_set_streams_to_the_gpu():
    """x on the host, training on CUDA: the mini-batches are copied (the default when the
    devices differ), evaluation goes over in chunks, and the probes match those trained on
    a copy of x on the device."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2000, 48, generator=gen)
    y = (x[:, 0] > 0).long() + (x[:, 3] > 0.5).long()
    kwargs = dict(epochs=2, batch_size=64, lr=1e-2, progress=False, device="cuda")
    for extra in (dict(l1=[0.0, 1e-3]), dict(seeds=[0, 1], neurons=[torch.arange(5)] * 2)):
        streamed = train_linear_probes(x, y, **kwargs, **extra)
        on_device = train_linear_probes(x.cuda(), y.cuda(), **kwargs, **extra)
        torch.testing.assert_close(streamed.weight, on_device.weight)
        torch.testing.assert_close(streamed.accuracy(x, y), on_device.accuracy(x.cuda(), y))


def test_linear_step_size_decay_matches_the_textbook_loop():
    """lr_decay: step t of T moves with Adam at lr (1 - t / T), as a plain nn.Linear loop
    that sets the step size before each step."""
    x, y = planted(n=300)
    epochs, batch_size, lr, seed = 3, 64, 1e-2, 5
    probe = train_linear_probes(
        x, y, l1=1e-3, l2=1e-4, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
        progress=False, lr_decay=True,
    )  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    bound = 1.0 / x.shape[1] ** 0.5
    w = ((torch.rand(x.shape[1], 3, generator=gen) * 2 - 1) * bound).requires_grad_()
    b = ((torch.rand(3, generator=gen) * 2 - 1) * bound).requires_grad_()
    optimizer = torch.optim.Adam([w, b], lr=lr)
    total, step = epochs * -(-len(x) // batch_size), 0
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss = torch.nn.functional.cross_entropy(x[idx] @ w + b, y[idx])
            loss = loss + 1e-3 * w.abs().sum() + 1e-4 * w.pow(2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.param_groups[0]["lr"] = lr * (1 - step / total)
            optimizer.step()
            step += 1
    torch.testing.assert_close(probe.weight[0], w.detach(), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(probe.bias[0], b.detach(), atol=1e-5, rtol=1e-4)
    constant = train_linear_probes(
        x, y, l1=1e-3, l2=1e-4, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
        progress=False,
    )  # fmt: skip
    assert not torch.allclose(constant.weight, probe.weight)
