import numpy as np
import pytest
import torch

from utils.corpus import generate
from utils.corpus.task_corpora import TaskCorpora
from utils.corpus.word_tasks import dependency_arcs
from utils.lca_languages import (
    across_languages,
    cross_language_margin,
    layer_distance,
    layer_pair_margin,
    lower_half_margin,
    parse_languages,
    treebank_tasks,
)
from utils.lca_protocol import task_splits


def test_languages_parse_from_text_or_mapping_and_bad_items_are_named():
    text = "en=/d/en_{split}.conllu, de=/d/de.conllu"
    assert parse_languages(text, "LANGUAGE_DATA") == {
        "en": "/d/en_{split}.conllu",
        "de": "/d/de.conllu",
    }
    assert parse_languages({"fr": "flaubert"}, "LANGUAGE_MODELS") == {"fr": "flaubert"}
    assert parse_languages("", "LANGUAGE_DATA") == {}
    with pytest.raises(ValueError, match="LANGUAGE_DATA: 'de' is not LANGUAGE=VALUE"):
        parse_languages("en=a,de", "LANGUAGE_DATA")
    with pytest.raises(ValueError, match="'en' is given twice"):
        parse_languages("en=a,en=b", "LANGUAGE_DATA")


def test_a_treebank_gives_universal_pos_and_concatenated_arcs_in_its_splits():
    sizes = {"train": 6, "dev": 2, "test": 2}
    treebank = TaskCorpora.build({"de": generate("english", n=10, seed=1).split(sizes)})
    n, d = treebank.corpus.n_tokens, 4
    values = torch.arange(n * d, dtype=torch.float).reshape(n, d)
    tasks = treebank_tasks(treebank, values, "de")
    pos, dep = tasks["POS"], tasks["dependency"]
    assert pos["task"] == "POS/de" and dep["task"] == "dependency/de"
    upos = treebank.corpus.labels("upos", flat=True)
    assert [
        pos["classes"][i] for i in torch.cat([pos[s][1] for s in ("train", "dev", "test")])
    ] == upos
    modifiers, heads, labels = dependency_arcs(treebank.corpus)
    x = torch.cat([dep[s][0] for s in ("train", "dev", "test")])
    assert torch.equal(x, torch.cat([values[modifiers], values[heads]], 1))
    assert len(dep["train"][1]) == int((treebank.split[modifiers] == 0).sum())
    with pytest.raises(ValueError, match="word vectors for the"):
        treebank_tasks(treebank, values[:-1], "de")


def test_task_splits_checks_its_inputs():
    x, split = torch.zeros(3, 2), torch.tensor([0, 2, 1])
    with pytest.raises(ValueError, match="consecutive"):
        task_splits("t", x, split, ["a", "b", "c"], ["X", "Y", "X"])
    with pytest.raises(ValueError, match="one of each per example"):
        task_splits("t", x, torch.tensor([0, 1, 2]), ["a", "b"], ["X", "Y", "X"])
    data = task_splits("t", x, torch.tensor([0, 1, 2]), ["a", "b", "c"], ["X", "Y", "X"], ["Y"] * 3)
    assert data["classes"] == ["X", "Y"] and data["control"]["test"].tolist() == [1]


def test_layer_distances_and_margins():
    assert layer_distance([1, 0, 0], [2, 0, 0]) == 0.0
    assert layer_distance([1, 0], [0, 3]) == 1.0
    with pytest.raises(ValueError, match="cannot be compared"):
        layer_distance([1, 0], [1, 0, 0])
    assert across_languages({"en": [1, 1], "de": [1, 1], "fr": [2, 2]}) == 0.0
    flat = np.ones(13)
    assert abs(lower_half_margin(flat)) < 1e-12
    # the embeddings and layers 1-6 of 13 hold 7 / 13 of a flat set
    assert lower_half_margin(np.eye(13)[6]) == pytest.approx(6 / 13)
    assert lower_half_margin(np.eye(13)[7]) == pytest.approx(-7 / 13)
    peaked = np.ones(13)
    peaked[[4, 5]] = 10
    assert layer_pair_margin(peaked) > 0 > layer_pair_margin(np.eye(13)[8] + flat)


def test_a_concept_alike_across_languages_has_a_positive_margin_and_shuffled_ones_do_not():
    gen = np.random.default_rng(0)
    low, high = np.array([8, 6, 3, 1, 0, 0, 0]), np.array([0, 0, 0, 1, 3, 6, 8])
    alike = {lang: {"POS": low + gen.integers(0, 2, 7), "dependency": high + gen.integers(0, 2, 7)}
             for lang in ("en", "de", "fr")}  # fmt: skip
    assert cross_language_margin(alike) > 0.5
    swapped = {"en": alike["en"], "de": {"POS": high, "dependency": low}}
    assert cross_language_margin(swapped) < 0
    # an empty set (a tag without neurons) is left out, not divided by
    with_empty = {lang: {**h, "X": np.zeros(7)} for lang, h in alike.items()}
    assert cross_language_margin(with_empty) == cross_language_margin(alike)
    with pytest.raises(ValueError, match="two languages"):
        cross_language_margin({"en": alike["en"]})
