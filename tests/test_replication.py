import json

import pytest

from replication.__main__ import main, parse_param
from replication.runner import chapters, check_parameters, notebook_for, report
from utils.results import published


def test_chapters_follow_the_naming_contract():
    found = chapters()
    assert "toolkit" in found
    for name, path in found.items():
        assert path.name.endswith(f"_{name}.ipynb")
        notebook = json.loads(path.read_text())
        tags = [c.get("metadata", {}).get("tags", []) for c in notebook["cells"]]
        assert any("parameters" in t for t in tags), f"{path.name} has no parameters cell"
        code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
        assert sum(src.count("claim(") for src in code) >= 3, f"{path.name}: claims"
        assert "results.finish()" in code[-1], f"{path.name} does not end with its verdicts"
        assert "Results(" in "".join(code), f"{path.name} records no results"
        outputs = [c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"]
        assert not any(outputs), f"{path.name} is stored with outputs"


def test_unknown_chapter_and_scale_are_clear_errors(capsys):
    with pytest.raises(ValueError, match="unknown chapter 'nope'.*toolkit"):
        notebook_for("nope")
    assert main(["run", "nope", "--scale", "ci"]) == 2
    assert "unknown chapter" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "toolkit", "--scale", "huge"])
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_param("no-equals-sign")
    assert parse_param("EPOCHS=3") == ("EPOCHS", 3)
    with pytest.raises(ValueError, match="toolkit has no parameter 'MODLE'.*MODEL, DATA"):
        check_parameters("toolkit", ["MODEL", "MODLE"])
    assert main(["run", "toolkit", "--scale", "ci", "-p", "MODLE=x"]) == 2
    assert "no parameter 'MODLE'" in capsys.readouterr().err
    assert parse_param("MODEL=bert-base-cased") == ("MODEL", "bert-base-cased")


PAPER = {
    "paper": "A paper",
    "numbers": {"acc": {"value": 0.95, "source": "T1"}},
    "claims": [
        {"id": "top_beats_random", "claim": "Top beats random.", "source": "T1"},
        {"id": "sparse", "claim": "Few units.", "source": "T2"},
        {"id": "never_reached", "claim": "A later claim.", "source": "T3"},
    ],
}
RUN = {
    "chapter": "demo",
    "scale": "ci",
    "updated": "2026-01-01T00:00:00",
    "numbers": {"acc": {"value": 0.91}, "curve": {"value": [0.5, 0.25]}},
    "preconditions": {"lm_learned": {"ok": False, "advice": "train longer", "measured": {}}},
    "claims": [
        {
            "id": "top_beats_random",
            "claim": "Top beats random.",
            "verdict": "reproduced",
            "rule": "effect > 0 in at least 2 of 3 replicates",
            "rule_spec": {"threshold": 0.0, "share": 0.5, "strict": True, "interval": True},
            "n": 3,
            "on_side": 2,
            "needed": 2,
            "effects": [0.0, 0.2, 0.4],
            "mean": 0.2,
            "interval": [0.1, 0.3],
            "paper": 0.4,
            "control": {
                "n": 3,
                "on_side": 0,
                "needed": 2,
                "effects": [0, 0, 0],
                "mean": 0.0,
                "interval": [0, 0],
                "passes": False,
            },
        },
        {
            "id": "sparse",
            "claim": "Few units.",
            "verdict": "not tested",
            "reason": "precondition 'lm_learned' failed: train longer",
        },
    ],
}


def test_report_puts_ours_beside_the_paper(tmp_path, monkeypatch):
    (tmp_path / "demo.json").write_text(json.dumps(RUN))
    monkeypatch.setattr("replication.runner.published", lambda chapter: PAPER)
    text = report("demo", tmp_path)
    assert "A paper" in text
    line = next(x for x in text.splitlines() if x.startswith("acc"))
    assert "0.91" in line and "0.95" in line and "T1" in line
    assert "[0.5, 0.25]" in text
    assert "precondition lm_learned: FAILED (train longer)" in text
    assert "claims: 3 in the inventory; reproduced: 1" in text and "not tested: 2" in text
    # a count is shown beside what the rule needs: 2 of 3 for "most"
    assert (
        "effect 0.2 [0.1, 0.3] n=3 (2 on the paper's side, 2 needed); control 0 [0, 0] n=3 "
        "(0 on the paper's side, 2 needed) (fails); paper 0.4" in text
    )
    assert "the run stopped before this claim's cell" in text


def test_summary_counts_the_verdicts_of_each_chapter(tmp_path, monkeypatch):
    from replication import runner

    monkeypatch.setenv("BOOK_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(runner, "ROOT", tmp_path)  # no runner output folders
    monkeypatch.setattr(runner, "chapters", lambda: {"demo": None, "other": None})
    monkeypatch.setattr(runner, "published", lambda chapter: PAPER)
    (tmp_path / "demo.json").write_text(json.dumps(RUN))
    rows = runner.summary()
    assert rows[0] == {
        "chapter": "demo",
        "inventory": 3,
        "scale": "ci",
        "updated": "2026-01-01T00:00:00",
        "reproduced": 1,
        "not reproduced": 0,
        "not discriminating": 0,
        "not tested": 2,
    }
    assert rows[1]["scale"] is None and rows[1]["reproduced"] is None
    assert runner.summary(scale="default")[0]["scale"] is None
    table = runner.summary_table(rows, markdown=True)
    assert "| demo | ci | 3 | 1 | 0 | 0 | 2 |" in table
    assert "| other | not run | 3 | - | - | - | - |" in table
    assert "| all |  | 6 | 1 | 0 | 0 | 2 |" in table
    assert main(["summary"]) == 0


def test_published_numbers_are_well_formed():
    for name in chapters():
        data = published(name)
        assert "numbers" in data
        for key, entry in data["numbers"].items():
            assert "value" in entry and "source" in entry, key


def test_missing_glue_names_the_numbers_the_text_uses_but_no_cell_glued(tmp_path):
    from replication.runner import missing_glue

    record = {"output_type": "display_data", "data": {}, "metadata": {"scrapbook": {"name": "acc"}}}
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["glue('acc', 0.9)"], "outputs": [record]},
            {
                "cell_type": "markdown",
                "source": ["{glue:text}`acc:.1%` and {glue}`lost`, ", "{glue:text}`lost2`"],
            },
        ]
    }
    path = tmp_path / "run.ipynb"
    path.write_text(json.dumps(notebook))
    assert missing_glue(path) == ["lost", "lost2"]


def test_every_knob_is_in_the_parameters_cell():
    """Each chapter declares its sizes and hyperparameters in its parameters cell, with one
    BY_SCALE table (so -p reaches every one of them), sets none of them later with a
    per-scale choice, and has a full-scale smoke run and a memory-benchmark entry."""
    from pathlib import Path

    tests = Path(__file__).parent
    for name, path in chapters().items():
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        first = next(
            i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])
        )
        namespace: dict = {}
        exec("".join(cells[first]["source"]), namespace)  # plain assignments
        table = namespace.get("BY_SCALE")
        assert isinstance(table, dict) and set(table) == {"ci", "default", "full"}, path.name
        for knob in table["ci"]:
            assert knob in namespace, f"{path.name}: BY_SCALE names {knob}, the cell lacks it"
        later = "".join("".join(c["source"]) for c in cells[first + 1 :])
        assert "by_scale(" not in later, f"{path.name} picks a value per scale after its parameters"
        assert (tests / "smoke" / f"{name}.py").exists(), f"no tests/smoke/{name}.py"
        assert (tests / "memory" / f"{name}.py").exists(), f"no tests/memory/{name}.py"
