"""Chapter 3's cross-architecture claims (Sec. 5.1, Fig. 6): BERT spreads its salient neurons
over the network, XLNet concentrates them in a few low layers and none in its embeddings,
RoBERTa is like XLNet but keeps suffix information throughout.

One run of the chapter loads one model, so these claims are decided over the runs of a sweep
over ``MODEL`` (``python -m replication sweep lca --scale full -p MODEL=...``). Each run
records its architecture (``architecture``: the config's ``model_type``) and, for every layer
task and probe seed, the layer histogram of its minimal set (``layer_histograms``), of as many
top neurons of the random-weights model (``random_weights_layer_histograms``: the control) and,
where it fine-tuned, of the fine-tuned model (``fine_tuned_layer_histograms``), and, for every
tag of POS and SEM, the layer histogram of the tag's salient set (``tag_layer_histograms``, with
``random_weights_tag_layer_histograms``; Sec. 5.2: FW in the final layers, PRP, NNS and EXC at
different layers in different architectures), read here as the task ``"POS:FW"``. A replicate
is one task (or tag) and one probe seed of one run; the i-th replicates of two architectures
are paired. The rules below were fixed before any cross-architecture run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from utils.verdicts import Rule, decision_record

Histograms = dict[str, dict[str, list[np.ndarray]]]  # architecture -> task -> replicates
# Fig. 6's tasks beside suffix; CCG where the runs had CCGbank (CCG_DATA), else it adds nothing
CORE_TASKS = ("POS", "SEM", "chunk", "CCG")


def layer_spread(histogram: Sequence[float]) -> float:
    """How evenly a set of neurons spreads over the layers: the entropy of its layer shares
    divided by log(number of layers); 1 when every layer holds as many, 0 for one layer."""
    counts = np.asarray(histogram, dtype=float)
    shares = counts[counts > 0] / counts.sum()
    return float(-(shares * np.log(shares)).sum() / math.log(len(counts)))


def layer_share(histogram: Sequence[float], layers: Sequence[int]) -> float:
    """The share of a set of neurons that sits in ``layers`` (0 = embeddings)."""
    counts = np.asarray(histogram, dtype=float)
    return float(counts[list(layers)].sum() / counts.sum())


def mean_layer(histogram: Sequence[float]) -> float:
    """The mean layer of a set of neurons (0 = embeddings)."""
    counts = np.asarray(histogram, dtype=float)
    return float((counts * np.arange(len(counts))).sum() / counts.sum())


def histograms(runs: Sequence[dict[str, Any]], *keys: str) -> Histograms:
    """The layer histograms recorded under ``keys`` by every run, by architecture and task
    (``"POS:FW"`` for a tag's, recorded as ``{task: {tag: replicates}}``), in the order of the
    runs and then of the probe seeds."""
    found: Histograms = {}
    for run in runs:
        numbers = run.get("numbers", {})
        if "architecture" not in numbers:
            continue
        by_task = found.setdefault(numbers["architecture"]["value"], {})
        for key in (k for k in keys if k in numbers):
            for task, replicates in numbers[key]["value"].items():
                by_tag = replicates if isinstance(replicates, dict) else {None: replicates}
                for tag, hists in by_tag.items():
                    name = task if tag is None else f"{task}:{tag}"
                    by_task.setdefault(name, []).extend(np.asarray(h, dtype=float) for h in hists)
    return found


def _paired(
    hists: Histograms, models: Sequence[str], tasks: Sequence[str], statistic: Callable
) -> list[float]:
    """``statistic(*histograms)`` over the paired replicates of ``models``, for every task
    (a task some architecture lacks adds nothing)."""
    effects = []
    for task in tasks:
        columns = [hists.get(m, {}).get(task, []) for m in models]
        effects += [float(statistic(*pair)) for pair in zip(*columns)]
    return effects


def _compared(hists: Histograms, models: Sequence[str], tasks: Sequence[str]) -> list[str]:
    """The ``tasks`` that every one of ``models`` has histograms of: those a claim compares."""
    return [t for t in tasks if all(hists.get(m, {}).get(t) for m in models)]


def lower_half(h: Sequence[float]) -> range:
    """The embeddings and the lower half of the layers above them: layers 0 to L // 2 of a
    histogram of L layers (0 = embeddings; 0 to 6 of BERT-base's 13)."""
    return range(len(h) // 2 + 1)


def _pos_profile(bert: np.ndarray, xlnet: np.ndarray, roberta: np.ndarray) -> float:
    """1 if POS shows the paper's three profiles, else 0: most of BERT's layers hold top
    neurons; XLNet's sit mostly in the lower half, none in its embeddings; RoBERTa's sit mostly
    in the lower half too, with a larger share than XLNet's in the higher third."""
    higher = range(len(roberta) - math.ceil(len(roberta) / 3), len(roberta))
    return float(
        (bert > 0).mean() > 0.5
        and layer_share(xlnet, lower_half(xlnet)) > 0.5
        and xlnet[0] == 0
        and layer_share(roberta, lower_half(roberta)) > 0.5
        and layer_share(roberta, higher) > layer_share(xlnet, higher)
    )


def _just_above_embeddings(h: np.ndarray) -> range:
    """Layers 1 to ceil(L / 3): the first third of the network above its embeddings."""
    return range(1, math.ceil(len(h) / 3) + 1)


def _final_third(h: np.ndarray) -> range:
    """The last ceil(L / 3) layers."""
    return range(len(h) - math.ceil(len(h) / 3), len(h))


# claim -> (architectures compared, tasks, statistic of their paired histograms, rule);
# every effect is in shares of a set (0 to 1) or layer spreads (0 to 1)
CLAIMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Callable, Rule]] = {
    # spread(BERT) - spread(XLNet) > 0 on every task and probe seed
    "bert_spread_evenly_xlnet_fewer_layers": (
        ("bert", "xlnet"), CORE_TASKS, lambda b, x: layer_spread(b) - layer_spread(x), Rule()),
    # BERT's embedding share minus XLNet's, and half a flat layer's share minus XLNet's; the
    # smaller of the two > 0 on every task ("almost none, unlike BERT's")
    "xlnet_embedding_layer_minimal": (
        ("bert", "xlnet"), ("suffix", *CORE_TASKS, "dependency"),
        lambda b, x: min(layer_share(b, [0]) - layer_share(x, [0]),
                         0.5 / len(x) - layer_share(x, [0])), Rule()),
    # the share just above the embeddings of XLNet and of RoBERTa minus BERT's, the smaller
    # of the two > 0 (POS and SEM: the core information)
    "core_info_early_except_bert": (
        ("bert", "xlnet", "roberta"), ("POS", "SEM"),
        lambda b, x, r: min(layer_share(m, _just_above_embeddings(m)) for m in (x, r))
        - layer_share(b, _just_above_embeddings(b)), Rule()),
    # 1 when POS shows all three profiles of the paper, in every probe seed (no interval)
    "pos_layer_profile_by_model": (
        ("bert", "xlnet", "roberta"), ("POS",), _pos_profile, Rule(threshold=0.5, interval=False)),
    # the share of RoBERTa's suffix set above layer 1 minus the larger of BERT's and XLNet's > 0
    "roberta_keeps_suffix_info_throughout": (
        ("bert", "xlnet", "roberta"), ("suffix",),
        lambda b, x, r: layer_share(r, range(2, len(r)))
        - max(layer_share(m, range(2, len(m))) for m in (b, x)), Rule()),
    # FW's salient set "predominantly" in the final layers: the smallest share of the three
    # architectures' FW sets in their final third > 0.5, every probe seed
    "fw_neurons_final_layers": (
        ("bert", "xlnet", "roberta"), ("POS:FW",),
        lambda *hs: min(layer_share(h, _final_third(h)) for h in hs),
        Rule(threshold=0.5)),
}  # fmt: skip
VARYING_TAGS = ("POS:PRP", "POS:NNS", "SEM:EXC")  # Sec. 5.2's "variations in certain cases"
VARYING_CLAIM = "prp_nns_exc_layer_varies_by_architecture"


def layer_variation(hists: Histograms, models: Sequence[str], tag: str) -> float | None:
    """How far apart the architectures put ``tag``'s salient neurons, beyond the probe seeds:
    the range over architectures of the mean relative depth (mean layer / (L - 1)) of its
    set, minus the largest range of one architecture over its probe seeds. None unless every
    architecture has two seeds or more."""
    depths = [[mean_layer(h) / (len(h) - 1) for h in hists.get(m, {}).get(tag, [])] for m in models]
    if any(len(d) < 2 for d in depths):
        return None
    centres = [np.mean(d) for d in depths]
    return float(max(centres) - min(centres) - max(max(d) - min(d) for d in depths))


SPREAD_CLAIM = "architectures_differ_xlnet_concentrated_bert_spread"


def cross_model_claims(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Verdict records of the cross-architecture claims that ``runs`` hold every architecture
    for, by claim id; the control is the same statistic on the random-weights models."""
    base = histograms(runs, "layer_histograms", "tag_layer_histograms")
    control = histograms(
        runs, "random_weights_layer_histograms", "random_weights_tag_layer_histograms"
    )
    tuned = histograms(runs, "fine_tuned_layer_histograms")
    decided = {}
    for claim_id, (models, tasks, statistic, rule) in CLAIMS.items():
        effects = _paired(base, models, tasks, statistic)
        if effects:
            controls = _paired(control, models, tasks, statistic) or None
            decided[claim_id] = {
                **decision_record(effects, rule, controls),
                "architectures": list(models), "tasks": _compared(base, models, tasks),
            }  # fmt: skip
    # BERT spreads and XLNet concentrates, "also after fine-tuning": the spread difference
    # of the pretrained models and of the fine-tuned ones, > 0 in every replicate
    spread = CLAIMS["bert_spread_evenly_xlnet_fewer_layers"][2]
    effects = _paired(base, ("bert", "xlnet"), CORE_TASKS, spread)
    if effects:
        after = _paired(tuned, ("bert", "xlnet"), CORE_TASKS, spread)
        decided[SPREAD_CLAIM] = {
            **decision_record(
                effects + after, Rule(), _paired(control, ("bert", "xlnet"), CORE_TASKS, spread)
            ),
            "architectures": ["bert", "xlnet"],
            "tasks": _compared(base, ("bert", "xlnet"), CORE_TASKS),
            "fine_tuned_replicates": len(after),
        }  # fmt: skip
    # PRP, NNS and EXC sit at different layers in different architectures: one effect per
    # tag, > 0 for all three (the spread between architectures exceeds that over seeds)
    models = ("bert", "xlnet", "roberta")
    effects = [layer_variation(base, models, tag) for tag in VARYING_TAGS]
    if None not in effects:
        controls = [layer_variation(control, models, tag) for tag in VARYING_TAGS]
        decided[VARYING_CLAIM] = {
            **decision_record(effects, Rule(), None if None in controls else controls),
            "architectures": list(models), "tasks": list(VARYING_TAGS),
        }  # fmt: skip
    return decided


def cross_model_table(runs: Sequence[dict[str, Any]]) -> str:
    """Table 2 (zero-out accuracy of the top, random and bottom 20 %) and the layer spread and
    mean layer of each task's minimal set, one row per task and architecture, averaged over the
    runs of that architecture."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if "architecture" in run.get("numbers", {}):
            by_model.setdefault(run["numbers"]["architecture"]["value"], []).append(run)
    if not by_model:
        return ""
    base = histograms(runs, "layer_histograms")
    lines = ["across architectures (Table 2 in %, Fig. 6 as the spread and mean layer):",
             f"  {'task':<10} {'model':<8} {'top':>6} {'random':>6} {'bottom':>6} "
             f"{'spread':>6} {'layer':>6}"]  # fmt: skip

    def mean(model_runs: list[dict[str, Any]], name: str) -> str:
        values = [r["numbers"][name]["value"] for r in model_runs if name in r["numbers"]]
        return f"{np.mean(values):6.2f}" if values else f"{'-':>6}"

    tasks = dict.fromkeys(t for by_task in base.values() for t in by_task)
    for task in tasks:
        for model, model_runs in by_model.items():
            hists = base.get(model, {}).get(task) or [np.full(1, np.nan)]
            spread = np.mean([layer_spread(h) for h in hists])
            layer = np.mean([mean_layer(h) for h in hists])
            lines.append(
                f"  {task:<10} {model:<8} {mean(model_runs, f'table2_{task}_top')} "
                f"{mean(model_runs, f'table2_{task}_random')} "
                f"{mean(model_runs, f'table2_{task}_bottom')} "
                f"{spread:6.2f} {layer:6.2f}"
            )
    return "\n".join(lines)
