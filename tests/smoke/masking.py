"""Chapter 4 at full scale: a tiny byte-level BPE (RoBERTa-style) encoder on data in the
formats the full path reads, written from the chapter's generators: the IMDB reviews of Maas
et al. (``aclImdb/``, with IMDb's ``title.basics.tsv`` giving each movie's genres), ParaNMT
pairs (``para-nmt-50m.txt``), SentEval's probing files and the STS benchmark's test file."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_model
from utils.corpus import generate

N_TRAIN, N_TEST, N_PARAPHRASE = 40, 40, 30
HEADER = (
    "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\t"
    "runtimeMinutes\tgenres\n"
)


def write_imdb(folder: Path, n: int = 200) -> None:
    """``n`` generated reviews (P(aligned) = 0.5) as aclImdb files, one movie each, plus one
    review of a movie in both genres (dropped by the reader)."""
    corpus = generate("reviews", n=n, seed=0, p_aligned=0.5)
    basics = [HEADER, "tt9999999\tmovie\tBoth\tBoth\t0\t2000\t\\N\t90\tDrama,Horror\n"]
    urls: dict[str, list[str]] = {"pos": [], "neg": []}
    for i, sentence in enumerate(corpus):
        polarity = "pos" if sentence.meta["sentiment"] == "positive" else "neg"
        movie = f"tt{i:07d}"
        basics.append(
            f"{movie}\tmovie\tM{i}\tM{i}\t0\t2000\t\\N\t90\t"
            f"{sentence.meta['genre'].capitalize()},Romance\n"
        )
        reviews = folder / "aclImdb" / "train" / polarity
        reviews.mkdir(parents=True, exist_ok=True)
        (reviews / f"{len(urls[polarity])}_7.txt").write_text(
            sentence.text + "<br /><br />", encoding="utf-8"
        )
        urls[polarity].append(f"http://www.imdb.com/title/{movie}/usercomments\n")
    for polarity in ("pos", "neg"):
        (folder / "aclImdb" / "train" / polarity / f"{len(urls[polarity])}_1.txt").write_text(
            "A film of two genres.", encoding="utf-8"
        )
        urls[polarity].append("http://www.imdb.com/title/tt9999999/usercomments\n")
        (folder / "aclImdb" / "train" / f"urls_{polarity}.txt").write_text(
            "".join(urls[polarity]), encoding="utf-8"
        )
        for split in ("test",):  # an empty test split of the aclImdb layout
            (folder / "aclImdb" / split / polarity).mkdir(parents=True, exist_ok=True)
            (folder / "aclImdb" / split / f"urls_{polarity}.txt").write_text("")
    (folder / "title.basics.tsv").write_text("".join(basics), encoding="utf-8")


def write_paranmt(path: Path, n: int) -> None:
    """``n`` generated (original, rewrite) pairs as ParaNMT lines with a score column."""
    corpus = generate("paraphrase", n=n, seed=0)
    lines = [f"{corpus[3 * i].text}\t{corpus[3 * i + 1].text}\t0.9\n" for i in range(n)]
    path.write_text("".join(lines), encoding="utf-8")


def write_probes(folder: Path, n: int = 60) -> None:
    """SentEval probing files (``SPLIT<TAB>LABEL<TAB>SENTENCE``: WC, TreeDepth, TopConst) and
    an STS-B test file, from ``3 n`` generated sentences (labels: a content word, the length
    in tens of characters, the construction; STS gold: 5 for a paraphrase, 1 for a swap)."""
    corpus = generate("paraphrase", n=n, seed=1)
    folder.mkdir(parents=True, exist_ok=True)
    labels = {
        "word_content.txt": lambda s: next(
            w for w, u in zip(s.layer("lemma"), s.layer("upos")) if u in ("NOUN", "VERB", "ADJ")
        ),
        "tree_depth.txt": lambda s: str(len(s.text) // 10),
        "top_constituents.txt": lambda s: (
            s.meta["rewrite"] if s.meta["role"] == "rewrite" else "canonical"
        ),
    }
    for name, label in labels.items():
        lines = [
            f"{'tr' if i < 2 * n else 'te'}\t{label(s)}\t{s.text}\n" for i, s in enumerate(corpus)
        ]
        (folder / name).write_text("".join(lines), encoding="utf-8")
    sts = []
    for i in range(n):
        original, rewrite, swap = (corpus[3 * i + k].text for k in range(3))
        sts.append(f"main-captions\tgen\t2024\t{2 * i:04d}\t5.0\t{original}\t{rewrite}\n")
        sts.append(f"main-captions\tgen\t2024\t{2 * i + 1:04d}\t1.0\t{original}\t{swap}\n")
    (folder / "sts-test.csv").write_text("".join(sts), encoding="utf-8")


def parameters(workdir: Path, family: str = "bpe") -> dict[str, object]:
    data = workdir / "imdb"
    write_imdb(data)
    write_paranmt(workdir / "para-nmt-50m.txt", N_PARAPHRASE)
    write_probes(workdir / "probes")
    model = build_tiny_model(family, workdir / family)
    return {"MODEL": str(model), "DATA": str(data), "N_TRAIN": N_TRAIN, "N_TEST": N_TEST,
            "PARA_DATA": str(workdir / "para-nmt-50m.txt"), "PROBE_DATA": str(workdir / "probes"),
            "N_PROBE": 40,
            "STEPS": 3, "BATCH": 4, "MICRO_BATCH": 3, "MASK_LR": 5e-3, "REFINE_STEPS": 2,
            "SPARSITIES": [0.0, 0.9], "N_PARAPHRASE": N_PARAPHRASE, "PARAPHRASE_STEPS": 2,
            # two replicates: each draws its own splits, probe sentences and content swaps
            "N_REPLICATES": 2, "TSNE_POINTS": 40, "VAE_EPOCHS": 2}  # fmt: skip
