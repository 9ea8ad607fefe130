import pytest
import torch

from tests.naive_rankings import (
    naive_neuron_ordering,
    naive_probeless_scores,
    naive_top_neurons_per_tag,
)
from utils.rankings import (
    class_means,
    layer_histogram,
    mass_cutoffs,
    minimal_neuron_set,
    neuron_mask,
    neuron_ordering,
    probeless_ranking,
    probeless_scores,
    select_neurons,
    tag_layer_histograms,
    top_neurons_per_tag,
    union_fraction,
    weight_magnitude_ranking,
)


def sparse_weight(d=60, c=5, seed=0):
    """Elastic-net-like weights: mostly small, some exact zeros, a few large."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(d, c, generator=gen) ** 3
    w[torch.rand(d, c, generator=gen) < 0.3] = 0.0
    return w


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ordering_matches_algorithm_3(seed):
    weight = sparse_weight(seed=seed)
    ordering, cutoffs = neuron_ordering(weight)
    assert ordering.tolist() == naive_neuron_ordering(weight)
    assert sorted(ordering.tolist()) == list(range(len(weight)))
    assert cutoffs[0] == len({naive_top_neurons_per_tag(weight, 0.0)[t][0] for t in range(5)})
    assert (cutoffs.diff() >= 0).all()


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.93, 1.0])
def test_per_tag_sets_match_the_running_sum(fraction):
    weight = sparse_weight(seed=3)
    got = top_neurons_per_tag(weight, fraction)
    want = naive_top_neurons_per_tag(weight, fraction)
    assert [set(g.tolist()) for g in got] == [set(w) for w in want]
    counts = mass_cutoffs(weight, torch.tensor([fraction]))[0]
    assert counts.tolist() == [len(w) for w in want]


def test_at_zero_mass_each_tag_keeps_its_top_neuron():
    weight = torch.tensor([[0.1, 5.0], [3.0, 0.2], [0.5, 0.5]])
    assert [s.tolist() for s in top_neurons_per_tag(weight, 0.0)] == [[1], [0]]


def test_planted_neuron_ranks_first():
    weight = 0.01 * torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    weight[17] = torch.tensor([2.0, -3.0, 1.5, -2.5])
    ordering, _ = neuron_ordering(weight)
    assert ordering[0] == 17
    assert weight_magnitude_ranking(weight)[0] == 17


def test_selections_and_masks():
    ordering = torch.tensor([4, 2, 0, 3, 1])
    assert select_neurons(ordering, 2, "top").tolist() == [4, 2]
    assert select_neurons(ordering, 2, "bottom").tolist() == [3, 1]
    random = select_neurons(ordering, 3, "random", seed=1)
    assert len(set(random.tolist())) == 3
    assert torch.equal(random, select_neurons(ordering, 3, "random", seed=1))
    assert neuron_mask(torch.tensor([0, 3]), 5).tolist() == [True, False, False, True, False]
    with pytest.raises(ValueError, match="unknown selection"):
        select_neurons(ordering, 2, "middle")
    with pytest.raises(ValueError, match="count"):
        select_neurons(ordering, 6)
    with pytest.raises(ValueError, match="indices"):
        neuron_mask(torch.tensor([5]), 5)


def test_layer_histogram_folds_concatenated_copies():
    hidden, layers = 4, 3
    neurons = torch.tensor([0, 3, 4, 11, 12, 23])  # the last two: second copy, layers 0 and 2
    assert layer_histogram(neurons, hidden, layers).tolist() == [3, 1, 2]


@pytest.mark.parametrize("n", [5, 17, 40])
def test_union_fraction_is_the_first_step_whose_union_holds_n(n):
    weight = sparse_weight(seed=4)
    fraction = union_fraction(weight, n)
    union = set().union(*(w for w in naive_top_neurons_per_tag(weight, fraction)))
    assert len(union) >= n
    if fraction > 0:  # at 0 every tag keeps its top neuron: no earlier step
        before = naive_top_neurons_per_tag(weight, fraction - 0.01)
        assert n > len(set().union(*before))


def test_tag_layer_histograms_count_each_tags_set_by_layer():
    weight = torch.zeros(12, 2)  # 3 layers of 4 neurons
    weight[1, 0], weight[9, 1], weight[10, 1] = 5.0, 3.0, 3.0
    hists = tag_layer_histograms(weight, 3, hidden_size=4, n_layers=3)
    assert hists.tolist() == [[1, 0, 0], [0, 0, 2]]
    with pytest.raises(ValueError, match="n_neurons"):
        union_fraction(weight, 13)


def test_probeless_matches_the_sum_over_class_pairs():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(200, 12, generator=gen)
    y = torch.randint(0, 5, (200,), generator=gen)
    torch.testing.assert_close(probeless_scores(x, y), naive_probeless_scores(x, y))
    torch.testing.assert_close(class_means(x, y)[3], x[y == 3].mean(0))


def test_probeless_finds_the_planted_neuron_and_skips_absent_classes():
    gen = torch.Generator().manual_seed(1)
    y = torch.randint(0, 3, (300,), generator=gen) * 2  # classes 0, 2, 4 only
    x = torch.randn(300, 10, generator=gen)
    x[:, 6] += 3.0 * y
    assert probeless_ranking(x, y)[0] == 6
    with pytest.raises(ValueError, match="no examples"):
        class_means(x, y)


def fake_evaluate(curve, calls):
    def evaluate(sizes):
        calls.append(list(sizes))
        return [curve(n) for n in sizes]

    return evaluate


def test_minimal_set_stops_at_the_first_size_within_delta():
    calls = []
    result = minimal_neuron_set(
        1000, fake_evaluate(lambda n: 0.905 + n / 1000, calls), oracle_accuracy=0.98, chunk=5
    )
    # 0.98 - (0.905 + n / 1000) < 0.01 first holds at n = 70 (7 %)
    assert result.reached and result.count == 70 and result.fraction == 0.07
    assert calls == [[10, 20, 30, 40, 50], [60, 70, 80, 90, 100]]
    assert result.counts == [10, 20, 30, 40, 50, 60, 70]


def test_minimal_set_is_not_the_inverted_condition_of_the_paper():
    # the printed "until N < length" would stop after one step whatever the accuracy
    result = minimal_neuron_set(100, fake_evaluate(lambda n: 0.5, []), oracle_accuracy=0.9)
    assert not result.reached and result.count == 100 and len(result.counts) == 100
    capped = minimal_neuron_set(
        100, fake_evaluate(lambda n: 0.5, []), oracle_accuracy=0.9, max_fraction=0.3
    )
    assert capped.count == 30 and not capped.reached


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="weight must be"):
        neuron_ordering(torch.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        neuron_ordering(torch.full((3, 2), float("nan")))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mass_cutoffs(torch.ones(3, 2), torch.tensor([1.5]))
    with pytest.raises(ValueError, match="step"):
        minimal_neuron_set(10, fake_evaluate(lambda n: 1.0, []), 1.0, step=0)
    with pytest.raises(ValueError, match="accuracies"):
        minimal_neuron_set(10, lambda sizes: [1.0], 1.0, chunk=2)
