"""Neuron edits on a small random BERT: split model, ablation, translation, decoding, metrics."""

import pytest
import torch
from transformers import BertConfig, BertModel

from tests.naive import predicted_ids_with_hook, words_from_ids
from utils.models import load_encoder, load_spacy
from utils.neuron_edits import (
    MorphologyJudge,
    SpacyAnalyses,
    SplitModel,
    WordDecoder,
    ablation,
    complete_ranking,
    decode_words,
    edit_scores,
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


@pytest.fixture(scope="module")
def decoder(model):
    torch.manual_seed(1)
    return WordDecoder(model.get_input_embeddings().weight, torch.arange(2000)).eval()


def test_split_model_unedited_equals_the_whole_model(model, tokenizer, decoder):
    batch = tokenize_words(tokenizer, SENTENCES)
    whole = decode_words(model, decoder, tokenizer, batch)
    for layer in range(4):
        assert SplitModel(model, decoder, tokenizer, batch, layer).predict([None]) == [whole]
    with pytest.raises(ValueError, match="layer must be in"):
        SplitModel(model, decoder, tokenizer, batch, 5)


@pytest.mark.parametrize(("layer", "bucket_size"), [(0, 16), (1, 1), (3, 16)])
def test_split_model_edits_equal_a_hooked_whole_model(
    model, tokenizer, decoder, layer, bucket_size
):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[-1, 1, 0, -1, -1], [-1, 0, 1, -1]])
    means = 3 * torch.randn(2, 32)
    edits = [
        ablation(labels, torch.arange(16)),
        translation(labels, torch.arange(32), torch.full((32,), 2.0), means),
        None,
        translation(labels, torch.tensor([5, 9]), torch.full((32,), 4.0), means),
    ]
    split = SplitModel(model, decoder, tokenizer, batch, layer, bucket_size=bucket_size)
    stacked = split.predict(edits, rows_per_pass=4)  # two edits per pass of the top
    for edit, words in zip(edits, stacked):
        assert split.predict([edit]) == [words]
        ids = predicted_ids_with_hook(model, decoder, batch, layer, edit or (lambda h: h))
        assert words == words_from_ids(tokenizer, batch, ids)
    assert stacked[1] != stacked[2]  # the translation changes predictions


def test_split_model_with_several_decoders_equals_one_at_a_time(model, tokenizer, decoder):
    torch.manual_seed(2)
    other = WordDecoder(model.get_input_embeddings().weight, torch.arange(2000)).eval()
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[-1, 1, 0, -1, -1], [-1, 0, 1, -1]])
    edits = [
        None,
        translation(labels, torch.arange(32), torch.full((32,), 2.0), torch.randn(2, 32)),
    ]
    both = SplitModel(model, [decoder, other], tokenizer, batch, 1).predict_all(edits)
    for j, single in enumerate((decoder, other)):
        alone = SplitModel(model, single, tokenizer, batch, 1).predict(edits)
        assert [found[j] for found in both] == alone
    assert both[0][0] != both[0][1]  # two random decoders disagree
    with pytest.raises(ValueError, match="at least one decoder"):
        SplitModel(model, [], tokenizer, batch, 1)


def test_zero_neurons_change_nothing(model, tokenizer, decoder):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[0, 1, 0, 0, -1], [-1, 0, 1, -1]])
    means = torch.randn(2, 32)
    none = torch.tensor([], dtype=torch.long)
    states = SplitModel(model, decoder, tokenizer, batch, 1).states
    for edit in (ablation(labels, none), translation(labels, none, torch.ones(32), means)):
        assert torch.equal(edit(states), states)


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


def test_translation_coefficients_decay_from_beta():
    ranking = torch.randperm(20)
    alpha = translation_coefficients(ranking, 20, beta=8.0)
    along = alpha[ranking]
    assert along[0] == pytest.approx(8.0)
    assert along[-1] == pytest.approx(1e-3, rel=1e-4)
    assert torch.all(along[1:] <= along[:-1])
    partial = translation_coefficients(ranking[:5], 20, beta=8.0)
    assert torch.all(partial[ranking[5:]] == 0)


def test_complete_ranking_appends_the_missing_neurons_in_order():
    assert complete_ranking(torch.tensor([4, 1]), 6).tolist() == [4, 1, 0, 2, 3, 5]
    full = torch.randperm(6)
    assert torch.equal(complete_ranking(full, 6), full)


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


