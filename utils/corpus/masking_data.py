"""Readers for the data of the masking paper (Zhang, van de Meent & Wallace 2021).

* :func:`read_imdb_genres`: the IMDB reviews of Maas et al. (2011) (the ``aclImdb`` folder),
  each given the genre of its movie from IMDb's ``title.basics.tsv`` through the per-review
  movie URLs (``urls_pos.txt``, ``urls_neg.txt``); Section 3.1 keeps Drama and Horror and
  drops the reviews of movies in both or neither.
* :func:`correlated_splits`: Table 1's splits drawn from such a pool, a correlated training
  split (``P(aligned) = p_aligned``) and an uncorrelated test split (0.5), both exactly
  balanced in sentiment and genre, whatever the order of the files.
* :func:`read_paranmt`: ParaNMT-50M (Wieting & Gimpel 2018) sentence / back-translation
  pairs, Section 3.2's ``(x0, x1)``; :func:`paraphrase_triplets` adds each pair's ``x2``,
  the reference with every content word swapped.
* :func:`read_senteval_probe`: a SentEval probing file (``word_content.txt``,
  ``tree_depth.txt``, ``top_constituents.txt``: Figures 4-5's WC, Depth and TopConst).
* :func:`read_stsb`: the STS benchmark (``sts-train.csv`` ...), sentence pairs with human
  similarity scores in [0, 5] (Figures 4-5's STS).

Every reader raises a ValueError naming the file and line of a malformed entry, and a
FileNotFoundError naming the missing file.
"""

from __future__ import annotations

import gzip
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .checks import check_int, check_prob
from .treebank import Corpus, Sentence

__all__ = [
    "ALIGNED",
    "FUNCTION_WORDS",
    "correlated_splits",
    "paraphrase_triplets",
    "read_imdb_genres",
    "read_movie_genres",
    "read_paranmt",
    "read_senteval_probe",
    "read_stsb",
]

ALIGNED = (("positive", "drama"), ("negative", "horror"))  # Table 1's aligned groups
_URL = re.compile(r"/title/(tt\d+)")
_REVIEW = re.compile(r"^(\d+)_(\d+)\.txt$")
_TAG = re.compile(r"<[^>]+>")
_SPLITS = {"tr": "train", "va": "dev", "te": "test"}


