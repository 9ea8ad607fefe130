import json

import numpy as np
import pytest
import torch

from utils import results as results_module
from utils.results import Results, read_results
from utils.verdicts import Rule

INVENTORY = {
    "chapter": "demo",
    "paper": "A paper",
    "numbers": {"acc": {"value": 0.9, "source": "Table 1"}},
    "claims": [
        {
            "id": "top_beats_random",
            "claim": "Top units beat random ones.",
            "source": "T1",
            "control": "random units",
            "not_tested": "needs a GPU",
        },
        {"id": "sparse", "claim": "Few units suffice.", "source": "T2"},
        {"id": "fit", "claim": "Needs a fit model.", "source": "T3"},
    ],
}


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.setattr(
        results_module, "published", lambda chapter: json.loads(json.dumps(INVENTORY))
    )
    return Results("demo", scale="ci", seed=3)


def test_numbers_are_written_at_once(demo, tmp_path):
    path = tmp_path / "results" / "demo.json"
    assert json.loads(path.read_text())["scale"] == "ci"
    demo.number("accuracy", np.float32(0.5), layer=2)
    demo.number("curve", torch.tensor([0.1, 0.2]))
    data = read_results("demo")
    assert data["numbers"]["accuracy"] == {"value": 0.5, "context": {"layer": 2}}
    assert data["numbers"]["curve"]["value"] == pytest.approx([0.1, 0.2])
    assert data["settings"] == {"seed": 3}
    assert demo.paper("acc") == 0.9
    with pytest.raises(KeyError, match="no published number 'nope'"):
        demo.paper("nope")


def test_claims_get_verdicts_from_replicates_and_controls(demo):
    verdict = demo.claim(
        "top_beats_random",
        effects=[0.2, 0.3, 0.25],
        rule=Rule(),
        control=[-0.1, 0.0, 0.05],
        paper=0.4,
        layer=3,
    )
    assert verdict and verdict.verdict == "reproduced"
    record = read_results("demo")["claims"][0]
    assert record["effects"] == pytest.approx([0.2, 0.3, 0.25])
    assert record["n"] == 3 and record["paper"] == 0.4 and record["measured"] == {"layer": 3}
    assert record["control"]["passes"] is False
    assert record["on_side"] == 3 and record["control"]["on_side"] == 1
    assert "3 of 3 replicates" in record["rule"]
    assert Rule(**record["rule_spec"]) == Rule()
    # re-running a cell replaces its record
    verdict = demo.claim("top_beats_random", effects=[0.2, 0.3], rule=Rule(), control=[0.1, 0.2])
    assert not verdict and verdict.verdict == "not discriminating"
    assert len(read_results("demo")["claims"]) == 1
    assert demo.claim("sparse", effects=[-1.0, 1.0], rule=Rule()).verdict == "not reproduced"


def test_preconditions_stop_the_claims_they_guard(demo):
    assert not demo.precondition("lm_learned", False, "train for more epochs", accuracy=0.51)
    verdict = demo.claim("fit", effects=[1.0, 1.0], rule=Rule(), requires=["lm_learned"])
    assert verdict.verdict == "not tested" and "train for more epochs" in verdict.reason
    assert verdict.record["measured"]["unfit"] == {"effects": [1.0, 1.0], "control": None}
    verdict = demo.claim("sparse", effects=[1.0], rule=Rule(), requires=["never_checked"])
    assert verdict.verdict == "not tested" and "never checked" in verdict.reason
    assert not demo.precondition_ok("lm_learned") and not demo.precondition_ok("never_checked")
    assert demo.precondition("lm_learned", True, "train for more epochs")
    assert demo.precondition_ok("lm_learned")
    assert demo.claim("fit", effects=[1.0, 1.0], rule=Rule(), requires=["lm_learned"])


def test_finish_gives_every_claim_of_the_inventory_a_verdict(demo):
    demo.claim("sparse", effects=[1.0, 2.0], rule=Rule())
    so_far = demo.verdicts()  # the same table, nothing recorded
    assert [c["verdict"] for c in so_far.claims] == ["not tested", "reproduced", "not tested"]
    assert so_far.claims[0]["reason"] == "needs a GPU"
    assert len(read_results("demo")["claims"]) == 1
    table = demo.finish()
    data = read_results("demo")
    assert [c["id"] for c in data["claims"]] == ["top_beats_random", "sparse", "fit"]
    assert data["claims"][0] == {
        **data["claims"][0],
        "verdict": "not tested",
        "reason": "needs a GPU",
    }
    assert "no claim cell" in data["claims"][2]["reason"]
    assert table.counts() == {
        "reproduced": 1,
        "not reproduced": 0,
        "not discriminating": 0,
        "not tested": 2,
    }
    assert "| reproduced | `sparse` |" in table._repr_markdown_()
    assert "3 claims" in str(table)


def test_errors_are_named(demo):
    with pytest.raises(ValueError, match="SCALE"):
        Results("demo", scale="huge")
    with pytest.raises(FileNotFoundError, match="no recorded results"):
        read_results("never-ran")
    with pytest.raises(ValueError, match="'unknown' is not a claim of the inventory.*sparse"):
        demo.claim("unknown", effects=[1.0], rule=Rule())
    with pytest.raises(ValueError, match="say why"):
        demo.not_tested("sparse", "")
    demo.number("x", float("nan"))
    assert read_results("demo")["numbers"]["x"]["value"] == "nan"


def test_every_published_inventory_is_well_formed():
    from replication.runner import chapters

    for name in chapters():
        data = results_module.published(name)
        ids = [c["id"] for c in data["claims"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate claim ids"
        for entry in data["claims"]:
            assert entry["id"].isidentifier(), f"{name}: id {entry['id']!r}"
            assert entry.get("claim") and entry.get("source"), f"{name}: {entry['id']}"


def test_numbers_are_glued_as_plain_values_inside_a_kernel(demo, monkeypatch):
    import IPython
    import myst_nb

    glued = {}
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update({name: value}))
    demo.number("accuracy", np.float64(0.25))
    results_module.glue("layer", np.int64(3))
    results_module.glue("curve", torch.tensor([0.5, 1.0]))
    assert glued == {"accuracy": 0.25, "layer": 3, "curve": [0.5, 1.0]}
    assert type(glued["accuracy"]) is float and type(glued["layer"]) is int


CHECKLISTS = {
    "diffmask": "000",
    "pitfalls": "001",
    "lca": "002",
    "masking": "003",
    "dynamics": "004",
}


@pytest.mark.parametrize("chapter", sorted(CHECKLISTS))
def test_each_inventory_covers_its_papers_checklist(chapter):
    from pathlib import Path

    checklist = Path(__file__).resolve().parents[2] / "shared" / "claims"
    checklist = checklist / f"{CHECKLISTS[chapter]}.json"
    if not checklist.exists():
        pytest.skip(f"no checklist at {checklist}")
    wanted = {c["id"] for c in json.loads(checklist.read_text())["claims"]}
    inventory = results_module.published(chapter)["claims"]
    assert wanted <= {c["id"] for c in inventory}
    assert all(c.get("not_tested") for c in inventory), "every claim says why when not tested"
