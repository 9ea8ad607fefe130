"""The VAE baselines of Table 2 (John et al. 2019): the word indexing, the ELBO's and the
adversarial objective's terms against torch.distributions, and training that learns."""

import pytest
import torch
from torch.distributions import Categorical, Normal, kl_divergence

from utils.disentangle import TextVAE, VAEConfig, WordSequences, train_text_vae, vae_latents
from utils.disentangle.vae import BOS, EOS, PAD, UNK, gaussian_kl, prediction_entropy
from utils.frozen_bottom import BottomStates


def test_word_sequences_index_pad_and_mark_unknown_words():
    train = WordSequences.build([["the", "film"], ["a", "good", "film"]])
    assert train.vocabulary[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    film = train.vocabulary.index("film")
    assert train.ids[0].tolist() == [BOS, train.vocabulary.index("the"), film, EOS, PAD]
    assert train.lengths.tolist() == [4, 5]
    test = WordSequences.build([["the", "awful", "film"]], train.vocabulary)
    assert test.ids[0, 2] == UNK and test.ids[0, 3] == film
    capped = WordSequences.build([["b", "a", "b"], ["c", "b", "a"]], max_vocabulary=6, max_length=2)
    assert capped.vocabulary[4:] == ["b", "a"], "most frequent first, ties alphabetical"
    assert capped.lengths.tolist() == [4, 4] and capped.ids[1, 1] == UNK
    with pytest.raises(ValueError, match="at least one word"):
        WordSequences.build([["a"], []])
    with pytest.raises(ValueError, match="starts with"):
        WordSequences.build([["a"]], ["a", "b"])


def test_kl_and_entropy_terms_match_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mean, log_var = torch.randn(5, 8, generator=gen), torch.randn(5, 8, generator=gen)
    reference = kl_divergence(Normal(mean, (0.5 * log_var).exp()), Normal(0.0, 1.0))
    assert torch.allclose(gaussian_kl(mean, log_var), reference.sum(1).mean(), atol=1e-5)
    logits = torch.randn(5, 3, generator=gen)
    assert torch.allclose(prediction_entropy(logits), Categorical(logits=logits).entropy().mean())


def _toy(n=96, seed=0):
    """Sentences whose first word gives factor a and second word factor b."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (2, n), generator=gen)
    sentences = [[("bad", "good")[a], ("drama", "horror")[b], "film"] for a, b in y.T.tolist()]
    return sentences, (y[0], y[1])


def _small(vocab_size, **kwargs):
    torch.manual_seed(0)
    return TextVAE(vocab_size, embed_size=16, hidden_size=32, latent_size=4, **kwargs)


def test_training_learns_each_factor_in_its_own_latent_and_is_reproducible():
    sentences, labels = _toy()
    words = WordSequences.build(sentences)
    config = VAEConfig(epochs=30, batch_size=32, seed=3)
    runs = []
    for _ in range(2):
        vae = _small(len(words.vocabulary))
        history = train_text_vae(vae, words, labels, config, progress=False)
        runs.append((vae, history))
    (vae, history), (_, again) = runs
    assert history["loss"] == again["loss"], "same seed, same run"
    assert len(history["loss"]) == 30 * 3
    assert history["reconstruction"][-1] < 0.5 * history["reconstruction"][0]
    assert history["kl_weight"][0] < 0.01 < 0.99 < history["kl_weight"][-1]
    z = vae_latents(vae, words)
    assert z[0].shape == z[1].shape == (len(sentences), 4)
    for f in range(2):
        accuracy = (vae.heads[f](z[f]).argmax(1) == labels[f]).float().mean()
        assert accuracy > 0.95, f"latent {f} did not learn its factor"


def test_vae_reads_precomputed_encoder_states():
    sentences, labels = _toy(n=40)
    words = WordSequences.build(sentences)
    lengths = torch.full((40,), 5)  # e.g. [CLS] w1 w2 w3 [SEP] of an encoder, width 6
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    states = BottomStates(torch.randn(int(offsets[-1]), 6), offsets, start=2)
    vae = _small(len(words.vocabulary), input_size=6)
    history = train_text_vae(
        vae, words, labels, VAEConfig(epochs=2, batch_size=16), states=states, progress=False
    )
    assert len(history["loss"]) == 2 * 3
    assert vae_latents(vae, words, states=states)[0].shape == (40, 4)
    with pytest.raises(ValueError, match="give states exactly"):
        train_text_vae(vae, words, labels, progress=False)
    with pytest.raises(ValueError, match="one entry per sentence"):
        train_text_vae(
            _small(len(words.vocabulary)), words, (labels[0][:3], labels[1]), progress=False
        )