def _require(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"no file at {str(path)!r}")
    return path


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline) of a text file, gzip-compressed if ``.gz``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(_require(path), "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip("\n").rstrip("\r")


def _sentence(text: str, meta: dict[str, str]) -> Sentence:
    text = " ".join(_TAG.sub(" ", text).split())  # the reviews' <br /> tags
    return Sentence(text.split(), {}, {"text": text, **meta})


def read_movie_genres(basics: str | os.PathLike) -> dict[str, set[str]]:
    """IMDb title id (``tt0111161``) -> its genres, from ``title.basics.tsv`` (or ``.tsv.gz``).

    The file is tab-separated with a header naming the columns ``tconst`` and ``genres``;
    genres are comma-separated, ``\\N`` where unknown.
    """
    path = Path(basics)
    rows = _lines(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ValueError(f"{path}: empty file, expected IMDb's title.basics.tsv") from None
    columns = header.split("\t")
    missing = [c for c in ("tconst", "genres") if c not in columns]
    if missing:
        raise ValueError(f"{path}:1: the header has no column {missing}; got {columns}")
    id_col, genre_col = columns.index("tconst"), columns.index("genres")
    genres: dict[str, set[str]] = {}
    for number, line in rows:
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise ValueError(
                f"{path}:{number}: {len(fields)} tab-separated fields, the header "
                f"has {len(columns)}"
            )
        value = fields[genre_col]
        genres[fields[id_col]] = set() if value == "\\N" else set(value.split(","))
    return genres


def read_imdb_genres(
    imdb: str | os.PathLike,
    basics: str | os.PathLike,
    genres: tuple[str, str] = ("Drama", "Horror"),
    splits: tuple[str, ...] = ("train", "test"),
) -> Corpus:
    """The IMDB reviews of one genre or the other, with their sentiment and genre.

    Parameters
    ----------
    imdb : path
        The ``aclImdb`` folder: ``SPLIT/pos/ID_RATING.txt``, ``SPLIT/neg/ID_RATING.txt`` and
        ``SPLIT/urls_pos.txt``, ``SPLIT/urls_neg.txt`` (line ``ID + 1``: the movie URL of
        review ``ID``, ``http://www.imdb.com/title/tt0453418/usercomments``).
    basics : path
        IMDb's ``title.basics.tsv`` (or ``.tsv.gz``), see :func:`read_movie_genres`.
    genres : (str, str)
        The two genres kept (the paper's Drama and Horror); a review whose movie has both or
        neither is dropped.
    splits : tuple of str
        The ``aclImdb`` splits read (both by default: :func:`correlated_splits` draws the
        paper's own splits from the pool).

    Returns
    -------
    Corpus
        One sentence per review (whitespace tokens, HTML tags removed), in a fixed order
        (split, polarity, review id); metadata ``text``, ``sentiment`` (``positive`` /
        ``negative``), ``genre`` (the genre lower-cased), ``movie`` (the title id),
        ``rating`` and ``sent_id`` (``imdb-SPLIT-POLARITY-ID``).

    Raises
    ------
    FileNotFoundError
        A missing folder, URL file or metadata file.
    ValueError
        Naming the file (and line): a review file not named ``ID_RATING.txt``, a review id
        with no line in the URL file, a URL without a title id, or no review of either genre.
    """
    root = Path(imdb)
    if not root.is_dir():
        raise FileNotFoundError(f"no aclImdb folder at {str(root)!r}")
    movie_genres = read_movie_genres(basics)
    wanted = {g: g.lower() for g in genres}
    sentences = []
    for split in splits:
        for polarity, sentiment in (("pos", "positive"), ("neg", "negative")):
            urls = _require(root / split / f"urls_{polarity}.txt")
            movies = []
            for number, line in _lines(urls):
                match = _URL.search(line)
                if match is None:
                    raise ValueError(f"{urls}:{number}: no IMDb title id (tt...) in {line!r}")
                movies.append(match.group(1))
            folder = root / split / polarity
            if not folder.is_dir():
                raise FileNotFoundError(f"no review folder at {str(folder)!r}")
            files = []
            for path in folder.iterdir():
                match = _REVIEW.match(path.name)
                if match is None:
                    raise ValueError(f"{path}: a review file must be named ID_RATING.txt")
                files.append((int(match.group(1)), match.group(2), path))
            for review_id, rating, path in sorted(files):
                if review_id >= len(movies):
                    raise ValueError(
                        f"{path}: review {review_id} has no line in {urls} ({len(movies)} lines)"
                    )
                movie = movies[review_id]
                found = [g for g in genres if g in movie_genres.get(movie, ())]
                if len(found) != 1:
                    continue
                sentences.append(
                    _sentence(
                        path.read_text(encoding="utf-8"),
                        {
                            "sentiment": sentiment,
                            "genre": wanted[found[0]],
                            "movie": movie,
                            "rating": rating,
                            "sent_id": f"imdb-{split}-{polarity}-{review_id}",
                        },
                    )
                )
    if not sentences:
        raise ValueError(
            f"{root}: no review of a movie whose genres in {basics} include exactly one of {genres}"
        )
    return Corpus(sentences)


def correlated_splits(
    pool: Corpus,
    n_train: int,
    n_test: int,
    p_aligned: float,
    seed: int = 0,
    source: str = "the review pool",
) -> tuple[Corpus, Corpus]:
    """Table 1's two splits, disjoint, drawn from a pool of reviews with both factors.

    Each split is exactly balanced in sentiment; within each sentiment
    ``round(n / 2 * p)`` reviews are aligned, ``(positive, drama)`` or ``(negative, horror)``
    (:data:`ALIGNED`), with ``p = p_aligned`` for the training split and 0.5 for the test
    split, so both splits are balanced in genre too (the paper's caption). Reviews are drawn
    at random (``seed``), so the splits do not depend on the order of the files.

    Parameters
    ----------
    pool : Corpus
        Sentences with ``sentiment`` (positive/negative) and ``genre`` (drama/horror) metadata.
    n_train, n_test : int
        Even sizes of the correlated training and the uncorrelated test split.
    p_aligned : float
        Table 1's P(aligned) of the training split (the paper's 0.85).
    seed : int
        Seed of the draw.
    source : str
        The pool's origin, named in errors.

    Returns
    -------
    (Corpus, Corpus)
        The training and the test split, each in a random order.

    Raises
    ------
    ValueError
        An odd size, a label other than the four groups', or a group with fewer reviews
        than the two splits need (naming the group, the counts and ``source``).
    """
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        check_int(name, n, low=2)
        if n % 2:
            raise ValueError(f"{name} must be even (balanced sentiment), got {n}")
    check_prob("p_aligned", p_aligned)
    groups: dict[tuple[str, str], list[int]] = {
        (s, g): [] for s in ("positive", "negative") for g in ("drama", "horror")
    }
    for i, key in enumerate(zip(pool.meta("sentiment"), pool.meta("genre"), strict=True)):
        if key not in groups:
            raise ValueError(
                f"{source}: sentence {i} has (sentiment, genre) = {key}; expected "
                "positive/negative and drama/horror"
            )
        groups[key].append(i)
    need = {key: 0 for key in groups}
    for n, p in ((n_train, p_aligned), (n_test, 0.5)):
        aligned = round(n // 2 * p)
        for key in groups:
            need[key] += aligned if key in ALIGNED else n // 2 - aligned
    short = {
        f"{s}/{g}": (len(groups[(s, g)]), need[(s, g)])
        for s, g in groups
        if len(groups[(s, g)]) < need[(s, g)]
    }
    if short:
        raise ValueError(
            f"{source}: too few reviews for {n_train} training (P(aligned) = "
            f"{p_aligned}) and {n_test} test reviews; (have, need) per group: "
            f"{short}"
        )
    rng = random.Random(seed)
    for members in groups.values():
        rng.shuffle(members)
    out = []
    for n, p in ((n_train, p_aligned), (n_test, 0.5)):
        aligned = round(n // 2 * p)
        rows = []
        for key, members in groups.items():
            k = aligned if key in ALIGNED else n // 2 - aligned
            rows += members[:k]
            del members[:k]
        rng.shuffle(rows)
        out.append(Corpus([pool[i] for i in rows]))
    return out[0], out[1]


def read_paranmt(
    path: str | os.PathLike, n: int | None = None, min_score: float | None = None
) -> Corpus:
    """ParaNMT-50M pairs (``para-nmt-50m.txt``: ``sentence<TAB>paraphrase[<TAB>score]``).

    Parameters
    ----------
    path : path
        The tab-separated file (``.gz`` read as gzip); the score column (the paragram-phrase
        similarity of the 50M release) is optional, as in the filtered 5M release.
    n : int, optional
        Stop after ``n`` pairs.
    min_score : float, optional
        Keep only pairs whose score is at least this (needs the score column).

    Returns
    -------
    Corpus
        ``2 n`` sentences: ``2 i`` the reference, ``2 i + 1`` its back-translation, with
        metadata ``group`` (``i``), ``role`` (``original`` / ``rewrite``), ``text`` and
        ``score`` where given.
    """
    path = Path(path)
    sentences: list[Sentence] = []
    for number, line in _lines(path):
        if n is not None and len(sentences) >= 2 * n:
            break
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) not in (2, 3) or not all(f.strip() for f in fields[:2]):
            raise ValueError(
                f"{path}:{number}: expected sentence<TAB>paraphrase[<TAB>score], "
                f"got {len(fields)} field(s)"
            )
        meta = {"group": str(len(sentences) // 2)}
        if len(fields) == 3:
            try:
                score = float(fields[2])
            except ValueError:
                raise ValueError(f"{path}:{number}: score {fields[2]!r} is not a number") from None
            if min_score is not None and score < min_score:
                continue
            meta["score"] = fields[2]
        elif min_score is not None:
            raise ValueError(f"{path}:{number}: min_score given but the line has no score")
        for role, text in (("original", fields[0]), ("rewrite", fields[1])):
            sentences.append(_sentence(text, {**meta, "role": role}))
    if not sentences:
        raise ValueError(f"{path}: no sentence pair")
    return Corpus(sentences)


#: English closed-class words (determiners, pronouns, prepositions, conjunctions, auxiliaries,
#: negation and a few adverbs of degree): what :func:`paraphrase_triplets` keeps.
FUNCTION_WORDS = frozenset(
    """
a an the this that these those some any no every each either neither both all another such
what which who whom whose where when why how whether if than then so as because although
though while unless until since before after once
i me my mine myself you your yours yourself yourselves he him his himself she her hers
herself it its itself we us our ours ourselves they them their theirs themselves one
and or but nor yet not n't never
of in on at to for from by with without about into onto over under above below between
among through during against along across around behind beyond near off out up down upon
within toward towards via per than like
be am is are was were been being have has had having do does did doing will would shall
should can could may might must 's 're 've 'd 'll 'm
there here very too also just only even still more most less least much many few quite
rather really
""".split()
)
_SUFFIXES = ("ing", "ed", "ly", "s")


def _shape(word: str) -> tuple[str, bool]:
    """A content word's stand-in for its part of speech: its inflectional suffix class and
    whether it is capitalised."""
    lower = word.lower()
    suffix = next((x for x in _SUFFIXES if lower.endswith(x) and len(lower) > len(x) + 2), "")
    return suffix, word[:1].isupper()


def _is_content(word: str) -> bool:
    return word.isalpha() and word.lower() not in FUNCTION_WORDS


def paraphrase_triplets(pairs: Corpus, seed: int = 0) -> Corpus:
    """Section 3.2's triplets from ParaNMT pairs (:func:`read_paranmt`): ``(x0, x1, x2)``.

    ``x0`` is the reference, ``x1`` its back-translation (same meaning, other syntax) and
    ``x2`` the reference with its function words (:data:`FUNCTION_WORDS`, punctuation and
    numbers) kept in place and every content word replaced by another content word of the
    pairs' references (same syntax, other meaning). The paper takes the replacement from
    BERT's top masked-word predictions; here it is drawn at random among the references'
    content words of the same shape (inflectional suffix, ``-ing`` / ``-ed`` / ``-ly`` /
    ``-s`` or none, and capitalisation), a part-of-speech stand-in that needs no tagger.

    Returns
    -------
    Corpus
        ``3 n`` sentences: ``3 i`` the reference, ``3 i + 1`` its paraphrase, ``3 i + 2`` the
        swap, with metadata ``group`` (``i``) and ``role`` (``original``, ``rewrite``,
        ``swap``), the layout of ``generate("paraphrase")``.
    """
    if len(pairs) % 2 or not len(pairs):
        raise ValueError(f"expected reference / paraphrase pairs, got {len(pairs)} sentences")
    references = [pairs[i] for i in range(0, len(pairs), 2)]
    by_shape: dict[tuple[str, bool], list[str]] = {}
    for sentence in references:
        for word in sentence.forms:
            if _is_content(word):
                by_shape.setdefault(_shape(word), []).append(word)
    pool = {shape: sorted(set(words)) for shape, words in by_shape.items()}
    rng = random.Random(seed)
    out: list[Sentence] = []
    for i, reference in enumerate(references):
        swapped = []
        for word in reference.forms:
            choices = pool.get(_shape(word), []) if _is_content(word) else []
            others = [w for w in choices if w.lower() != word.lower()]
            swapped.append(others[rng.randrange(len(others))] if others else word)
        rewrite = pairs[2 * i + 1]
        for role, forms in (
            ("original", reference.forms),
            ("rewrite", rewrite.forms),
            ("swap", swapped),
        ):
            out.append(
                Sentence(list(forms), {}, {"text": " ".join(forms), "group": str(i), "role": role})
            )
    return Corpus(out)


def read_senteval_probe(path: str | os.PathLike) -> dict[str, Corpus]:
    """A SentEval probing task file: ``SPLIT<TAB>LABEL<TAB>SENTENCE`` per line.

    ``SPLIT`` is ``tr``, ``va`` or ``te``; the sentence is tokenised by spaces (SentEval's
    files are). Returns ``{"train", "dev", "test"}`` -> Corpus with ``label`` metadata.
    """
    path = Path(path)
    out: dict[str, list[Sentence]] = {name: [] for name in _SPLITS.values()}
    for number, line in _lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(
                f"{path}:{number}: expected SPLIT<TAB>LABEL<TAB>SENTENCE, got "
                f"{len(fields)} field(s)"
            )
        split, label, text = fields
        if split not in _SPLITS:
            raise ValueError(f"{path}:{number}: split {split!r} is not one of {tuple(_SPLITS)}")
        out[_SPLITS[split]].append(_sentence(text, {"label": label}))
    if not any(out.values()):
        raise ValueError(f"{path}: no probing example")
    return {name: Corpus(sentences) for name, sentences in out.items()}


def read_stsb(path: str | os.PathLike) -> tuple[Corpus, np.ndarray]:
    """An STS benchmark file (``sts-train.csv``, ``sts-dev.csv``, ``sts-test.csv``).

    Tab-separated: genre, file, year, id, score, sentence 1, sentence 2 (some lines carry
    further source columns, which are ignored).

    Returns
    -------
    (Corpus, ndarray)
        ``2 n`` sentences (``2 i`` and ``2 i + 1`` the pair, metadata ``group``), and the
        ``n`` gold similarity scores in [0, 5].
    """
    path = Path(path)
    sentences: list[Sentence] = []
    scores: list[float] = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 7:
            raise ValueError(
                f"{path}:{number}: expected at least 7 tab-separated fields "
                f"(genre, file, year, id, score, sentence 1, sentence 2), got "
                f"{len(fields)}"
            )
        try:
            score = float(fields[4])
        except ValueError:
            raise ValueError(f"{path}:{number}: score {fields[4]!r} is not a number") from None
        if not 0.0 <= score <= 5.0:
            raise ValueError(f"{path}:{number}: score {score} outside [0, 5]")
        group = str(len(scores))
        sentences += [
            _sentence(fields[5], {"group": group}),
            _sentence(fields[6], {"group": group}),
        ]
        scores.append(score)
    if not scores:
        raise ValueError(f"{path}: no sentence pair")
    return Corpus(sentences), np.array(scores)
