import pytest
import torch

from utils.side_by_side import (
    chance_overlap,
    planted_activations,
    readout_flip_rate,
    recall_at_k,
    top_k_overlap,
)


def test_chance_overlap_is_the_mean_overlap_of_random_rankings():
    d, k, draws = 40, 7, 4000
    generator = torch.Generator().manual_seed(0)
    shared = [
        top_k_overlap(
            torch.randperm(d, generator=generator), torch.randperm(d, generator=generator), k
        )
        for _ in range(draws)
    ]
    # the hypergeometric variance is below k^2/d, so 4000 draws fix the mean to about 0.03
    assert sum(shared) / draws == pytest.approx(chance_overlap(k, d), abs=0.1)
    assert chance_overlap(0, d) == 0 and chance_overlap(d, d) == d


def test_chance_overlap_rejects_k_outside_the_units():
    with pytest.raises(ValueError, match="k=5, d=4"):
        chance_overlap(5, 4)


def test_top_k_overlap_and_recall_count_the_shared_units():
    first, second = torch.tensor([3, 1, 4, 0, 2]), torch.tensor([4, 3, 2, 1, 0])
    assert top_k_overlap(first, second, 2) == 1  # {3, 1} & {4, 3}
    assert top_k_overlap(first, second, 5) == 5
    assert recall_at_k(first, [4, 2], 3) == 0.5
    assert recall_at_k(first, torch.tensor([3]), 1) == 1.0
    with pytest.raises(ValueError, match="at least one reference unit"):
        recall_at_k(first, [], 3)


def test_planted_roles_are_distinct_and_placed_as_documented():
    planted = planted_activations(4000, 30, n_used=3, seed=1)
    assert planted.x.shape == (4000, 30) and planted.y.float().mean() == 0.5
    assert len(set(planted.encoded)) == 5
    assert planted.causal == [*planted.used, planted.copy]
    readout = torch.nonzero(planted.weight).flatten().tolist()
    assert sorted(readout) == sorted(planted.causal)  # the unused unit is not read
    assert planted.weight[planted.used[0]] == planted.weight[planted.copy]
    # every encoded unit separates the classes; a noise unit does not
    gap = planted.x[planted.y == 1].mean(0) - planted.x[planted.y == 0].mean(0)
    noise = [u for u in range(30) if u not in planted.encoded]
    assert gap[planted.encoded].min() > 1.0 and gap[noise].abs().max() < 0.3
    # the copy follows its original closely
    assert torch.corrcoef(planted.x[:, [planted.used[0], planted.copy]].T)[0, 1] > 0.99


def test_planted_activations_are_seeded_and_check_their_sizes():
    first, again = planted_activations(50, 10, seed=3), planted_activations(50, 10, seed=3)
    assert torch.equal(first.x, again.x) and first.used == again.used
    with pytest.raises(ValueError, match="d >= n_used \\+ 2"):
        planted_activations(50, 5, n_used=4)


def test_mean_ablation_flips_only_through_read_units():
    planted = planted_activations(3000, 20, seed=2)
    rates = readout_flip_rate(planted, [[planted.unused], [planted.used[0]], planted.causal, []])
    assert rates[0] == 0 and rates[3] == 0  # unread unit and empty set: nothing changes
    assert 0 < rates[1] < rates[2]  # one used unit flips some decisions, all of them more
