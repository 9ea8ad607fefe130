"""The model loader, the word alignment of activations and the word decoding of neuron edits
on tiny real-format models of every tokenizer family (built offline by tests/tiny_models.py)."""

import pytest
import torch

from tests.naive import word_activations_one_by_one
from tests.tiny_models import FAMILIES, WORDS, build_tiny_model
from utils.activations import extract_activations
from utils.models import load_encoder, tokenizer_family
from utils.neuron_edits import _words, tokenize_words
from utils.tokens import encode_words, model_max_length

# a word split into several pieces (barking), one the vocabulary lacks (xyzzy, Ωmega)
SENTENCES = [["the", "dogs", "barking", "loudly"], ["xyzzy", "cat", "Ωmega"], ["a"]]
NO_LIMIT = "XLNet's relative positions set no length limit: it reads 512 sub-tokens at a time"


@pytest.fixture(scope="module", params=FAMILIES)
def tiny(request, tmp_path_factory):
    folder = build_tiny_model(request.param, tmp_path_factory.mktemp(request.param))
    model, tokenizer = load_encoder(folder)
    return request.param, model, tokenizer


def test_every_family_loads_from_a_saved_folder(tiny, tmp_path):
    family, model, tokenizer = tiny
    assert (
        tokenizer_family(tokenizer)
        == {"wordpiece": "WordPiece", "bpe": "BPE", "sentencepiece": "Unigram", "xlnet": "Unigram"}[
            family
        ]
    )
    assert model.config.num_hidden_layers == 2 and not model.training
    # a folder saved with a masked-LM head loads as its encoder
    with_head, _ = load_encoder(build_tiny_model(family, tmp_path / "mlm", mlm_head=True))
    assert type(with_head).__name__ == type(model).__name__


def test_byte_level_bpe_marks_every_word_start(tiny):
    family, _, tokenizer = tiny
    encoded = tokenizer(SENTENCES[0], is_split_into_words=True)
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    words = encoded.word_ids()
    starts = [  # XLNet's special tokens follow the sentence, the others' frame it
        p for i, (p, w) in enumerate(zip(pieces, words)) if w is not None and w != words[i - 1]
    ]
    assert len(starts) == len(SENTENCES[0])
    if family == "bpe":
        assert all(p.startswith("Ġ") for p in starts), pieces
    if family in ("sentencepiece", "xlnet"):
        assert all(p.startswith("▁") for p in starts), pieces


def test_word_alignment_matches_one_sentence_at_a_time(tiny):
    _, model, tokenizer = tiny
    split = [len(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in SENTENCES[0]]
    assert max(split) > 1, "a word of the test is split into several pieces"
    for aggregation in ("first", "last", "mean"):
        got = extract_activations(
            model, tokenizer, SENTENCES, aggregation=aggregation, batch_size=2, progress=False
        )
        want = word_activations_one_by_one(model, tokenizer, SENTENCES, aggregation)
        assert got.values.shape == (8, 3, 32)
        torch.testing.assert_close(got.values, want, atol=1e-5, rtol=1e-5)


def test_a_sentence_over_the_models_limit_is_read_in_windows(tiny):
    """Every word of a long sentence gets the vectors of the window that gives it the most
    context, exactly as if that window were a sentence of its own."""
    family, model, tokenizer = tiny
    if family == "xlnet":
        pytest.skip(NO_LIMIT)
    long = [*WORDS, *reversed(WORDS)]  # no word range repeats: each window is found again
    limit = model_max_length(model)
    encoded = encode_words(tokenizer, [["a"], long], limit)
    assert encoded.sentence[0] == 0 and set(encoded.sentence[1:]) == {1}
    assert len(encoded) > 2 and max(encoded.lengths()) <= limit
    owned = sorted(w for row in encoded.word_ids[1:] for w in row if w >= 0)
    assert sorted(set(owned)) == list(range(len(long)))  # every word read once
    assert len({w: None for w in owned}) == len(long)
    got = extract_activations(model, tokenizer, [["a"], long], batch_size=2, progress=False)
    assert got.values.shape[0] == 1 + len(long) and torch.isfinite(got.values).all()
    for ids, wids in zip(encoded.ids[1:], encoded.word_ids[1:]):
        words = sorted({w for w in wids if w >= 0})
        # the window's own words, read as a sentence of their own
        first, last = _window_span(tokenizer, long, ids)
        alone = extract_activations(model, tokenizer, [long[first:last]], progress=False)
        torch.testing.assert_close(
            got.values[1 + torch.tensor(words)], alone.values[torch.tensor(words) - first],
            atol=1e-5, rtol=1e-5,
        )  # fmt: skip


def _window_span(tokenizer, words, ids):
    """The word range ``[first, last)`` whose encoding is the window ``ids``."""
    for first in range(len(words)):
        for last in range(first + 1, len(words) + 1):
            if tokenizer(words[first:last], is_split_into_words=True)["input_ids"] == ids:
                return first, last
    raise AssertionError("no word range encodes to this window")


def test_a_long_sentence_is_truncated_with_a_warning_for_neuron_edits(tiny):
    family, model, tokenizer = tiny
    if family == "xlnet":
        pytest.skip(NO_LIMIT)
    long = ["the", "dogs", "barking", "loudly"] * 20
    with pytest.warns(UserWarning, match=r"1 sentence\(s\) over .* truncated, \d+ words cut"):
        batch = tokenize_words(tokenizer, [["a"], long], max_length=model_max_length(model))
    assert batch.input_ids.shape[1] <= model_max_length(model)
    assert 0 < batch.word_index[1].max() < len(long) - 1


def test_a_word_longer_than_the_limit_is_a_clear_error(tiny):
    _, model, tokenizer = tiny
    with pytest.raises(ValueError, match="alone has .* sub-tokens"):
        encode_words(tokenizer, [["barking"]], 3)  # two specials leave one


def test_edited_words_are_decoded_in_every_family(tiny):
    family, _, tokenizer = tiny
    batch = tokenize_words(tokenizer, SENTENCES)
    # decoding the input's own pieces gives the words back (lower-cased by this WordPiece
    # tokenizer; unknown characters become the unknown token)
    words = _words(tokenizer, batch, batch.input_ids.cpu())
    assert words[0] == SENTENCES[0]
    assert words[2] == ["a"]
    assert words[1][1] == "cat"


def test_fine_tuning_runs_in_every_family(tiny):
    """Table 6's fine-tuning reads each family's length limit (XLNet has none) and pads as
    its tokenizer does (XLNet on the left)."""
    from utils.fine_tuning import fine_tuned_encoder

    _, model, tokenizer = tiny
    sentences = [["the", "dogs", "bark"], ["a", "cat", "sleeps", "on", "the", "mat"]]
    labels = [1, 0]
    tuned = fine_tuned_encoder(
        model, tokenizer, sentences * 2, labels * 2, steps=2, batch_size=4, lr=1e-2, progress=False
    )
    after = extract_activations(tuned, tokenizer, sentences, progress=False).values
    before = extract_activations(model, tokenizer, sentences, progress=False).values
    assert torch.isfinite(after).all() and not torch.allclose(after, before)
