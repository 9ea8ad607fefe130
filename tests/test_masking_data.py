"""The readers of the masking paper's data (utils/corpus/masking_data.py), on small files in
each format: aclImdb with IMDb's title.basics.tsv, ParaNMT, SentEval probing files, STS-B."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from utils.corpus import generate
from utils.corpus.masking_data import (
    ALIGNED,
    FUNCTION_WORDS,
    correlated_splits,
    paraphrase_triplets,
    read_imdb_genres,
    read_movie_genres,
    read_paranmt,
    read_senteval_probe,
    read_stsb,
)
from utils.corpus.treebank import Corpus

BASICS = (
    "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\t"
    "runtimeMinutes\tgenres\n"
    "tt0000001\tmovie\tA\tA\t0\t1990\t\\N\t90\tDrama,Romance\n"
    "tt0000002\tmovie\tB\tB\t0\t1991\t\\N\t90\tHorror\n"
    "tt0000003\tmovie\tC\tC\t0\t1992\t\\N\t90\tDrama,Horror\n"
    "tt0000004\tmovie\tD\tD\t0\t1993\t\\N\t90\tComedy\n"
    "tt0000005\tmovie\tE\tE\t0\t1994\t\\N\t90\t\\N\n"
)


def write_imdb(root: Path, movies: dict[str, list[str]]) -> Path:
    """An aclImdb folder: per split and polarity, review i of movie movies[...][i]."""
    imdb = root / "aclImdb"
    for split in ("train", "test"):
        for polarity in ("pos", "neg"):
            folder = imdb / split / polarity
            folder.mkdir(parents=True)
            ids = movies[f"{split}/{polarity}"]
            (imdb / split / f"urls_{polarity}.txt").write_text(
                "".join(f"http://www.imdb.com/title/{m}/usercomments\n" for m in ids)
            )
            for i, _ in enumerate(ids):
                rating = 8 if polarity == "pos" else 2
                (folder / f"{i}_{rating}.txt").write_text(
                    f"Review {i} of {split}/{polarity}.<br /><br />It was fine."
                )
    return imdb


def test_imdb_genres_joined_from_the_movie_metadata(tmp_path):
    basics = tmp_path / "title.basics.tsv"
    basics.write_text(BASICS)
    layout = {
        "train/pos": ["tt0000001", "tt0000002", "tt0000003"],
        "train/neg": ["tt0000002", "tt0000004"],
        "test/pos": ["tt0000005"],
        "test/neg": ["tt0000001"],
    }
    corpus = read_imdb_genres(write_imdb(tmp_path, layout), basics)
    got = [(s.meta["sent_id"], s.meta["sentiment"], s.meta["genre"]) for s in corpus]
    # both genres (tt3), neither (tt4, tt5) dropped
    assert got == [
        ("imdb-train-pos-0", "positive", "drama"),
        ("imdb-train-pos-1", "positive", "horror"),
        ("imdb-train-neg-0", "negative", "horror"),
        ("imdb-test-neg-0", "negative", "drama"),
    ]
    assert corpus[0].forms == ["Review", "0", "of", "train/pos.", "It", "was", "fine."]
    assert corpus[0].meta["movie"] == "tt0000001" and corpus[0].meta["rating"] == "8"
    # gzip-compressed metadata, as IMDb distributes it
    packed = tmp_path / "title.basics.tsv.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        handle.write(BASICS)
    assert read_movie_genres(packed) == read_movie_genres(basics)


def test_imdb_errors_name_the_file_and_line(tmp_path):
    basics = tmp_path / "title.basics.tsv"
    basics.write_text(BASICS.replace("tt0000004\tmovie", "tt0000004"))
    with pytest.raises(ValueError, match=r"title.basics.tsv:5: 8 tab-separated"):
        read_movie_genres(basics)
    basics.write_text("id\tgenres\n")
    with pytest.raises(ValueError, match=r"title.basics.tsv:1: the header has no column"):
        read_movie_genres(basics)
    basics.write_text(BASICS)
    imdb = write_imdb(
        tmp_path, {k: ["tt0000001"] for k in ("train/pos", "train/neg", "test/pos", "test/neg")}
    )
    (imdb / "train" / "urls_neg.txt").write_text("http://www.imdb.com/\n")
    with pytest.raises(ValueError, match=r"urls_neg.txt:1: no IMDb title id"):
        read_imdb_genres(imdb, basics)
    (imdb / "train" / "urls_neg.txt").write_text("")
    with pytest.raises(ValueError, match=r"0_2.txt: review 0 has no line"):
        read_imdb_genres(imdb, basics)
    with pytest.raises(FileNotFoundError, match="no aclImdb folder"):
        read_imdb_genres(tmp_path / "missing", basics)


def test_correlated_splits_follow_table_1_whatever_the_file_order():
    pool = generate("reviews", n=400, seed=3, p_aligned=0.5)
    for order in (pool, pool[::-1]):
        train, test = correlated_splits(order, 100, 60, p_aligned=0.85, seed=1)
        for split, n, p in ((train, 100, 0.85), (test, 60, 0.5)):
            pairs = Counter(zip(split.meta("sentiment"), split.meta("genre")))
            aligned = round(n // 2 * p)
            assert pairs == {
                ("positive", "drama"): aligned,
                ("negative", "horror"): aligned,
                ("positive", "horror"): n // 2 - aligned,
                ("negative", "drama"): n // 2 - aligned,
            }
            assert Counter(split.meta("genre")) == {"drama": n // 2, "horror": n // 2}
        ids = {s.meta["sent_id"] for s in train}
        assert not ids & {s.meta["sent_id"] for s in test}  # disjoint
    assert ALIGNED == (("positive", "drama"), ("negative", "horror"))
    with pytest.raises(ValueError, match="too few reviews.*positive/drama"):
        correlated_splits(pool[:40], 40, 20, p_aligned=0.85, source="pool.conllu")
    with pytest.raises(ValueError, match="n_train must be even"):
        correlated_splits(pool, 41, 20, p_aligned=0.85)


def test_paranmt_pairs(tmp_path):
    path = tmp_path / "para-nmt-50m.txt"
    path.write_text(
        "he left .\the went away .\t0.9\nshe came .\tshe arrived .\t0.4\na b .\tc d .\t0.8\n"
    )
    corpus = read_paranmt(path, min_score=0.5)
    assert [s.text for s in corpus] == ["he left .", "he went away .", "a b .", "c d ."]
    assert corpus.meta("role") == ["original", "rewrite"] * 2
    assert corpus.meta("group") == ["0", "0", "1", "1"]
    assert len(read_paranmt(path, n=1)) == 2
    path.write_text("only one field\n")
    with pytest.raises(ValueError, match=r"para-nmt-50m.txt:1: expected sentence"):
        read_paranmt(path)


def test_paraphrase_triplets_keep_function_words_and_swap_content_words(tmp_path):
    path = tmp_path / "para-nmt-50m.txt"
    path.write_text(
        "The old man walked to the river .\tThe elderly man went to the river .\n"
        "A young girl is singing in the rain .\tIn the rain , a girl sings .\n"
        "They were quickly painting the houses .\tThey painted the houses fast .\n"
    )
    triplets = paraphrase_triplets(read_paranmt(path), seed=0)
    assert len(triplets) == 9
    assert triplets.meta("role") == ["original", "rewrite", "swap"] * 3
    assert triplets.meta("group") == ["0"] * 3 + ["1"] * 3 + ["2"] * 3
    content = {
        w
        for i in (0, 3, 6)
        for w in triplets[i].forms
        if w.isalpha() and w.lower() not in FUNCTION_WORDS
    }
    for i in (0, 3, 6):
        original, rewrite, swap = (triplets[i + k].forms for k in range(3))
        assert rewrite == list(triplets[i + 1].forms) and len(swap) == len(original)
        for before, after in zip(original, swap):
            if before.isalpha() and before.lower() not in FUNCTION_WORDS:
                assert after in content, "a content word of the references"
            else:
                assert after == before, "function words and punctuation stay"
    # shapes match: the -ing words swap with each other, the only -ly word has no other
    assert triplets[5].forms[4] == "painting" and triplets[8].forms[3] == "singing"
    assert triplets[8].forms[2] == "quickly"
    assert [s.forms for s in paraphrase_triplets(read_paranmt(path), seed=0)] == [
        s.forms for s in triplets
    ]
    with pytest.raises(ValueError, match="pairs"):
        paraphrase_triplets(Corpus([triplets[0]]))


def test_senteval_probe_file(tmp_path):
    path = tmp_path / "tree_depth.txt"
    path.write_text(
        "tr\t5\tThe cat sat .\nva\t6\tA dog ran .\nte\t5\tIt rained .\ntr\t7\tShe saw him .\n"
    )
    splits = read_senteval_probe(path)
    assert [len(splits[k]) for k in ("train", "dev", "test")] == [2, 1, 1]
    assert splits["train"].meta("label") == ["5", "7"]
    assert splits["test"][0].forms == ["It", "rained", "."]
    path.write_text("xx\t5\tThe cat sat .\n")
    with pytest.raises(ValueError, match=r"tree_depth.txt:1: split 'xx'"):
        read_senteval_probe(path)


def test_stsb_file(tmp_path):
    path = tmp_path / "sts-dev.csv"
    path.write_text(
        "main-captions\tMSRvid\t2012test\t0000\t5.000\tA man plays.\tA man "
        "plays.\nmain-news\theadlines\t2013\t0001\t1.5\tStocks fell.\tIt rained.\t"
        "extra\tcolumns\n"
    )
    corpus, scores = read_stsb(path)
    assert scores.tolist() == [5.0, 1.5]
    assert [s.text for s in corpus] == [
        "A man plays.",
        "A man plays.",
        "Stocks fell.",
        "It rained.",
    ]
    path.write_text("g\tf\ty\t0\t7.0\ta\tb\n")
    with pytest.raises(ValueError, match=r"sts-dev.csv:1: score 7.0 outside"):
        read_stsb(path)
