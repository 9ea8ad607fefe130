from collections import Counter

import numpy as np
import pytest
import torch

from tests.naive import train_probe_alone
from utils.corpus import Corpus, Sentence
from utils.corpus.word_tasks import dependency_arcs, word_positions
from utils.lca import (
    GRID_VALUES,
    ProbeJob,
    ProbeSettings,
    grid_search,
    memory_estimate,
    retrained_accuracy,
    train_probe_jobs,
    zero_out_accuracy,
)
from utils.neuron_words import top_words
from utils.probes import control_task_labels, train_linear_probes
from utils.redundancy import cluster_representatives, correlation_clusters, neuron_correlations


def planted(n=400, d=16, seed=0):
    """Three classes read off neurons 2 and 5; the rest is noise."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen)
    y = (x[:, 2] > 0).long() + (x[:, 5] > 0.5).long()
    return x, y


def test_masked_probes_equal_probes_on_zeroed_inputs():
    x, y = planted()
    keep = torch.zeros(3, 16, dtype=torch.bool)
    keep[0, :4] = True
    keep[1, 4:] = True
    keep[2] = True
    l1 = [0.0, 1e-3, 1e-2]
    probe = train_linear_probes(
        x, y, l1=l1, keep=keep, epochs=3, batch_size=64, lr=1e-2, progress=False
    )
    for g in range(3):
        w, b = train_probe_alone(x * keep[g], y, 3, l1[g], 0.0, 3, 64, 1e-2, seed=0)
        torch.testing.assert_close(probe.weight[g], w * keep[g, :, None], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(probe.bias[g], b, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="keep must be"):
        train_linear_probes(x, y, keep=keep[:, :3], progress=False)


def test_retrained_accuracy_matches_one_probe_per_subset():
    x, y = planted()
    subsets = torch.zeros(2, 16, dtype=torch.bool)
    subsets[0, [2, 5, 7]] = True
    subsets[1, [1, 5, 9]] = True
    settings = ProbeSettings(epochs=5, batch_size=64, lr=1e-2)
    got = retrained_accuracy((x, y), [(x, y)], subsets, settings, n_classes=3)
    assert got.shape == (1, 2)
    support = subsets.any(0)
    for k in range(2):
        zeroed = x[:, support] * subsets[k, support]
        w, b = train_probe_alone(zeroed, y, 3, 0.0, 0.0, 5, 64, 1e-2, seed=0)
        want = ((zeroed @ w + b).argmax(1) == y).float().mean()
        assert abs(float(got[0, k]) - float(want)) < 1e-6
    assert got[0, 0] > got[0, 1] + 0.1  # neurons 2 and 5 carry the task
    with pytest.raises(ValueError, match="at least one neuron"):
        retrained_accuracy(
            (x, y), [(x, y)], torch.zeros(1, 16, dtype=torch.bool), settings, n_classes=3
        )


def test_zero_out_accuracy_matches_a_loop():
    x, y = planted()
    probe = train_linear_probes(x, y, l1=[0.0, 1e-3], epochs=5, lr=1e-2, progress=False)
    subsets = torch.rand(4, 16, generator=torch.Generator().manual_seed(0)) < 0.5
    got = zero_out_accuracy(probe, x, y, subsets, index=1)
    for k in range(4):
        want = probe.accuracy(x * subsets[k], y)[1]
        assert abs(float(got[k]) - float(want)) < 1e-6
    # in chunks of a few words (no (K, N, C) block is ever whole): the same accuracies
    chunked = zero_out_accuracy(probe, x, y, subsets, index=1, max_elements=4 * 3 * 7)
    torch.testing.assert_close(chunked, got)


@pytest.mark.parametrize("retrain", [True, False])
def test_grid_search_prefers_a_penalty_that_separates_top_from_bottom(retrain):
    x, y = planted(n=800, d=30)
    settings = ProbeSettings(epochs=8, batch_size=64, lr=1e-2)
    values = (1e-3, 1e-2, 0.0)
    grid = grid_search(
        (x[:600], y[:600]),
        (x[600:], y[600:]),
        settings,
        n_classes=3,
        values=values,
        retrain=retrain,
    )
    assert grid.score.shape == (9,) and grid.probes.weight.shape == (9, 30, 3)
    assert grid.unregularised == pytest.approx(float(grid.accuracy[8]))
    torch.testing.assert_close(
        grid.score, 0.5 * (grid.top - grid.bottom) - 0.5 * (grid.unregularised - grid.accuracy)
    )
    assert grid.best == int(grid.score.argmax())
    assert (grid.top > grid.bottom).all()
    with pytest.raises(ValueError, match="contain 0"):
        grid_search((x, y), (x, y), settings, n_classes=3, values=(1e-3,))


def test_the_paper_grid_has_49_points_with_zero():
    assert len(GRID_VALUES) ** 2 == 49 and 0.0 in GRID_VALUES


def test_control_labels_are_per_type_with_the_task_marginals():
    forms = ["a", "b", "a", "c", "b", "A"] * 200
    labels = ["X", "Y", "X", "X", "Y", "X"] * 200
    control = control_task_labels(forms, labels, seed=0)
    by_type = {}
    for form, label in zip(forms, control):
        assert by_type.setdefault(form, label) == label
    assert set(control) <= {"X", "Y"}
    many = control_task_labels([str(i) for i in range(4000)], ["X", "X", "X", "Y"] * 1000)
    assert abs(Counter(many)["X"] / 4000 - 0.75) < 0.03
    lowered = control_task_labels(forms, labels, case_sensitive=False)
    assert lowered[0] == lowered[5]
    with pytest.raises(ValueError, match="labels"):
        control_task_labels(["a"], [])


def tiny_corpus():
    first = Sentence(
        ["The", "cat", "sat", "."],
        {"head": ["2", "3", "0", "3"], "deprel": ["det", "nsubj", "root", "punct"]},
    )
    second = Sentence(["Dogs", "bark"], {"head": ["2", "0"], "deprel": ["nsubj", "root"]})
    return Corpus([first, second])


def test_dependency_arcs_and_positions():
    modifiers, heads, labels = dependency_arcs(tiny_corpus())
    assert modifiers.tolist() == [0, 1, 3, 4]
    assert heads.tolist() == [1, 2, 2, 5]
    assert labels == ["det", "nsubj", "punct", "nsubj"]
    assert word_positions(tiny_corpus()) == ["BEG", "BEG", "MID", "END", "BEG", "MID"]


def test_top_words_finds_strong_negative_responses():
    forms = ["the", "dog", "Monday", "cat", "Monday", "the"]
    values = torch.tensor([0.1, 0.0, -5.0, 0.2, -4.0, 0.1])
    words = top_words(values, forms, k=2)
    assert words[0] == ("Monday", 1.0)
    with pytest.raises(ValueError, match="word forms"):
        top_words(values, forms[:3])


def test_correlation_clusters_group_copies():
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(500, 3, generator=gen)
    noise = 0.05 * torch.randn(500, 6, generator=gen)
    x = torch.cat([base, -base], 1) + noise  # neuron j and j + 3 anti-correlated copies
    corr = neuron_correlations(x)
    np.testing.assert_allclose(corr.numpy(), np.corrcoef(x.numpy().T), atol=1e-5)
    # summed over chunks of a few words (never a float64 copy of x): the same correlations
    chunked = neuron_correlations(x, max_elements=40)
    np.testing.assert_allclose(chunked.numpy(), corr.numpy(), atol=1e-6)
    constant = torch.cat([x, torch.full((500, 1), 2.0)], 1)
    corr_c = neuron_correlations(constant, max_elements=100)
    assert float(corr_c[-1, -1]) == 1.0 and float(corr_c[-1, :-1].abs().max()) == 0.0
    labels = correlation_clusters(x, threshold=0.5)
    assert len(set(labels)) == 3
    assert all(labels[j] == labels[j + 3] for j in range(3))
    assert len(set(correlation_clusters(x, threshold=0.5, absolute=False))) == 6
    chosen = cluster_representatives(labels, seed=0)
    assert len(chosen) == 3 and len({int(labels[j]) for j in chosen}) == 3


def test_the_49_grid_probes_match_49_sequential_trainings():
    x, y = planted(n=300, d=12)
    l1 = [a for a in GRID_VALUES for _ in GRID_VALUES]
    l2 = [b for _ in GRID_VALUES for b in GRID_VALUES]
    grid = train_linear_probes(x, y, l1=l1, l2=l2, epochs=2, batch_size=32, progress=False)
    for g, (a, b) in enumerate(zip(l1, l2)):
        w, bias = train_probe_alone(x, y, 3, a, b, epochs=2, batch_size=32, lr=1e-3, seed=0)
        alone = ((x @ w + bias).argmax(1) == y).float().mean()
        assert abs(float(grid.accuracy(x, y)[g]) - float(alone)) <= 0.005


def test_fine_tuned_encoder_changes_a_copy_and_is_cached(minilm):
    from transformers import BertConfig, BertModel

    from utils.fine_tuning import fine_tuned_encoder

    _, tokenizer = minilm
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    torch.manual_seed(0)
    model = BertModel(config).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    sentences = [["a", "good", "film"], ["a", "bad", "film"]] * 4
    labels = [1, 0] * 4
    tuned = fine_tuned_encoder(
        model, tokenizer, sentences, labels, steps=3, batch_size=4, lr=1e-2, progress=False
    )
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    moved = [k for k, v in tuned.state_dict().items() if not torch.equal(v, before[k])]
    assert moved and not tuned.training
    again = fine_tuned_encoder(
        model, tokenizer, sentences, labels, steps=3, batch_size=4, lr=1e-2, progress=False
    )
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in tuned.state_dict().items())
    with pytest.raises(ValueError, match="labels"):
        fine_tuned_encoder(model, tokenizer, sentences, labels[:3])


def test_retrained_by_index_matches_one_probe_per_subset():
    x, y = planted()
    subsets = torch.zeros(3, 16, dtype=torch.bool)
    subsets[0, [2, 5, 7]] = True
    subsets[1, [1, 5, 9, 11, 12]] = True
    subsets[2, 2] = True
    settings = ProbeSettings(epochs=4, batch_size=64, lr=1e-2)
    got = retrained_accuracy((x, y), [(x, y)], subsets, settings, n_classes=3, by_index=True)
    # the initial weights are drawn for the full width, so each probe is the one trained on
    # the zeroed inputs of all 16 neurons
    for k in range(3):
        w, b = train_probe_alone(x * subsets[k], y, 3, 0.0, 0.0, 4, 64, 1e-2, seed=0)
        accuracy = ((x * subsets[k]) @ w + b).argmax(1).eq(y).float().mean()
        assert abs(float(got[0, k]) - float(accuracy)) < 1.01 / len(y)


def test_probe_settings_step_budget():
    x, y = planted()
    probe = ProbeSettings(batch_size=64, lr=1e-2, max_steps=30).train(x, y, 3, l1=1e-3)
    assert probe.steps == 30 and probe.losses.shape == (5, 1)  # 7 batches an epoch
    assert ProbeSettings(batch_size=64).steps_per_epoch(len(x)) == 7


def test_probe_jobs_of_several_tasks_match_separate_runs():
    x, y = planted()
    other = (x[:, 9] > 0).long()
    settings = ProbeSettings(epochs=3, batch_size=64, lr=1e-2)
    jobs = [
        ProbeJob(y, 3, 1e-3, 0.0, seed=0),
        ProbeJob(other, 2, 0.0, 1e-3, seed=4, neurons=torch.tensor([9, 10, 11])),
    ]
    first, second = train_probe_jobs(x, jobs, settings)
    assert first.weight.shape == (1, 16, 3) and second.weight.shape == (1, 16, 2)
    alone = ProbeSettings(epochs=3, batch_size=64, lr=1e-2, seed=0).train(x, y, 3, l1=1e-3)
    torch.testing.assert_close(first.weight, alone.weight, atol=1e-5, rtol=1e-4)
    keep = torch.zeros(1, 16, dtype=torch.bool)
    keep[0, 9:12] = True
    alone = ProbeSettings(epochs=3, batch_size=64, lr=1e-2, seed=4).train(
        x, other, 2, l2=1e-3, keep=keep
    )
    torch.testing.assert_close(second.weight, alone.weight, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(second.bias, alone.bias, atol=1e-5, rtol=1e-4)
    assert train_probe_jobs(x, [], settings) == []


def test_memory_estimate_at_the_papers_sizes_fits_a_24_gb_gpu():
    """BERT-base (13 x 768 neurons, 110M weights) on the paper's POS data (36,557 sentences:
    they stay in host memory), the largest tag set of its three tasks (SEM, 73), batches of
    512, three probe seeds, Algorithm 4 by 1 % up to 30 %, the grid retrained, Table 2's 25
    masks, fine-tuning: the device holds the encoders, the probes and bounded chunks."""
    parts = memory_estimate(
        n_neurons=13 * 768, n_classes=73, batch_size=512, n_seeds=3, n_word_tasks=5,
        search_percents=range(1, 31), n_masks=25, grid_retrain=True,
        encoder_parameters=110_000_000, n_encoders=3, fine_tuning_tokens=16 * 128,
        hidden=768, n_layers=13,
    )  # fmt: skip
    assert sum(parts.values()) < 24 * 2**30 / 2
    # the probes grow with the neurons, never with the words
    bigger = memory_estimate(
        n_neurons=2 * 13 * 768,
        n_classes=73,
        batch_size=512,
        n_seeds=3,
        n_word_tasks=5,
        search_percents=range(1, 31),
        n_masks=25,
    )
    smaller = memory_estimate(
        n_neurons=13 * 768,
        n_classes=73,
        batch_size=512,
        n_seeds=3,
        n_word_tasks=5,
        search_percents=range(1, 31),
        n_masks=25,
    )
    assert sum(bigger.values()) < 2.1 * sum(smaller.values())
