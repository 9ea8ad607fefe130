"""The readers of the LCA tasks' own corpora (utils.corpus.tagged), on small files in each
format."""

import gzip

import pytest

from utils.corpus.tagged import read_ccg_auto, read_columns, read_word_tags, suffix_labels

CONLL2000 = """Confidence NN B-NP
in IN B-PP
the DT B-NP
pound NN I-NP
. . O

Chancellor NNP O
Lawson NNP B-NP
"""

SEMTAGS = """# a comment
PRO\tShe
EXS\tsings
NIL\t.

DEF\tThe
CON\tcat
"""

PTB_POS = """Pierre/NNP Vinken/NNP ,/, 61/CD years/NNS old/JJ
1\\/2/CD of/IN it/PRP

"""

CCG_AUTO = (
    "ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1\n"
    "(<T S[dcl] 0 2> (<L NP NNP NNP Vinken N>) (<T S[dcl]\\NP 0 2> "
    "(<L (S[dcl]\\NP)/NP VBZ VBZ is (S[dcl]\\NP_1)/NP_2>) (<L NP NN NN chairman N>) ) )\n"
    "ID=wsj_0001.2 PARSER=GOLD NUMPARSE=1\n"
    "(<L NP PRP PRP It NP>)\n"
)


def test_conll2000_columns(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL2000)
    corpus = read_columns(path, {"xpos": 1, "chunk": 2})
    assert len(corpus) == 2
    assert corpus[0].forms == ["Confidence", "in", "the", "pound", "."]
    assert corpus[0].layer("chunk") == ["B-NP", "B-PP", "B-NP", "I-NP", "O"]
    assert corpus[1].layer("xpos") == ["NNP", "NNP"]
    assert corpus[0].layer("suffix") == ["ence", "-", "-", "-", "-"]


def test_pmb_semantic_tags_word_in_the_second_column(tmp_path):
    path = tmp_path / "sem.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(SEMTAGS)
    corpus = read_columns(path, {"sem": 0}, word=1)
    assert [s.forms for s in corpus] == [["She", "sings", "."], ["The", "cat"]]
    assert corpus.labels("sem", flat=True) == ["PRO", "EXS", "NIL", "DEF", "CON"]


def test_ptb_word_tag_lines(tmp_path):
    path = tmp_path / "wsj.pos"
    path.write_text(PTB_POS)
    corpus = read_word_tags(path)
    assert corpus[0].layer("xpos") == ["NNP", "NNP", ",", "CD", "NNS", "JJ"]
    assert corpus[1].forms == ["1/2", "of", "it"]


def test_ccgbank_auto_supertags(tmp_path):
    path = tmp_path / "wsj_00.auto"
    path.write_text(CCG_AUTO)
    corpus = read_ccg_auto(path)
    assert corpus[0].forms == ["Vinken", "is", "chairman"]
    assert corpus[0].layer("ccg") == ["NP", "(S[dcl]\\NP)/NP", "NP"]
    assert corpus[0].layer("xpos") == ["NNP", "VBZ", "NN"]
    assert corpus[1].layer("ccg") == ["NP"]


def test_suffix_from_word_forms():
    assert suffix_labels(["walking", "creation", "sing", "Happiness", "3rd", "cats"]) == [
        "ing", "ation", "-", "ness", "-", "s"]  # fmt: skip


def test_bad_lines_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("good NN B-NP\nbad\n")
    with pytest.raises(ValueError, match=r"bad.txt:2"):
        read_columns(path, {"xpos": 1, "chunk": 2})
    path.write_text("ok/NN nope\n")
    with pytest.raises(ValueError, match=r"bad.txt:1: 'nope'"):
        read_word_tags(path)
    path.write_text("ID=x\n(<T S 0 2> nothing)\n")
    with pytest.raises(ValueError, match=r"bad.txt:2"):
        read_ccg_auto(path)
    with pytest.raises(FileNotFoundError, match="missing"):
        read_columns(tmp_path / "missing.txt", {"xpos": 1})
