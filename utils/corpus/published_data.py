"""Readers for the published data of De Cao et al. (2021): Lakretz et al.'s number-agreement
files and Vig et al.'s professions and templates.

The paper's number-agreement data are the NA-task files of Lakretz et al. (2019)
(``simple``, ``adv``, ``adv_adv``, ``adv_conjunction``, ``namepp``, ``nounpp``,
``nounpp_adv``), one file per construction, each line tab-separated::

    The athlete behind the car probably encourages<TAB>singular_singular<TAB>correct<TAB>id1
    The athlete behind the car probably encourage<TAB>singular_singular<TAB>wrong<TAB>id1

a sentence ending at its verb, the number of the subject (followed by the attractor's in
the constructions that have one), whether the verb agrees, and an id shared by the two
versions. :func:`read_agreement_files` pairs them into items in the layout of
``generate("agreement", mode="prefix")``: the correct sentence as ``forms`` (so ``forms[:-1]``
is the prefix), and ``meta`` with ``correct``, ``wrong``, ``subj_number`` (``sing`` or
``plur``), ``construction`` (the file's name) and ``congruent`` (``none`` without an
attractor, else ``yes`` or ``no``).

The gender data are Vig et al.'s (2020) 17 templates (``The {} said that`` ...) filled with
the professions of Bolukbasi et al. (2016) (169 professions: 2,873 prefixes). Their
``professions.json`` is a JSON list of ``[profession, definitional, stereotypical]``
entries (scores in ``[-1, 1]``, positive for *he*); :func:`read_gender_files` gives items in
the layout of ``generate("gender", mode="eval")``: the prefix as ``forms`` and ``meta`` with
``profession``, ``template`` (its index), ``template_text`` and ``stereotype``, the
stereotypical score mapped to ``[0, 1]`` as ``(1 + score) / 2``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .task_gender import TEMPLATES
from .treebank import Sentence

__all__ = ["read_agreement_files", "read_gender_files"]

_NUMBERS = {"singular": "sing", "plural": "plur"}


def read_agreement_files(paths: Sequence[str | Path]) -> list[Sentence]:
    """Number-agreement items from Lakretz et al.'s NA-task files (one per construction).

    Parameters
    ----------
    paths
        Tab-separated files, four columns per line (sentence, subject number(s),
        ``correct`` or ``wrong``, id); each id once ``correct`` and once ``wrong``, the two
        sentences differing in their last word (the verb).

    Returns
    -------
    list of Sentence
        One item per id, in file order: ``forms`` the correct sentence, ``meta`` as in
        ``generate("agreement", mode="prefix")`` (see the module docstring).

    Raises
    ------
    ValueError
        Naming the file and line of a malformed line, an unknown number or label, a
        duplicated version, or an id whose two sentences differ elsewhere than the verb.
    """
    if not paths:
        raise ValueError("read_agreement_files needs at least one file")
    items = []
    for path in map(Path, paths):
        versions: dict[str, dict[str, tuple[list[str], str, int]]] = {}
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}, line {line_no}"
            columns = [c.strip() for c in line.split("\t")]
            if len(columns) != 4:
                raise ValueError(
                    f"{where}: {len(columns)} tab-separated columns, expected 4 (sentence, "
                    "subject number, correct|wrong, id)"
                )
            sentence, numbers, label, item_id = columns
            parts = numbers.split("_")
            if not 1 <= len(parts) <= 2 or any(p not in _NUMBERS for p in parts):
                raise ValueError(
                    f"{where}: number {numbers!r}, expected singular or plural, optionally "
                    "followed by _singular or _plural (the attractor)"
                )
            if label not in ("correct", "wrong"):
                raise ValueError(f"{where}: label {label!r}, expected correct or wrong")
            words = sentence.split()
            if len(words) < 2:
                raise ValueError(f"{where}: a sentence of {len(words)} word(s)")
            if label in versions.setdefault(item_id, {}):
                first = versions[item_id][label][2]
                raise ValueError(f"{where}: a second {label} version of {item_id!r} (line {first})")
            versions[item_id][label] = (words, numbers, line_no)
        for item_id, pair in versions.items():
            if len(pair) != 2:
                ((words, _, line_no),) = pair.values()
                raise ValueError(
                    f"{path}, line {line_no}: {item_id!r} has no "
                    f"{'wrong' if 'correct' in pair else 'correct'} version"
                )
            (right, numbers, line_no), (wrong, _, _) = pair["correct"], pair["wrong"]
            if right[:-1] != wrong[:-1] or len(right) != len(wrong) or right[-1] == wrong[-1]:
                raise ValueError(
                    f"{path}, line {line_no}: the correct and wrong versions of {item_id!r} "
                    "must differ in their last word (the verb) only"
                )
            parts = numbers.split("_")
            congruent = "none" if len(parts) == 1 else ("yes" if parts[0] == parts[1] else "no")
            meta = {
                "sent_id": item_id,
                "construction": path.stem,
                "subj_number": _NUMBERS[parts[0]],
                "correct": right[-1],
                "wrong": wrong[-1],
                "congruent": congruent,
            }
            items.append(Sentence(forms=right, meta=meta))
    return items


def read_gender_files(
    professions: str | Path, templates: str | Path | None = None
) -> list[Sentence]:
    """Gender-bias prefixes: every template filled with every profession (Vig et al., 2020).

    Parameters
    ----------
    professions
        A JSON list of ``[profession, definitional, stereotypical]`` entries (Vig et al.'s
        ``professions.json``, from Bolukbasi et al., 2016), scores in ``[-1, 1]``.
    templates
        A text file with one template per line, ``{}`` marking the profession; None: the
        17 templates of Vig et al. (:data:`utils.corpus.task_gender.TEMPLATES`).

    Returns
    -------
    list of Sentence
        Template-major (every profession for the first template, then the next), ``forms``
        the prefix (ending before the pronoun), ``meta`` as in ``generate("gender",
        mode="eval")`` (see the module docstring).

    Raises
    ------
    ValueError
        Naming the file (and entry or line) of a malformed profession or template.
    """
    try:
        entries = json.loads(Path(professions).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{professions}, line {error.lineno}: not JSON ({error.msg})") from None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{professions}: expected a non-empty JSON list of professions")
    scored = {}
    for index, entry in enumerate(entries):
        valid = (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], str)
            and entry[0].strip()
            and len(entry[0].split()) == 1
            and all(isinstance(v, (int, float)) and -1 <= v <= 1 for v in entry[1:])
        )
        if not valid:
            raise ValueError(
                f"{professions}, entry {index}: {entry!r}, expected [profession (one word), "
                "definitional, stereotypical] with scores in [-1, 1]"
            )
        if entry[0] in scored:
            raise ValueError(f"{professions}, entry {index}: {entry[0]!r} is listed twice")
        scored[entry[0]] = (1 + entry[2]) / 2
    texts = TEMPLATES
    if templates is not None:
        lines = Path(templates).read_text(encoding="utf-8").splitlines()
        texts = tuple(line.strip() for line in lines if line.strip())
        for line_no, line in enumerate(lines, 1):
            if line.strip() and line.count("{}") != 1:
                raise ValueError(
                    f"{templates}, line {line_no}: {line.strip()!r} must hold one {{}} (the "
                    "profession)"
                )
        if not texts:
            raise ValueError(f"{templates}: no template")
    items = []
    for index, text in enumerate(texts):
        for profession, share in scored.items():
            meta = {
                "template": str(index),
                "template_text": text,
                "profession": profession,
                "stereotype": f"{share:g}",
            }
            items.append(Sentence(forms=text.format(profession).split(), meta=meta))
    return items