def test_clwv_with_spacy():
    judge = MorphologyJudge(load_spacy(), "Number")
    originals = [["the", "dogs", "ran", "home", "."]]
    relevant = [[False, True, False, False, False]]
    assert edit_scores(judge, originals, [["the", "dog", "ran", "home", "."]], relevant) == (1, 1)
    assert edit_scores(judge, originals, [["the", "cats", "ran", "home", "."]], relevant) == (1, 0)
    assert edit_scores(judge, originals, originals, relevant) == (0, 0)


def test_edits_hold_one_shift_per_class_and_apply_to_a_bucket(tokenizer):
    batch = tokenize_words(tokenizer, SENTENCES)
    labels = batch.spread([[-1, 1, 0, -1, -1], [-1, 0, 1, -1]])
    means = torch.randn(2, 32)
    edit = translation(labels, torch.tensor([3, 8, 20]), torch.full((32,), 2.0), means)
    assert edit.class_shift.shape == (2, 3)  # no (B, T, k) tensor
    assert torch.equal(edit.edited_shifts(), edit.shift[edit.token_mask])
    clean = torch.randn(*labels.shape, 32)
    rows, width = torch.tensor([1]), int(batch.attention_mask[1].sum())
    for e in (edit, ablation(labels, torch.tensor([3, 8]))):
        assert torch.equal(e(clean[rows, :width], rows), e(clean)[rows, :width])


def test_decoding_in_chunks_equals_one_pass(model, tokenizer, decoder):
    batch = tokenize_words(tokenizer, SENTENCES)
    whole = decode_words(model, decoder, tokenizer, batch)
    assert decode_words(model, decoder, tokenizer, batch, batch_size=1) == whole
    hidden = torch.randn(3, 5, 32)
    assert torch.equal(decoder.predict_ids(hidden), decoder.predict_ids(hidden, max_logits=2000))


def test_judges_sharing_analyses_parse_each_sentence_once():
    nlp = load_spacy()
    analyses = SpacyAnalyses(nlp)
    number, tense = (
        MorphologyJudge(nlp, "Number", analyses),
        MorphologyJudge(nlp, "Tense", analyses),
    )
    sentences = [["the", "dogs", "ran", "home", "."], ["The", "Dogs", "ran", "home", "."]]
    calls = []
    pipe = nlp.pipe
    nlp.pipe = lambda docs, **kw: (calls.append(1), list(pipe(docs, **kw)))[1]
    try:
        assert [v for _, v in number.analyse(sentences)[0]] == ["", "Plur", "", "", ""]
        assert [v for _, v in tense.analyse(sentences)[1]] == ["", "", "Past", "", ""]
    finally:
        nlp.pipe = pipe
    assert len(calls) == 1 and len(analyses.memo) == 1  # one distinct sentence, parsed once
    assert number.analyse(sentences) == MorphologyJudge(nlp, "Number").analyse(sentences)
    with pytest.raises(ValueError, match="another spaCy pipeline"):
        MorphologyJudge(object(), "Number", analyses)


def test_an_empty_prediction_is_judged_not_a_crash():
    # a word cut by truncation is predicted as "": an error, never a CLWV success
    judge = MorphologyJudge(load_spacy(), "Number")
    originals = [["the", "dogs", "ran"]]
    relevant = [[False, True, False]]
    assert edit_scores(judge, originals, [["the", "", "ran"]], relevant) == (1, 0)


@pytest.mark.parametrize("family", ["wordpiece", "bpe", "sentencepiece"])
def test_the_decoder_vocabulary_holds_the_pieces_of_a_sentence(family, tmp_path):
    # byte-level BPE and SentencePiece mark a word start inside a sentence (Ġ, ▁): the
    # vocabulary must hold those pieces, not the ones of a word read alone
    from tests.tiny_models import WORDS, build_tiny_model
    from utils.neuron_edits import decoder_vocabulary

    model, tokenizer = load_encoder(build_tiny_model(family, tmp_path))
    sentences = [WORDS[:6], WORDS[6:12]]
    batch = tokenize_words(tokenizer, sentences)
    vocabulary = decoder_vocabulary(tokenizer, [], [w for s in sentences for w in s])
    inside = batch.input_ids[batch.word_index >= 0].unique()
    assert torch.isin(inside, vocabulary).all()
    decoder = train_word_decoder(model, [batch], vocabulary, epochs=1, progress=False)
    assert len(decode_words(model, decoder, tokenizer, batch)) == 2
