"""Tasks from their own corpora: per-split files or one file cut, concatenated with every
token's split and each source's rows."""

import pytest

from utils.corpus import Corpus, Sentence, generate, to_conllu
from utils.corpus.task_corpora import TaskCorpora, read_splits

SIZES = {"train": 3, "dev": 1, "test": 2}


def write_ptb(path, sentences):
    path.write_text("\n".join(" ".join(f"{w}/{t}" for w, t in s) for s in sentences) + "\n")


@pytest.fixture
def ptb(tmp_path):
    rows = {
        "train": [[("Dogs", "NNS"), ("run", "VBP")]] * 5,
        "dev": [[("It", "PRP"), ("rained", "VBD")]],
        "test": [[("Cats", "NNS"), ("walked", "VBD"), (".", ".")]] * 2,
    }
    for name, sentences in rows.items():
        write_ptb(tmp_path / f"wsj_{name}.pos", sentences)
    return str(tmp_path / "wsj_{split}.pos")


def test_per_split_files_are_read_whole_up_to_their_sizes(ptb):
    parts = read_splits(ptb, "ptb", SIZES)
    assert [len(parts[s]) for s in ("train", "dev", "test")] == [3, 1, 2]
    assert parts["dev"].words() == [["It", "rained"]]
    bigger = read_splits(ptb, "ptb", {"train": 10, "dev": 10, "test": 10})
    assert len(bigger["train"]) == 5  # a split file smaller than its size is used whole


def test_one_file_is_cut_in_order_and_too_small_is_an_error(tmp_path):
    data = tmp_path / "one.conllu"
    corpus = generate("english", n=8, seed=0)
    data.write_text(to_conllu(corpus), encoding="utf-8")
    parts = read_splits(str(data), "conllu", SIZES)
    assert parts["test"].words() == corpus[4:6].words()
    with pytest.raises(ValueError, match="fewer than"):
        read_splits(str(data), "conllu", {"train": 6, "dev": 2, "test": 2})
    with pytest.raises(ValueError, match="unknown corpus format"):
        read_splits(str(data), "penn", SIZES)
    with pytest.raises(ValueError, match="missing"):
        read_splits(str(data), "conllu", {"train": 2})


def test_sources_are_concatenated_with_their_rows_splits_and_labels(tmp_path, ptb):
    chunks = tmp_path / "chunk_{split}.txt"
    for name in ("train", "dev", "test"):
        (tmp_path / f"chunk_{name}.txt").write_text("He PRP B-NP\nwalks VBZ B-VP\n\n")
    main = generate("english", n=6, seed=1).split(SIZES)
    corpora = TaskCorpora.build(
        {
            "main": main,
            "POS": read_splits(ptb, "ptb", SIZES),
            "chunk": read_splits(str(chunks), "conll2000", SIZES),
        }
    )
    n_main = sum(main[s].n_tokens for s in ("train", "dev", "test"))
    assert corpora.rows["main"] == slice(0, n_main)
    assert corpora.rows["POS"] == slice(n_main, n_main + 3 * 2 + 1 * 2 + 2 * 3)
    assert corpora.corpus.n_tokens == corpora.rows["chunk"].stop == len(corpora.split)
    pos_split = corpora.split[corpora.rows["POS"]].tolist()
    assert pos_split == [0] * 6 + [1] * 2 + [2] * 6
    assert corpora.labels("POS", "xpos")[6:8] == ["PRP", "VBD"]
    assert corpora.labels("POS", "suffix")[:2] == ["s", "-"]  # the reader derives suffixes
    assert corpora.labels("chunk", "chunk")[:2] == ["B-NP", "B-VP"]
    assert corpora.labels("main", "sem") == main["train"].labels("sem", flat=True) + main[
        "dev"
    ].labels("sem", flat=True) + main["test"].labels("sem", flat=True)
    first = corpora.first_sentence("POS", "test")
    assert corpora.corpus[first].forms == ["Cats", "walked", "."]
    assert corpora.first_sentence("main", "train") == 0
    with pytest.raises(KeyError, match="no layer 'chunk'"):
        corpora.labels("POS", "chunk")


def test_suffixes_are_derived_for_a_corpus_without_them():
    sentence = Sentence(["walked", "home"], {"xpos": ["VBD", "NN"]}, {})
    parts = {name: Corpus([sentence]) for name in ("train", "dev", "test")}
    assert TaskCorpora.build({"ud": parts}).labels("ud", "suffix") == ["ed", "-"] * 3


def test_a_source_without_a_split_is_an_error(ptb):
    parts = read_splits(ptb, "ptb", SIZES)
    with pytest.raises(ValueError, match="no dev"):
        TaskCorpora.build({"POS": {"train": parts["train"], "test": parts["test"]}})
