"""The frozen bottom run once and cached, the top run on the cache: equal to the model's own
forward pass on WordPiece, byte-level BPE and SentencePiece encoders."""

import pytest
import torch
from torch import nn

from utils.frozen_bottom import (
    cached_bottom,
    encode_bottom,
    encoder_layers,
    run_layers,
    run_top,
)

SENTENCES = [
    "The story of the haunted house was truly awful .".split(),
    "Honestly , the story of the young lawyer was amazing , and I saw it on Monday .".split(),
    "The film was long .".split(),
]


@pytest.mark.parametrize("start", [0, 3, 5])
def test_cached_bottom_then_top_equals_full_forward(minilm, start):
    model, tokenizer = minilm
    bottom = encode_bottom(model, tokenizer, SENTENCES, start, batch_size=2, progress=False)
    enc = tokenizer(
        [list(s) for s in SENTENCES], is_split_into_words=True, padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        full = model(**enc).last_hidden_state
        hidden, attention = bottom.batch(range(len(SENTENCES)))
        top = run_layers(encoder_layers(model)[start:], hidden, attention)
    keep = enc["attention_mask"].bool()
    assert (full - top)[keep].abs().max() < 1e-5


def test_cached_bottom_is_stored_and_reloaded(minilm):
    model, tokenizer = minilm
    first = cached_bottom(model, tokenizer, SENTENCES, 4, progress=False)
    again = cached_bottom(model, tokenizer, SENTENCES, 4, progress=False)
    assert torch.equal(first.tokens, again.tokens)
    assert torch.equal(first.offsets, again.offsets)
    assert first.tokens.shape == (int(first.offsets[-1]), 384), "stored unpadded"


def test_encoder_layers_needs_a_bert_like_model():
    with pytest.raises(ValueError, match="encoder.layer"):
        encoder_layers(nn.Linear(2, 2))


def test_bottom_only_runs_the_bottom_layers_and_restores_the_model(minilm):
    model, tokenizer = minilm
    layers = list(encoder_layers(model))
    enc = tokenizer(
        [list(s) for s in SENTENCES], is_split_into_words=True, padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        every = model(**enc, output_hidden_states=True).hidden_states
    for start in (0, 2, 6):
        bottom = encode_bottom(model, tokenizer, SENTENCES, start, progress=False)
        assert list(encoder_layers(model)) == layers, "the encoder's layers are put back"
        hidden, attention = bottom.batch(range(len(SENTENCES)))
        keep = enc["attention_mask"].bool()
        assert (hidden - every[start])[keep].abs().max() < 1e-6


@pytest.fixture(scope="module", params=["bpe", "sentencepiece"])
def tiny_family(request, tmp_path_factory):
    from tests.tiny_models import build_tiny_model
    from utils.models import load_encoder

    folder = build_tiny_model(
        request.param, tmp_path_factory.mktemp(request.param), max_positions=128
    )
    return load_encoder(folder)


def test_split_forward_on_byte_level_bpe_and_sentencepiece(tiny_family):
    model, tokenizer = tiny_family
    for start in (0, 1, 2):
        bottom = encode_bottom(model, tokenizer, SENTENCES, start, progress=False)
        enc = tokenizer(
            [list(s) for s in SENTENCES],
            is_split_into_words=True,
            padding=True,
            return_tensors="pt",
        )
        with torch.no_grad():
            full = model(**enc).last_hidden_state
            top = run_layers(encoder_layers(model)[start:], *bottom.batch(range(len(SENTENCES))))
        assert (full - top)[enc["attention_mask"].bool()].abs().max() < 1e-5


def test_run_top_stores_each_sentence_as_the_model_computes_it(minilm):
    model, tokenizer = minilm
    bottom = encode_bottom(model, tokenizer, SENTENCES, 4, progress=False)
    top = run_top(encoder_layers(model)[4:], bottom, batch_size=2)
    assert top.start == len(encoder_layers(model))
    assert torch.equal(top.offsets, bottom.offsets)
    with torch.no_grad():
        for i, sentence in enumerate(SENTENCES):  # one sentence at a time: no padding at all
            enc = tokenizer([sentence], is_split_into_words=True, return_tensors="pt")
            full = model(**enc).last_hidden_state[0]
            assert (top.tokens[top.offsets[i] : top.offsets[i + 1]] - full).abs().max() < 1e-5
