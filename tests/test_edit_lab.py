"""EditLab on a small random BERT: only reproduced carriers are scored, its sweeps equal the
edits of utils.neuron_edits applied by hand, and bad inputs are named."""

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from utils.edit_lab import EditLab
from utils.models import load_encoder
from utils.neuron_edits import (
    SplitModel,
    WordDecoder,
    ablation,
    complete_ranking,
    decode_words,
    edit_scores,
    tokenize_words,
    train_word_decoder,
    translation,
    translation_coefficients,
)

SENTENCES = [["the", "dogs", "ran", "home", "."], ["a", "cat", "sleeps", "."]]
LABELS = [[-1, 1, 0, -1, -1], [-1, 0, 1, -1]]  # carriers: dogs, ran, cat, sleeps
D = 32


class LowercaseJudge:
    """A stand-in for spaCy: the lemma is the word without a final "s", the value whether it
    had one."""

    def analyse(self, sentences):
        return [
            [(w.lower().removesuffix("s"), "s" if w.lower().endswith("s") else "") for w in row]
            for row in sentences
        ]


@pytest.fixture(scope="module")
def parts():
    tokenizer = load_encoder("minilm")[1]
    config = BertConfig(
        vocab_size=30522,
        hidden_size=D,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
    )
    torch.manual_seed(0)
    model = BertModel(config).eval()
    batch = tokenize_words(tokenizer, SENTENCES)
    # two decoders over the sentences' own pieces: one trained to reproduce its input, one
    # untrained (it reproduces few words), so the scored words differ between them
    vocabulary = torch.unique(batch.input_ids)
    trained = train_word_decoder(model, [batch], vocabulary, epochs=60, progress=False).eval()
    torch.manual_seed(2)
    untrained = WordDecoder(model.get_input_embeddings().weight, vocabulary).eval()
    return model, tokenizer, batch, [trained, untrained]


def make_lab(parts, layer=1, **kwargs):
    model, tokenizer, batch, decoders = parts
    split = SplitModel(model, decoders, tokenizer, batch, layer)
    torch.manual_seed(3)
    means = 3 * torch.randn(2, D)
    return EditLab(
        split, LABELS, means, LowercaseJudge(), attribute="Number", layer=layer, **kwargs
    )


def test_only_carriers_the_unedited_model_reproduces_are_scored(parts):
    model, tokenizer, batch, decoders = parts
    lab = make_lab(parts)
    for decoder, relevant in zip(decoders, lab.relevants):
        unedited = decode_words(model, decoder, tokenizer, batch)
        expected = [
            [label >= 0 and p.lower() == w.lower() for label, p, w in zip(labels, found, words)]
            for labels, found, words in zip(LABELS, unedited, SENTENCES)
        ]
        assert relevant == expected
    n_carriers = sum(label >= 0 for row in LABELS for label in row)
    shares = [sum(map(sum, r)) / n_carriers for r in lab.relevants]
    assert shares[0] == 1.0 and shares[1] < 1.0  # the trained decoder reproduces every carrier
    assert lab.scored_share == pytest.approx(np.mean(shares))
    assert lab.relevant == lab.relevants[0]


def test_k_zero_is_the_unedited_model_and_sweeps_equal_edits_by_hand(parts):
    lab = make_lab(parts)
    ranking = torch.randperm(D, generator=torch.Generator().manual_seed(4))
    ks = [0, 4, 16, D]
    assert lab.edit("translation", ranking, 0, 1.0) is None
    swept = lab.sweep_all("translation", ranking, ks, 2.0)
    assert swept.shape == (2, 2, len(ks))
    assert swept[0, :, 0].tolist() == [0.0, 0.0]  # unedited, every scored word is reproduced
    alpha = translation_coefficients(ranking, D, 2.0)
    by_hand = [None] + [
        translation(lab.token_labels, complete_ranking(ranking, D)[:k], alpha, lab.means)
        for k in ks[1:]
    ]
    found = lab.split.predict_all(by_hand)
    for j, relevant in enumerate(lab.relevants):
        expected = [edit_scores(lab.judge, SENTENCES, words[j], relevant) for words in found]
        np.testing.assert_allclose(swept[j].T, np.array(expected))
    np.testing.assert_array_equal(lab.sweep("translation", ranking, ks, 2.0), swept[0])
    ablated = lab.sweep("ablation", ranking, [D], 1.0)
    expected = lab.score([ablation(lab.token_labels, complete_ranking(ranking, D))])[0]
    np.testing.assert_array_equal(ablated, expected)
    assert len(lab.predict("ablation", ranking, [0, D], 1.0)) == 2


def test_bad_inputs_are_named(parts):
    lab = make_lab(parts)
    with pytest.raises(ValueError, match="method must be"):
        lab.edit("rotation", torch.arange(D), 3, 1.0)
    with pytest.raises(ValueError, match="annotation 'lemma'"):
        make_lab(parts, annotations={"lemma": [["the"]]})
    model, tokenizer, batch, decoders = parts
    split = SplitModel(model, decoders, tokenizer, batch, 1)
    with pytest.raises(ValueError, match="class means"):
        EditLab(split, [[-1, 2, 0, -1, -1], [-1, 0, 1, -1]], torch.zeros(2, D), LowercaseJudge())
    with pytest.raises(ValueError, match="sentence 1"):
        EditLab(split, [[-1, 1, 0, -1, -1], [0]], torch.zeros(2, D), LowercaseJudge())
