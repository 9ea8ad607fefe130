"""Tests of utils.corpus.plaintext: the plain-text documents a language model trains on."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from utils.corpus.plaintext import read_documents, split_documents

LINES = "The cat sat .\n\nA dog ran far away .\n  \nOne\nBirds fly south in winter .\n"
BLANK = (
    " = Cats = \nThe cat sat .\nIt purred .\n\n\n = Dogs = \nA dog ran .\n\nOne\n\nBirds fly .\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_one_document_per_line(tmp_path):
    docs = read_documents(write(tmp_path, "wiki.txt", LINES), layout="lines")
    # blank lines are no documents; "One" is too short for a prediction (min_tokens=2)
    assert docs == [
        ["The", "cat", "sat", "."],
        ["A", "dog", "ran", "far", "away", "."],
        ["Birds", "fly", "south", "in", "winter", "."],
    ]
    assert read_documents(write(tmp_path, "w.txt", LINES), min_tokens=1)[2] == ["One"]


def test_blank_line_separated_documents(tmp_path):
    docs = read_documents(write(tmp_path, "wiki.txt", BLANK), layout="blank")
    assert docs == [
        ["=", "Cats", "=", "The", "cat", "sat", ".", "It", "purred", "."],
        ["=", "Dogs", "=", "A", "dog", "ran", "."],
        ["Birds", "fly", "."],
    ]


def test_gzip_and_max_tokens(tmp_path):
    path = tmp_path / "wiki.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(LINES)
    assert len(read_documents(path)) == 3
    # stops after the document that reaches the budget: whole documents only
    assert read_documents(path, max_tokens=5) == [
        ["The", "cat", "sat", "."],
        ["A", "dog", "ran", "far", "away", "."],
    ]


def test_bad_input_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_documents(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="layout"):
        read_documents(write(tmp_path, "a.txt", LINES), layout="paragraphs")
    empty = write(tmp_path, "empty.txt", "\n \nword\n")
    with pytest.raises(ValueError, match="empty.txt: no document"):
        read_documents(empty)
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("ok line\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt, line 2: not UTF-8"):
        read_documents(binary)


def test_split_documents_whole_documents_in_order():
    docs = [["a"] * 3, ["b"] * 4, ["c"] * 2, ["d"] * 5]
    splits = split_documents(docs, {"train": 6, "validation": 2})
    assert splits["train"] == docs[:2]  # 3 + 4 >= 6
    assert splits["validation"] == docs[2:3]
    with pytest.raises(ValueError, match="wiki.txt has 14 tokens in 4 documents"):
        split_documents(docs, {"train": 10, "validation": 10}, source="wiki.txt")
    with pytest.raises(ValueError, match="at least one token"):
        split_documents(docs, {"train": 0})
