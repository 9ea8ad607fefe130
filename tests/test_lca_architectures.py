"""Chapter 3's cross-architecture claims, decided over the runs of a sweep over MODEL, on runs
whose layer histograms plant the paper's Fig. 6 (BERT spread out, XLNet low and without its
embeddings, RoBERTa low with a tail up the network) or its opposite."""

import numpy as np
import pytest

from replication.sweep import pool_claims, pooled_results
from utils.lca_architectures import (
    CLAIMS,
    SPREAD_CLAIM,
    VARYING_CLAIM,
    cross_model_table,
    layer_spread,
)
from utils.results import published

N_LAYERS, N_SEEDS = 13, 3
FIG6 = {  # architecture -> task -> minimal-set neurons per layer (0 = embeddings)
    "bert": {
        "suffix": [8, 6, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1],
        "POS": [3] * N_LAYERS,
        "SEM": [2, 3, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3],
        "chunk": [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4],
        "dependency": [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4],
    },
    "xlnet": {
        "suffix": [0, 12, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "POS": [0, 10, 20, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        "SEM": [0, 8, 20, 10, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        "chunk": [0, 2, 4, 20, 10, 3, 0, 0, 0, 0, 0, 0, 0],
        "dependency": [0, 2, 4, 20, 10, 3, 0, 0, 0, 0, 0, 0, 0],
    },
    "roberta": {
        "suffix": [2, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
        "POS": [1, 10, 15, 5, 2, 1, 1, 1, 1, 2, 3, 4, 5],
        "SEM": [1, 9, 14, 6, 2, 1, 1, 1, 1, 2, 3, 4, 5],
        "chunk": [1, 2, 4, 8, 8, 4, 3, 3, 3, 4, 5, 6, 6],
        "dependency": [1, 2, 4, 8, 8, 4, 3, 3, 3, 4, 5, 6, 6],
    },
}
LOW, MIDDLE, HIGH = ([0, 6, 8, 4] + [0] * 9, [0] * 5 + [5, 9, 5] + [0] * 5, [0] * 9 + [2, 4, 6, 9])
TAGS = {  # architecture -> "task:tag" -> the tag's salient set per layer (Sec. 5.2)
    "bert": {"POS:PRP": LOW, "POS:NNS": MIDDLE, "SEM:EXC": HIGH, "POS:FW": HIGH},
    "xlnet": {"POS:PRP": MIDDLE, "POS:NNS": LOW, "SEM:EXC": LOW, "POS:FW": HIGH},
    "roberta": {"POS:PRP": HIGH, "POS:NNS": HIGH, "SEM:EXC": MIDDLE, "POS:FW": HIGH},
}
SAME_TAGS = {"POS:PRP": MIDDLE, "POS:NNS": MIDDLE, "SEM:EXC": MIDDLE, "POS:FW": LOW}


def _by_task(tags: dict) -> dict:
    """``{"POS:FW": v}`` as a run records it, ``{"POS": {"FW": v}}``."""
    nested = {}
    for name, value in tags.items():
        task, tag = name.split(":")
        nested.setdefault(task, {})[tag] = value
    return nested


def _run(architecture: str, planted: dict, seed: int, tags: dict | None = None) -> dict:
    """The numbers one run of the chapter records, its histograms jittered per probe seed."""
    rng = np.random.default_rng(seed)

    def jitter(h):
        return [[c + int(rng.integers(0, 2)) * (c > 0) for c in h] for _ in range(N_SEEDS)]

    def random_weights():  # the control: the same for every architecture
        return [rng.integers(1, 6, N_LAYERS).tolist() for _ in range(N_SEEDS)]

    tags = TAGS[architecture] if tags is None else tags

    return {
        "numbers": {
            "architecture": {"value": architecture},
            "layer_histograms": {"value": {t: jitter(h) for t, h in planted.items()}},
            "random_weights_layer_histograms": {"value": {t: random_weights() for t in planted}},
            "fine_tuned_layer_histograms": {
                "value": {t: jitter(planted[t])[:1] for t in ("POS", "SEM", "chunk")}
            },
            "tag_layer_histograms": {"value": _by_task({t: jitter(h) for t, h in tags.items()})},
            "random_weights_tag_layer_histograms": {
                "value": _by_task({t: random_weights() for t in tags})
            },
            "table2_POS_top": {"value": 90.0 + seed},
        },
        "claims": [  # as results.finish() records them: not tested, with the inventory's reason
            {"id": c["id"], "verdict": "not tested", "reason": c["not_tested"]}
            for c in published("lca")["claims"]
            if c["id"] in [*CLAIMS, SPREAD_CLAIM, VARYING_CLAIM]
        ],
    }


def _sweep(swap: bool = False, tags: dict | None = None) -> list[dict]:
    """Two BOOK_SEEDs of each architecture; ``swap`` gives BERT XLNet's histograms and back,
    ``tags`` gives every architecture the same tag histograms."""
    names = {"bert": "xlnet", "xlnet": "bert", "roberta": "roberta"} if swap else None
    return [
        _run(arch, FIG6[names[arch] if swap else arch], seed, tags)
        for seed in (0, 1)
        for arch in FIG6
    ]


def test_layer_spread_is_one_when_even_and_zero_on_one_layer():
    assert layer_spread([4] * N_LAYERS) == pytest.approx(1.0)
    assert layer_spread([0, 9] + [0] * (N_LAYERS - 2)) == pytest.approx(0.0)
    assert layer_spread(FIG6["bert"]["POS"]) > layer_spread(FIG6["xlnet"]["POS"])


def test_the_papers_figure_6_reproduces_and_its_random_weights_control_does_not():
    claims = {c["id"]: c for c in pool_claims("lca", _sweep())}
    for claim_id in [*CLAIMS, SPREAD_CLAIM, VARYING_CLAIM]:
        assert claims[claim_id]["verdict"] == "reproduced", claims[claim_id]
        assert not claims[claim_id]["control"]["passes"]
    # two runs of each architecture: every probe seed of both pairs up
    assert claims["pos_layer_profile_by_model"]["n"] == 2 * N_SEEDS
    assert claims[SPREAD_CLAIM]["fine_tuned_replicates"] == 2 * 3
    assert claims[SPREAD_CLAIM]["n"] == 2 * N_SEEDS * 3 + 2 * 3
    assert claims[VARYING_CLAIM]["n"] == 3  # PRP, NNS, EXC


def test_the_opposite_figure_is_not_reproduced():
    claims = {c["id"]: c for c in pool_claims("lca", _sweep(swap=True))}
    for claim_id in ("bert_spread_evenly_xlnet_fewer_layers", "xlnet_embedding_layer_minimal",
                     "pos_layer_profile_by_model", SPREAD_CLAIM):  # fmt: skip
        assert claims[claim_id]["verdict"] == "not reproduced", claims[claim_id]


def test_tags_at_the_same_layers_everywhere_are_not_reproduced():
    claims = {c["id"]: c for c in pool_claims("lca", _sweep(tags=SAME_TAGS))}
    for claim_id in ("fw_neurons_final_layers", VARYING_CLAIM):
        assert claims[claim_id]["verdict"] == "not reproduced", claims[claim_id]


def test_a_corpus_without_fw_leaves_its_claim_not_tested():
    no_fw = [{"numbers": {**r["numbers"], "tag_layer_histograms": {"value": {}}},
              "claims": r["claims"]} for r in _sweep()]  # fmt: skip
    claims = {c["id"]: c for c in pool_claims("lca", no_fw)}
    assert claims["fw_neurons_final_layers"]["verdict"] == "not tested"


def test_one_architecture_leaves_the_claims_not_tested():
    runs = [r for r in _sweep() if r["numbers"]["architecture"]["value"] == "bert"]
    claims = {c["id"]: c for c in pooled_results("lca", "full", runs)["claims"]}
    assert all(claims[i]["verdict"] == "not tested" for i in [*CLAIMS, SPREAD_CLAIM, VARYING_CLAIM])
    assert "across architectures" in claims[SPREAD_CLAIM]["reason"]


def test_the_cross_model_table_has_a_row_per_task_and_architecture():
    table = cross_model_table(_sweep())
    rows = [line.split() for line in table.splitlines()[2:]]
    assert {(r[0], r[1]) for r in rows} == {(t, a) for a in FIG6 for t in FIG6["bert"]}
    pos_bert = next(r for r in rows if r[:2] == ["POS", "bert"])
    assert float(pos_bert[2]) == pytest.approx(90.5) and pos_bert[3] == "-"
    assert cross_model_table([{"numbers": {}}]) == ""


def test_ccg_joins_the_comparison_when_every_architecture_has_it():
    without = {c["id"]: c for c in pool_claims("lca", _sweep())}
    assert "CCG" not in without["bert_spread_evenly_xlnet_fewer_layers"]["tasks"]
    ccg = {"bert": FIG6["bert"]["chunk"], "xlnet": FIG6["xlnet"]["chunk"]}
    runs = _sweep()
    for run in runs:
        arch = run["numbers"]["architecture"]["value"]
        if arch in ccg:
            run["numbers"]["layer_histograms"]["value"]["CCG"] = [ccg[arch]] * N_SEEDS
    claims = {c["id"]: c for c in pool_claims("lca", runs)}
    spread = claims["bert_spread_evenly_xlnet_fewer_layers"]
    assert spread["tasks"] == ["POS", "SEM", "chunk", "CCG"]
    assert spread["n"] == without["bert_spread_evenly_xlnet_fewer_layers"]["n"] + 2 * N_SEEDS
    assert spread["verdict"] == "reproduced"
