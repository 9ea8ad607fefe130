import json

import pytest

from replication.__main__ import main, parse_param
from replication.runner import chapters, notebook_for, published, report


def test_chapters_follow_the_naming_contract():
    found = chapters()
    assert "toolkit" in found
    for name, path in found.items():
        assert path.name.endswith(f"_{name}.ipynb")
        notebook = json.loads(path.read_text())
        tags = [c.get("metadata", {}).get("tags", []) for c in notebook["cells"]]
        assert any("parameters" in t for t in tags), f"{path.name} has no parameters cell"
        code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
        assert sum(src.count("results.claim(") for src in code) >= 3, f"{path.name}: claims"
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
    assert parse_param("MODEL=bert-base-cased") == ("MODEL", "bert-base-cased")


def test_report_puts_ours_beside_the_paper(tmp_path, monkeypatch):
    (tmp_path / "demo.json").write_text(
        json.dumps(
            {
                "chapter": "demo",
                "scale": "ci",
                "numbers": {"acc": {"value": 0.91}, "curve": {"value": [0.5, 0.25]}},
                "claims": [{"claim": "top beats random", "holds": True, "measured": {}}],
            }
        )
    )
    monkeypatch.setattr(
        "replication.runner.published",
        lambda chapter: {"paper": "A paper", "numbers": {"acc": {"value": 0.95, "source": "T1"}}},
    )
    text = report("demo", tmp_path)
    assert "A paper" in text
    line = next(x for x in text.splitlines() if x.startswith("acc"))
    assert "0.91" in line and "0.95" in line and "T1" in line
    assert "[0.5, 0.25]" in text
    assert "1 of 1 reproduced" in text


def test_published_numbers_are_well_formed():
    for name in chapters():
        data = published(name)
        assert "numbers" in data
        for key, entry in data["numbers"].items():
            assert "value" in entry and "source" in entry, key
