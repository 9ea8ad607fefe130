import torch

from utils.lca import ProbeJob, ProbeSettings, train_probe_jobs
from utils.lca_protocol import (
    new_replicate,
    retrain_other_sets,
    search_minimal_sets,
    size_grid,
    word_baselines,
    zero_out_scores,
)


def planted_task(n=600, d=24, seed=0) -> dict:
    """Three classes read off neurons 2 and 5 (the rest noise), in the chapter's task layout:
    the first half of the words trains, then a quarter each for dev and test; the control
    labels are random."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen)
    y = (x[:, 2] > 0).long() + (x[:, 5] > 0.5).long()
    control = torch.randint(0, 3, (n,), generator=gen)
    split = torch.repeat_interleave(torch.arange(3), torch.tensor([n // 2, n // 4, n // 4]))
    data = {"task": "planted", "classes": ["a", "b", "c"], "split": split,
            "words": [f"w{i % 50}" for i in range(n)]}  # fmt: skip
    for index, name in enumerate(("train", "dev", "test")):
        data[name] = (x[split == index], y[split == index])
    data["control"] = {name: control[split == i] for i, name in enumerate(("train", "dev", "test"))}
    return data


SETTINGS = ProbeSettings(epochs=30, batch_size=64, lr=2e-2, lr_decay=True)


def test_the_protocol_finds_the_planted_neurons():
    data = planted_task()
    lambdas = {"planted": (1e-3, 0.0)}
    seeds = [0, 1]
    jobs = [ProbeJob(data["train"][1], 3, 1e-3, 0.0, s) for s in seeds]
    jobs += [ProbeJob(data["control"]["train"], 3, 1e-3, 0.0, s) for s in seeds]
    trained = train_probe_jobs(data["train"][0], jobs, SETTINGS)
    baselines = word_baselines(data)
    replicates = {
        "planted": [new_replicate(data, trained[k], s, baselines) for k, s in enumerate(seeds)]
    }
    for rep in replicates["planted"]:
        assert set(rep["ordering"][:2].tolist()) == {2, 5}  # Algorithm 3 reads the weights
        zero_out_scores(rep, data, fraction=0.25, n_draws=4)
        # Table 2: the top quarter keeps the oracle's accuracy, the bottom falls to chance
        assert rep["zero_top"] >= rep["acc_all"] - 0.02
        assert rep["zero_bottom"] < 0.6 and len(rep["zero_random_draws"]) == 4
    sizes = {"planted": size_grid(24, (5, 10, 50), 0.5)}  # 1, 2 and 12 neurons
    search_minimal_sets(replicates, {"planted": data}, lambdas, SETTINGS, sizes=sizes,
                        delta=0.02, first_round=2)  # fmt: skip
    for rep in replicates["planted"]:
        # Algorithm 4: the two planted neurons are the smallest set within delta
        assert rep["minimal"].reached and rep["n"] == 2 and rep["curve"][2] > rep["curve"][1]
    control_all = {("planted", k): trained[2 + k] for k in range(2)}
    retrain_other_sets(replicates, {"planted": data}, lambdas, SETTINGS, n_draws=3,
                       paper_sizes={"planted": 0.25}, control_all=control_all)  # fmt: skip
    for rep in replicates["planted"]:
        # Table 5: two random neurons or the bottom two do far worse than the top two
        assert rep["acc_top"] - rep["acc_random"] > 0.2 and rep["acc_bottom"] < 0.6
        assert len(rep["acc_random_draws"]) == 3 and "acc_paper_top" in rep
        # the control task is not learnable from the neurons: selectivity is positive
        assert rep["sel_top"] > 0.3 and rep["control_all"] < 0.5


def test_word_baselines_and_size_grid():
    data = planted_task()
    by_word, majority = word_baselines(data)
    assert 0 < majority < 1 and 0 <= by_word <= 1
    assert size_grid(200, (1, 2, 3), 0.3) == [2, 4, 6]
    assert size_grid(100, "all", 0.05) == [1, 2, 3, 4, 5]
