import time

import pytest
import torch

from utils.models import ModelUnavailableError, load_encoder, load_spacy, resolve_model_source


def test_embedded_minilm_loads_offline(minilm, monkeypatch):
    model, tokenizer = minilm
    assert model.config.num_hidden_layers == 6 and model.config.hidden_size == 384
    assert not model.training
    out = model(**tokenizer("a quick test", return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == 384
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path, local_only = resolve_model_source("all-MiniLM-L6-v2")
    assert local_only and path.endswith("model")


def test_random_weights_control(minilm):
    model, _ = minilm
    control, _ = load_encoder("minilm", random_weights=True, seed=1)
    again, _ = load_encoder("minilm", random_weights=True, seed=1)
    other, _ = load_encoder("minilm", random_weights=True, seed=2)
    assert type(control) is type(model) and control.config.hidden_size == 384
    w = "embeddings.word_embeddings.weight"
    sd, sd_again, sd_other = control.state_dict(), again.state_dict(), other.state_dict()
    assert torch.equal(sd[w], sd_again[w])
    assert not torch.equal(sd[w], sd_other[w])
    assert not torch.equal(sd[w], model.state_dict()[w])


def test_local_path_loads(minilm, tmp_path):
    model, tokenizer = minilm
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    again, _ = load_encoder(tmp_path)
    torch.testing.assert_close(again.state_dict(), model.state_dict())


def test_unknown_model_offline_fails_fast_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="local copy") as err:
        load_encoder("someone/no-such-model-anywhere")
    assert time.perf_counter() - start < 5
    assert "minilm" in str(err.value)


def test_spacy_pipeline():
    nlp = load_spacy()
    doc = nlp("The dogs ran home.")
    assert [t.pos_ for t in doc][:3] == ["DET", "NOUN", "VERB"]
    assert doc[1].lemma_ == "dog"
    with pytest.raises(ModelUnavailableError, match="not installed"):
        load_spacy("xx_no_such_pipeline")
