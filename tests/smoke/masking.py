"""Chapter 4 at full scale: a tiny byte-level BPE (RoBERTa-style) encoder on reviews in the
layout the full path reads (the IMDB reviews of Maas et al., ``aclImdb/``, with IMDb's
``title.basics.tsv`` giving each movie's genres), written from the chapter's generator."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate

N_TRAIN, N_TEST = 40, 40
HEADER = ("tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\t"
          "runtimeMinutes\tgenres\n")


def write_imdb(folder: Path, n: int = 200) -> None:
    """``n`` generated reviews (P(aligned) = 0.5) as aclImdb files, one movie each, plus one
    review of a movie in both genres (dropped by the reader)."""
    corpus = generate("reviews", n=n, seed=0, p_aligned=0.5)
    basics = [HEADER, "tt9999999\tmovie\tBoth\tBoth\t0\t2000\t\\N\t90\tDrama,Horror\n"]
    urls: dict[str, list[str]] = {"pos": [], "neg": []}
    for i, sentence in enumerate(corpus):
        polarity = "pos" if sentence.meta["sentiment"] == "positive" else "neg"
        movie = f"tt{i:07d}"
        basics.append(f"{movie}\tmovie\tM{i}\tM{i}\t0\t2000\t\\N\t90\t"
                      f"{sentence.meta['genre'].capitalize()},Romance\n")
        reviews = folder / "aclImdb" / "train" / polarity
        reviews.mkdir(parents=True, exist_ok=True)
        (reviews / f"{len(urls[polarity])}_7.txt").write_text(
            sentence.text + "<br /><br />", encoding="utf-8")
        urls[polarity].append(f"http://www.imdb.com/title/{movie}/usercomments\n")
    for polarity in ("pos", "neg"):
        (folder / "aclImdb" / "train" / polarity / f"{len(urls[polarity])}_1.txt").write_text(
            "A film of two genres.", encoding="utf-8")
        urls[polarity].append("http://www.imdb.com/title/tt9999999/usercomments\n")
        (folder / "aclImdb" / "train" / f"urls_{polarity}.txt").write_text("".join(
            urls[polarity]), encoding="utf-8")
        for split in ("test",):  # an empty test split of the aclImdb layout
            (folder / "aclImdb" / split / polarity).mkdir(parents=True, exist_ok=True)
            (folder / "aclImdb" / split / f"urls_{polarity}.txt").write_text("")
    (folder / "title.basics.tsv").write_text("".join(basics), encoding="utf-8")


def parameters(workdir: Path, family: str = "bpe") -> dict[str, object]:
    data = workdir / "imdb"
    write_imdb(data)
    model = build_tiny_model(family, workdir / family)
    return {"MODEL": str(model), "DATA": str(data), "N_TRAIN": N_TRAIN, "N_TEST": N_TEST,
            "STEPS": 3, "BATCH": 4, "MICRO_BATCH": 3, "MASK_LR": 5e-3, "REFINE_STEPS": 2,
            "SPARSITIES": [0.0, 0.9], "N_PARAPHRASE": 30, "PARAPHRASE_STEPS": 2,
            "N_REPLICATES": 1, "TSNE_POINTS": 40}  # fmt: skip
