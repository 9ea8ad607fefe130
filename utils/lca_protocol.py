"""The evaluation protocol of Linguistic Correlation Analysis, one step at a time (Durrani,
Dalvi and Sajjad, Secs. 2.3-2.5: Tables 2, 3 and 5, Algorithm 4).

A **task** is a dict: ``"task"`` (its name), ``"classes"``, ``"train"``, ``"dev"`` and
``"test"`` as ``(x, y)`` pairs (``x`` ``(N, D)`` the words' neurons), ``"words"`` and
``"split"`` (each word's form and split, 0/1/2), and optionally ``"control"``: Hewitt and
Liang's control-task labels of each split (for selectivity). A **replicate** is one task
and one probe seed, a dict that the steps below fill in; it starts from the task's oracle
(the probe on every neuron) and its ordering (Algorithm 3 on the oracle's weights).

1. :func:`new_replicate`: the oracle's accuracies and the task's word-identity baselines
   (:func:`word_baselines`);
2. :func:`zero_out_scores` (Table 2): 20 % of the neurons kept, the rest zeroed, the
   oracle not retrained, for the top, bottom, weight-magnitude and random sets;
3. :func:`search_minimal_sets` (Algorithm 4): probes retrained on the top ``n`` neurons for
   a grid of ``n``; the minimal set is the first within ``delta`` of the oracle on dev;
4. :func:`retrain_other_sets` (Table 5, Table 3's Probeless and selectivity): probes
   retrained on random, bottom and Probeless sets of the minimal set's size, the paper's
   fixed sizes, and the control task on the minimal set and a random one.

Steps 3 and 4 take every replicate of tasks that share their inputs and train all their
probes in one batched call (:func:`utils.lca.train_probe_jobs`): on a CPU the mini-batch
loop is what costs, and the batch shares it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from utils.lca import ProbeJob, ProbeSettings, train_probe_jobs, zero_out_accuracy
from utils.probes import LinearProbe, encode_labels
from utils.rankings import (
    MinimalSet,
    neuron_mask,
    neuron_ordering,
    probeless_ranking,
    select_neurons,
    weight_magnitude_ranking,
)

Replicates = dict[str, list[dict]]  # task -> one replicate per probe seed


def task_splits(
    task: str,
    x: torch.Tensor,
    split: torch.Tensor,
    words: Sequence[str],
    labels: Sequence[str],
    control_labels: Sequence[str] | None = None,
) -> dict:
    """A task (see the module docstring) from the vectors ``x`` ``(N, D)`` of its examples,
    each example's split (0/1/2, in consecutive runs: train, then dev, then test), word form
    and label; with ``control_labels``, the control task's labels (for selectivity). The
    splits are views of ``x``, not copies."""
    if not len(x) == len(split) == len(words) == len(labels):
        raise ValueError(
            f"task {task!r}: {len(x)} vectors, {len(split)} splits, {len(words)} words and "
            f"{len(labels)} labels: one of each per example"
        )
    if not bool((split[1:] >= split[:-1]).all()):
        raise ValueError(f"task {task!r}: the splits must be consecutive (train, dev, test)")
    y, classes = encode_labels(labels)
    data = {"task": task, "classes": classes, "words": list(words), "split": split}
    ends = [0, *torch.bincount(split, minlength=3).cumsum(0).tolist()]
    for index, name in enumerate(("train", "dev", "test")):
        rows = slice(ends[index], ends[index + 1])
        data[name] = (x[rows], y[rows])
    if control_labels is not None:
        control, _ = encode_labels(control_labels, classes)
        data["control"] = {
            name: control[split == i] for i, name in enumerate(("train", "dev", "test"))
        }
    return data


def probe_job(
    data: dict,
    lambdas: tuple[float, float],
    seed: int,
    neurons: torch.Tensor | None = None,
    *,
    control: bool = False,
) -> ProbeJob:
    """The probe of ``data``'s task (or its control task) with the task's ``(lambda_1,
    lambda_2)``, a probe seed and, optionally, the neurons it reads."""
    targets = data["control"]["train"] if control else data["train"][1]
    return ProbeJob(targets, len(data["classes"]), lambdas[0], lambdas[1], seed, neurons)


def word_baselines(data: dict) -> tuple[float, float]:
    """Test accuracy of (a) each word's most frequent training tag (the majority tag for
    unseen words), which uses word identity only, and (b) the majority tag alone."""
    split = data["split"].tolist()
    words = {i: [w for w, s in zip(data["words"], split) if s == i] for i in (0, 2)}
    y_train, y_test = data["train"][1].tolist(), data["test"][1]
    counts = defaultdict(Counter)
    for word, tag in zip(words[0], y_train):
        counts[word][tag] += 1
    majority = Counter(y_train).most_common(1)[0][0]
    guess = torch.tensor(
        [counts[w].most_common(1)[0][0] if w in counts else majority for w in words[2]]
    )
    return float((guess == y_test).float().mean()), float((y_test == majority).float().mean())


def size_grid(n_neurons: int, percents: Sequence[float] | str, max_fraction: float) -> list[int]:
    """Algorithm 4's set sizes: ``percents`` of the neurons, or (``"all"``) every 1 % up
    to ``max_fraction``."""
    if percents == "all":
        percents = range(1, round(100 * max_fraction) + 1)
    return sorted({max(1, round(p / 100 * n_neurons)) for p in percents})


def new_replicate(
    data: dict, oracle: LinearProbe, seed: int, baselines: tuple[float, float]
) -> dict:
    """A replicate of ``data``'s task: ``oracle``, its ``ordering`` (Algorithm 3), its test
    and dev accuracies ``acc_all`` and ``acc_all_dev``, and the task's word-identity
    ``baselines`` ``acc_word`` and ``acc_majority`` (:func:`word_baselines`, computed once
    a task)."""
    acc_word, acc_majority = baselines
    return {
        "oracle": oracle,
        "ordering": neuron_ordering(oracle.weight[0].cpu())[0],
        "classes": data["classes"],
        "seed": seed,
        "acc_all": float(oracle.accuracy(*data["test"])[0]),
        "acc_all_dev": float(oracle.accuracy(*data["dev"])[0]),
        "acc_word": acc_word,
        "acc_majority": acc_majority,
    }


def zero_out_scores(replicate: dict, data: dict, *, fraction: float, n_draws: int) -> None:
    """Table 2: the oracle's test accuracy with only ``fraction`` of the neurons left on.

    Adds ``zero_top``, ``zero_bottom``, ``zero_wtmag`` (the weight-magnitude ranking),
    ``zero_random`` (the mean of ``n_draws`` random sets; ``zero_random_draws``,
    ``zero_random_sd``) and, the control, ``random_ranking_top`` and
    ``random_ranking_bottom`` (the ends of a random ranking: two more random sets).
    """
    oracle, ordering, seed = replicate["oracle"], replicate["ordering"], replicate["seed"]
    weight = oracle.weight[0].cpu()
    d = len(ordering)
    count = round(fraction * d)
    draws = [
        select_neurons(ordering, count, "random", seed=100 * seed + j) for j in range(n_draws + 2)
    ]
    sets = [
        select_neurons(ordering, count, "top"),
        select_neurons(ordering, count, "bottom"),
        weight_magnitude_ranking(weight)[:count],
        *draws,
    ]
    masks = torch.stack([neuron_mask(s, d) for s in sets])
    zeroed = zero_out_accuracy(oracle, *data["test"], masks).tolist()
    random_draws = zeroed[3 : 3 + n_draws]
    replicate.update(
        zero_top=zeroed[0],
        zero_bottom=zeroed[1],
        zero_wtmag=zeroed[2],
        zero_random=float(np.mean(random_draws)),
        zero_random_draws=random_draws,
        zero_random_sd=float(np.std(random_draws)),
        random_ranking_top=zeroed[-2],
        random_ranking_bottom=zeroed[-1],
    )


def search_minimal_sets(
    replicates: Replicates,
    tasks: Mapping[str, dict],
    lambdas: Mapping[str, tuple[float, float]],
    settings: ProbeSettings,
    *,
    sizes: Mapping[str, Sequence[int]],
    delta: float,
    first_round: int | None = None,
) -> None:
    """Algorithm 4: the smallest top set whose retrained probe comes within ``delta`` of
    the oracle on the development set, reported on test.

    Every size of ``sizes[task]`` of every replicate trains in one call, in two rounds when
    ``first_round`` is given (the sizes up to it, then the larger ones for the replicates
    that found no set yet). Adds ``minimal`` (a :class:`~utils.rankings.MinimalSet`), ``n``
    (its size), ``acc_top`` (its test accuracy) and ``curve`` (test accuracy by size tried);
    a replicate that no size brings within ``delta`` keeps its largest.
    """
    x_train = next(iter(tasks.values()))["train"][0]
    on_dev, on_test = {}, {}

    def first_within(t: str, k: int, tried: Sequence[int]) -> int | None:
        oracle = replicates[t][k]["acc_all_dev"]
        return next((n for n in tried if oracle - on_dev[t, k, n] < delta), None)

    rounds = (True,) if first_round is None else (True, False)
    for early in rounds:
        jobs = [
            (t, k, n)
            for t, reps in replicates.items()
            for k in range(len(reps))
            if first_within(t, k, [m for m in sizes[t] if (t, k, m) in on_dev]) is None
            for n in sizes[t]
            if first_round is None or (n <= first_round) == early
        ]
        trained = train_probe_jobs(
            x_train,
            [
                probe_job(
                    tasks[t], lambdas[t], replicates[t][k]["seed"], replicates[t][k]["ordering"][:n]
                )
                for t, k, n in jobs
            ],  # fmt: skip
            settings,
        )
        for (t, k, n), probe in zip(jobs, trained):
            on_dev[t, k, n] = float(probe.accuracy(*tasks[t]["dev"])[0])
            on_test[t, k, n] = float(probe.accuracy(*tasks[t]["test"])[0])
    d = x_train.shape[1]
    for t, reps in replicates.items():
        for k, rep in enumerate(reps):
            tried = [n for n in sizes[t] if (t, k, n) in on_dev]
            chosen = first_within(t, k, tried)
            reached = chosen is not None
            chosen = chosen if reached else tried[-1]
            tried = tried[: tried.index(chosen) + 1]
            rep.update(
                minimal=MinimalSet(chosen, chosen / d, reached, tried,
                                   [on_dev[t, k, n] for n in tried]),
                n=chosen,
                acc_top=on_test[t, k, chosen],
                curve={n: on_test[t, k, n] for n in tried},
            )  # fmt: skip


def retrain_other_sets(
    replicates: Replicates,
    tasks: Mapping[str, dict],
    lambdas: Mapping[str, tuple[float, float]],
    settings: ProbeSettings,
    *,
    n_draws: int,
    paper_sizes: Mapping[str, float],
    control_all: Mapping[tuple[str, int], LinearProbe],
) -> None:
    """Table 5, Table 3's Probeless row and selectivity: probes retrained on other sets of
    the minimal set's size, all in one call.

    Adds ``acc_random`` (mean of ``n_draws`` random sets; ``acc_random_draws``),
    ``acc_bottom`` and ``acc_probeless`` (the top of the Probeless ranking); for a task in
    ``paper_sizes`` (Table 3's fraction of the neurons) ``acc_paper_top`` and
    ``acc_paper_random`` at that size; for a task with control labels and its control probe
    on all neurons in ``control_all[task, k]``, the control accuracies ``control_all``,
    ``control_top`` and ``control_random`` and the selectivities ``sel_all``, ``sel_top``
    and ``sel_random`` (task minus control accuracy, Hewitt and Liang).
    """
    x_train = next(iter(tasks.values()))["train"][0]
    d = x_train.shape[1]
    jobs, owners = [], []
    for t, reps in replicates.items():
        data = tasks[t]
        probeless = probeless_ranking(*data["train"])
        for k, rep in enumerate(reps):
            n, ordering, seed = rep["n"], rep["ordering"], rep["seed"]
            rep["random_sets"] = [
                select_neurons(ordering, n, "random", seed=100 * seed + 50 + j)
                for j in range(n_draws)
            ]
            sets = [("random", s) for s in rep["random_sets"]]
            sets += [
                ("bottom", select_neurons(ordering, n, "bottom")),
                ("probeless", probeless[:n]),
            ]
            if t in paper_sizes:
                p = round(paper_sizes[t] * d)
                sets += [
                    ("paper_top", ordering[:p]),
                    ("paper_random", select_neurons(ordering, p, "random", seed=100 * seed + 99)),
                ]
            for name, neurons in sets:
                jobs.append(probe_job(data, lambdas[t], seed, neurons))
                owners.append((t, k, name, False))
            if "control" in data:
                for name, neurons in (("top", ordering[:n]), ("random", rep["random_sets"][0])):
                    jobs.append(probe_job(data, lambdas[t], seed, neurons, control=True))
                    owners.append((t, k, name, True))
    scores = defaultdict(list)
    for (t, k, name, control), probe in zip(owners, train_probe_jobs(x_train, jobs, settings)):
        x_test, y_test = tasks[t]["test"]
        y_test = tasks[t]["control"]["test"] if control else y_test
        scores[t, k, name, control].append(float(probe.accuracy(x_test, y_test)[0]))
    for t, reps in replicates.items():
        for k, rep in enumerate(reps):
            draws = scores[t, k, "random", False]
            rep.update(
                acc_random=float(np.mean(draws)),
                acc_random_draws=draws,
                acc_bottom=scores[t, k, "bottom", False][0],
                acc_probeless=scores[t, k, "probeless", False][0],
            )
            if (t, k, "paper_top", False) in scores:
                rep.update(
                    acc_paper_top=scores[t, k, "paper_top", False][0],
                    acc_paper_random=scores[t, k, "paper_random", False][0],
                )
            if (t, k) in control_all:
                x_test, _ = tasks[t]["test"]
                c_all = float(control_all[t, k].accuracy(x_test, tasks[t]["control"]["test"])[0])
                c_top, c_random = scores[t, k, "top", True][0], scores[t, k, "random", True][0]
                rep.update(
                    control_all=c_all,
                    control_top=c_top,
                    control_random=c_random,
                    sel_all=rep["acc_all"] - c_all,
                    sel_top=rep["acc_top"] - c_top,
                    sel_random=draws[0] - c_random,
                )
