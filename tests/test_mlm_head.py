"""The pretrained masked-LM head as a word decoder, on tiny models of every tokenizer family."""

import pytest
import torch
import transformers

from tests.tiny_models import build_tiny_model
from utils.mlm_head import MaskedLMHead, load_mlm_head
from utils.models import load_encoder
from utils.neuron_edits import decode_words, tokenize_words

SENTENCES = [["the", "dogs", "ran", "home", "."], ["a", "cat", "sleeps", "."]]


@pytest.mark.parametrize("family", ["wordpiece", "bpe", "sentencepiece"])
def test_the_head_predicts_what_the_masked_lm_predicts(family, tmp_path):
    folder = build_tiny_model(family, tmp_path / family, mlm_head=True)
    model, tokenizer = load_encoder(str(folder))
    head = load_mlm_head(str(folder))
    assert head is not None
    mlm = transformers.AutoModelForMaskedLM.from_pretrained(folder).eval()
    batch = tokenize_words(tokenizer, SENTENCES)
    with torch.inference_mode():
        expected = mlm(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
        hidden = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)[0]
    decoder = MaskedLMHead(head)
    assert decoder.size() == len(tokenizer)
    assert torch.equal(decoder.predict_ids(hidden), expected.argmax(-1))
    assert torch.equal(decoder.predict_ids(hidden, max_logits=len(tokenizer)), expected.argmax(-1))
    subset = torch.tensor([5, 9, 12])
    restricted = MaskedLMHead(head, subset).predict_ids(hidden)
    assert torch.equal(restricted, subset[expected[..., subset].argmax(-1)])
    words = decode_words(model, decoder, tokenizer, batch)
    assert [len(w) for w in words] == [len(s) for s in SENTENCES]


def test_an_encoder_saved_without_its_head_has_none(tmp_path):
    folder = build_tiny_model("wordpiece", tmp_path / "encoder", mlm_head=False)
    assert load_mlm_head(str(folder)) is None
