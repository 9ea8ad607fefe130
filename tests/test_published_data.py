"""Readers of the published DiffMask data (Lakretz et al.'s NA files, Vig et al.'s professions
and templates), on small files in those formats."""

import json

import pytest

from utils.corpus.published_data import read_agreement_files, read_gender_files
from utils.corpus.task_gender import TEMPLATES

NOUNPP = (
    "The athlete behind the car probably encourages\tsingular_singular\tcorrect\tid1\n"
    "The athlete behind the car probably encourage\tsingular_singular\twrong\tid1\n"
    "The athletes behind the car encourage\tplural_singular\tcorrect\tid2\n"
    "The athletes behind the car encourages\tplural_singular\twrong\tid2\n"
)
SIMPLE = "The boy greets\tsingular\tcorrect\t7\nThe boy greet\tsingular\twrong\t7\n"


def test_agreement_files_pair_versions_into_prefix_items(tmp_path):
    (tmp_path / "nounpp.txt").write_text(NOUNPP)
    (tmp_path / "simple.txt").write_text(SIMPLE)
    items = read_agreement_files([tmp_path / "nounpp.txt", tmp_path / "simple.txt"])
    assert [s.forms[:-1] for s in items] == [
        "The athlete behind the car probably".split(), "The athletes behind the car".split(),
        ["The", "boy"],
    ]  # fmt: skip
    first, second, third = (s.meta for s in items)
    assert (first["correct"], first["wrong"], first["subj_number"]) == (
        "encourages",
        "encourage",
        "sing",
    )
    assert (first["construction"], first["congruent"]) == ("nounpp", "yes")
    assert (second["subj_number"], second["congruent"]) == ("plur", "no")
    assert (third["construction"], third["congruent"], third["correct"]) == (
        "simple",
        "none",
        "greets",
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("The boy greets\tsingular\tcorrect\n", "line 1: 3 tab-separated columns"),
        ("The boy greets\tdual\tcorrect\t1\n", "line 1: number 'dual'"),
        ("The boy greets\tsingular\tright\t1\n", "line 1: label 'right'"),
        ("The boy greets\tsingular\tcorrect\t1\n", "line 1: '1' has no wrong version"),
        (SIMPLE + "The boy greets\tsingular\tcorrect\t7\n", "line 3: a second correct version"),
        ("The boy greets\tsingular\tcorrect\t1\nThe girl greet\tsingular\twrong\t1\n",
         "differ in their last word"),
    ],
)  # fmt: skip
def test_agreement_files_name_the_bad_line(tmp_path, text, message):
    path = tmp_path / "simple.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_agreement_files([path])
    assert str(path) in str(error.value)


def test_gender_files_fill_every_template_with_every_profession(tmp_path):
    professions = tmp_path / "professions.json"
    professions.write_text(json.dumps([["accountant", 0.0, 0.4], ["nurse", 0.0, -0.8]]))
    templates = tmp_path / "templates.txt"
    templates.write_text("The {} said that\n\nThe {} slept because\n")
    items = read_gender_files(professions, templates)
    assert [" ".join(s.forms) for s in items] == [
        "The accountant said that", "The nurse said that",
        "The accountant slept because", "The nurse slept because",
    ]  # fmt: skip
    assert [float(s.meta["stereotype"]) for s in items[:2]] == pytest.approx([0.7, 0.1])
    assert items[2].meta["profession"] == "accountant" and items[2].meta["template"] == "1"
    assert len(read_gender_files(professions)) == 2 * len(TEMPLATES)  # Vig et al.'s 17


@pytest.mark.parametrize(
    "entries, message",
    [
        ([["accountant", 0.0]], "entry 0"),
        ([["nurse", 0.0, 0.1], ["police officer", 0.0, 0.5]], "entry 1"),
        ([["nurse", 0.0, 2.0]], "entry 0"),
        ([["nurse", 0.0, 0.1], ["nurse", 0.0, 0.1]], "entry 1: 'nurse' is listed twice"),
        ({}, "non-empty JSON list"),
    ],
)
def test_gender_files_name_the_bad_entry(tmp_path, entries, message):
    professions = tmp_path / "professions.json"
    professions.write_text(json.dumps(entries))
    with pytest.raises(ValueError, match=message) as error:
        read_gender_files(professions)
    assert str(professions) in str(error.value)


def test_gender_files_name_a_bad_template_line(tmp_path):
    professions = tmp_path / "professions.json"
    professions.write_text(json.dumps([["nurse", 0.0, 0.1]]))
    templates = tmp_path / "templates.txt"
    templates.write_text("The {} said that\nThe said that\n")
    with pytest.raises(ValueError, match="templates.txt, line 2"):
        read_gender_files(professions, templates)
    professions.write_text('[["nurse", 0.0,\n')
    with pytest.raises(ValueError, match="professions.json, line 2: not JSON"):
        read_gender_files(professions)
