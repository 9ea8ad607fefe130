"""Neuron edits on a small random BERT: hooks, ablation, translation, decoding and metrics."""

import pytest
import torch
from transformers import BertConfig, BertModel

from utils.models import load_encoder, load_spacy
from utils.neuron_edits import (
    MorphologyJudge,
    ablation,
    decode_words,
    edit_scores,
    edited_layer,
    saturation_point,
    tokenize_words,
    train_word_decoder,
    translation,
    translation_coefficients,
)

SENTENCES = [["the", "dogs", "ran", "home", "."], ["a", "cat", "sleeps", "."]]


@pytest.fixture(scope="module")
def tokenizer():
    return load_encoder("minilm")[1]


@pytest.fixture(scope="module")
def model():
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
    )
    torch.manual_seed(0)
    return BertModel(config).eval()


def hidden_states(model, batch):
    out = model(batch.input_ids, attention_mask=batch.attention_mask, output_hidden_states=True)
    return out.hidden_states


def test_hook_removed_on_exit_and_on_exception(model, tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    block = model.encoder.layer[1]
    with edited_layer(model, 2, lambda h: h * 0):
        assert len(block._forward_hooks) == 1
    assert len(block._forward_hooks) == 0
    with pytest.raises(RuntimeError, match="boom"), edited_layer(model, 2, lambda h: h):
        raise RuntimeError("boom")
    assert len(block._forward_hooks) == 0
    with torch.no_grad():
        clean = hidden_states(model, batch)[-1]
        with edited_layer(model, 2, lambda h: h * 0):
            zeroed = hidden_states(model, batch)[-1]
        again = hidden_states(model, batch)[-1]
    assert not torch.allclose(clean, zeroed)
    assert torch.equal(clean, again)


def test_zero_neurons_change_nothing(model, tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[0, 1, 0, 0, -1], [-1, 0, 1, -1]])
    means = torch.randn(2, 32)
    none = torch.tensor([], dtype=torch.long)
    with torch.no_grad():
        clean = hidden_states(model, batch)[-1]
        for edit in (ablation(labels, none), translation(labels, none, torch.ones(32), means)):
            with edited_layer(model, 1, edit):
                assert torch.equal(hidden_states(model, batch)[-1], clean)


def test_ablation_zeroes_only_the_chosen_neurons_of_labelled_words(tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[-1, 1, -1, -1, -1], [-1, 0, -1, -1]])
    neurons = torch.tensor([3, 7])
    clean = torch.randn(*labels.shape, 32)
    edited = ablation(labels, neurons)(clean)
    labelled = labels >= 0
    assert torch.all(edited[labelled][:, neurons] == 0)
    assert torch.equal(edited[~labelled], clean[~labelled])
    others = torch.ones(32, dtype=torch.bool)
    others[neurons] = False
    assert torch.equal(edited[labelled][:, others], clean[labelled][:, others])


def test_translation_moves_labelled_words_between_the_class_means(tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[-1, 1, 0, -1, -1], [-1, 0, -1, -1]])
    means = torch.randn(2, 32)
    alpha = torch.full((32,), 2.0)
    clean = torch.randn(*labels.shape, 32)
    shift = translation(labels, torch.arange(32), alpha, means)(clean) - clean
    assert torch.allclose(shift[labels == 1], (2 * (means[0] - means[1])).expand(1, -1), atol=1e-5)
    assert torch.allclose(shift[labels == 0], (2 * (means[1] - means[0])).expand(1, -1), atol=1e-5)
    assert torch.all(shift[labels < 0] == 0)


def test_hooked_edit_is_what_the_next_block_sees(model, tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[-1, 1, 0, -1, -1], [-1, 0, -1, -1]])
    edit = ablation(labels, torch.arange(10))
    seen = []
    handle = model.encoder.layer[2].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    try:
        with torch.no_grad():
            clean = hidden_states(model, batch)[2]
            with edited_layer(model, 2, edit):
                model(batch.input_ids, attention_mask=batch.attention_mask)
    finally:
        handle.remove()
    assert torch.equal(seen[-1], edit(clean))


def test_translation_coefficients_decay_from_beta():
    ranking = torch.randperm(20)
    alpha = translation_coefficients(ranking, 20, beta=8.0)
    along = alpha[ranking]
    assert along[0] == pytest.approx(8.0)
    assert along[-1] == pytest.approx(1e-3, rel=1e-4)
    assert torch.all(along[1:] <= along[:-1])
    partial = translation_coefficients(ranking[:5], 20, beta=8.0)
    assert torch.all(partial[ranking[5:]] == 0)


def test_saturation_point():
    assert saturation_point([0.3, 0.3, 0.3, 0.3]) == 0
    assert saturation_point([0.0, 0.0, 0.0]) == 2
    assert saturation_point([0.0, 0.1, 0.3, 0.5, 0.52, 0.53, 0.5]) == 4
    # the guard: a plateau far below the final value is not the saturation point
    assert saturation_point([0.1, 0.1, 0.1, 0.4, 0.41, 0.41]) == 3


def test_decoder_learns_identity_and_decodes_words(model, tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    vocabulary = batch.input_ids.unique()
    decoder = train_word_decoder(model, [batch], vocabulary, epochs=60, lr=1e-2, progress=False)
    words = decode_words(model, decoder, tokenizer, batch)
    assert words == SENTENCES
    with pytest.raises(ValueError, match="both layer and edit"):
        decode_words(model, decoder, tokenizer, batch, layer=1)


def test_clwv_with_spacy():
    judge = MorphologyJudge(load_spacy(), "Number")
    originals = [["the", "dogs", "ran", "home", "."]]
    relevant = [[False, True, False, False, False]]
    assert edit_scores(judge, originals, [["the", "dog", "ran", "home", "."]], relevant) == (1, 1)
    assert edit_scores(judge, originals, [["the", "cats", "ran", "home", "."]], relevant) == (1, 0)
    assert edit_scores(judge, originals, originals, relevant) == (0, 0)
