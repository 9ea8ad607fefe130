import pytest
import torch

from utils.hard_concrete import HardConcrete

LOCS = torch.tensor([-3.0, -1.0, 0.0, 0.7, 2.5])
DISTRIBUTIONS = [HardConcrete(), HardConcrete(0.2, -0.2, 1.0), HardConcrete(1.5, -0.4, 1.3)]


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_closed_forms_agree_with_monte_carlo(dist):
    gen = torch.Generator().manual_seed(0)
    samples = dist.sample(LOCS, (200_000,), generator=gen)
    assert samples.min() >= 0 and samples.max() <= 1
    tol = 4e-3  # ~4 standard errors at 200k samples
    torch.testing.assert_close(
        (samples != 0).float().mean(0), dist.prob_nonzero(LOCS), atol=tol, rtol=0
    )
    torch.testing.assert_close(
        (samples == 1).float().mean(0), dist.prob_one(LOCS), atol=tol, rtol=0
    )
    open_mass = ((samples > 0) & (samples < 1)).float().mean(0)
    torch.testing.assert_close(open_mass, dist.prob_open(LOCS), atol=tol, rtol=0)
    torch.testing.assert_close(samples.mean(0), dist.mean(LOCS), atol=tol, rtol=0)


def test_upper_limit_one_has_no_mass_at_one():
    dist = HardConcrete(0.5, -0.2, 1.0)
    samples = dist.sample(LOCS, (10_000,), generator=torch.Generator().manual_seed(1))
    assert (samples == 1).sum() == 0
    assert torch.equal(dist.prob_one(LOCS), torch.zeros_like(LOCS))
    torch.testing.assert_close(dist.prob_open(LOCS), dist.prob_nonzero(LOCS))


def test_printed_orientation_mirrors_the_location():
    dist = HardConcrete()
    printed = dist.sample(
        LOCS, (100_000,), generator=torch.Generator().manual_seed(2), printed=True
    )
    standard = dist.sample(-LOCS, (100_000,), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(printed.mean(0), standard.mean(0), atol=5e-3, rtol=0)
    torch.testing.assert_close(
        (printed != 0).float().mean(0), dist.prob_nonzero(-LOCS), atol=5e-3, rtol=0
    )


def test_samples_are_differentiable_and_batched():
    loc = torch.zeros(3, 4, requires_grad=True)
    samples = HardConcrete().sample(loc, (5,), generator=torch.Generator().manual_seed(0))
    assert samples.shape == (5, 3, 4)
    samples.sum().backward()
    assert loc.grad is not None and loc.grad.abs().sum() > 0
    assert HardConcrete().prob_nonzero(loc).shape == (3, 4)
    assert HardConcrete().mean(loc).shape == (3, 4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"temperature": 0.0}, "temperature"), ({"lower": 0.0}, "lower"), ({"upper": 0.9}, "upper")],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HardConcrete(**kwargs)
