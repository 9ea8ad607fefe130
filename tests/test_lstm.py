import pytest
import torch

from utils.lstm import (
    BOS,
    EOS,
    IGNORE,
    LSTMNetwork,
    Vocabulary,
    cached_sequence_model,
    language_model_pairs,
    pad_batch,
    train_sequence_model,
)

SENTENCES = [["the", "dog", "runs"], ["the", "dogs", "run"], ["a", "cat", "sleeps"]] * 20


def test_vocabulary_roundtrip_and_unknowns():
    vocab = Vocabulary.build(SENTENCES)
    assert vocab.tokens[:4] == ["<pad>", "<unk>", BOS, EOS]
    assert vocab.decode(vocab.encode(["the", "dog"])) == ["the", "dog"]
    assert vocab.decode(vocab.encode(["zebra"])) == ["<unk>"]
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="once"):
        Vocabulary(["<pad>", "<unk>", BOS, EOS, "a", "a"])


def test_pairs_and_padding():
    vocab = Vocabulary.build(SENTENCES)
    pairs = language_model_pairs([["the", "dog"], ["a"]], vocab)
    assert vocab.decode(pairs[0][0]) == [BOS, "the", "dog"]
    assert vocab.decode(pairs[0][1]) == ["the", "dog", EOS]
    inputs, targets = pad_batch(pairs)
    assert inputs.shape == (2, 3) and inputs[1, 2] == 0 and targets[1, 2] == IGNORE
    with pytest.raises(ValueError, match="targets"):
        pad_batch([([1, 2], [1])])


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_unrolled_equals_fused(n_layers):
    torch.manual_seed(0)
    model = LSTMNetwork(30, 30, embedding_dim=8, hidden_dim=12, n_layers=n_layers).eval()
    tokens = torch.randint(0, 30, (4, 9))
    fused = model(tokens)
    logits, hidden, cells = model.unrolled(tokens)
    torch.testing.assert_close(logits, fused, atol=1e-5, rtol=1e-5)
    reference, _ = model.lstm(model.embedding(tokens))
    torch.testing.assert_close(hidden[-1], reference, atol=1e-5, rtol=1e-5)
    assert hidden.shape == cells.shape == (n_layers, 4, 9, 12)


def test_identity_edit_changes_nothing_and_an_edit_propagates():
    torch.manual_seed(0)
    model = LSTMNetwork(30, 30, embedding_dim=8, hidden_dim=12, n_layers=2).eval()
    tokens = torch.randint(0, 30, (3, 6))
    plain, hidden, _ = model.unrolled(tokens)
    same, _, _ = model.unrolled(tokens, edit=lambda layer, t, h: h)
    assert torch.equal(plain, same)

    def zero_first_layer_at_2(layer, t, h):
        return torch.zeros_like(h) if (layer, t) == (0, 2) else h

    edited_logits, edited, _ = model.unrolled(tokens, edit=zero_first_layer_at_2)
    assert torch.equal(edited[:, :, :2], hidden[:, :, :2])  # the past is untouched
    assert torch.all(edited[0, :, 2] == 0)
    assert not torch.allclose(edited[1, :, 2], hidden[1, :, 2])  # layer 2 sees the edit
    assert not torch.allclose(edited_logits[:, 3], plain[:, 3])  # and so does step 3


def test_training_learns_and_checkpoints():
    vocab = Vocabulary.build(SENTENCES)
    pairs = language_model_pairs(SENTENCES, vocab)
    torch.manual_seed(0)
    model = LSTMNetwork(len(vocab), len(vocab), embedding_dim=16, hidden_dim=16)
    record = train_sequence_model(
        model, pairs, epochs=15, batch_size=16, lr=1e-2, checkpoints=[0, 5], progress=False
    )
    assert record.losses[-1] < 0.6 * record.losses[0]
    assert set(record.checkpoints) == {0, 5}
    assert not torch.equal(record.checkpoints[0]["decoder.weight"], model.decoder.weight)
    with pytest.raises(ValueError, match="optimizer"):
        train_sequence_model(model, pairs, optimizer="lbfgs")


def test_annealing_divides_the_learning_rate_when_validation_stalls():
    vocab = Vocabulary.build(SENTENCES)
    pairs = language_model_pairs(SENTENCES, vocab)
    torch.manual_seed(0)
    model = LSTMNetwork(len(vocab), len(vocab), embedding_dim=8, hidden_dim=8)
    # lr 0: the validation loss never improves, so every epoch after the first anneals
    record = train_sequence_model(
        model, pairs, epochs=3, batch_size=16, lr=0.0, optimizer="sgd",
        validation=pairs[:4], anneal=4.0, progress=False,
    )  # fmt: skip
    steps = -(-len(pairs) // 16)
    assert record.lr_changes == [2 * steps, 3 * steps]
    assert len(set(record.validation_losses)) == 1
    inputs, targets = pad_batch(pairs[:4])
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(
            model(inputs).reshape(-1, len(vocab)), targets.reshape(-1)
        )
    assert record.validation_losses[0] == pytest.approx(expected.item(), rel=1e-5)
    learning = train_sequence_model(
        model, pairs, epochs=3, batch_size=16, lr=1e-2, validation=pairs[:4], anneal=4.0,
        progress=False,
    )  # fmt: skip
    assert learning.validation_losses[-1] < learning.validation_losses[0]
    with pytest.raises(ValueError, match="anneal needs validation"):
        train_sequence_model(model, pairs, anneal=4.0)


def test_cached_model_is_reused(tmp_path):
    vocab = Vocabulary.build(SENTENCES)
    pairs = language_model_pairs(SENTENCES, vocab)
    config = {
        "vocab_size": len(vocab),
        "n_outputs": len(vocab),
        "embedding_dim": 8,
        "hidden_dim": 8,
        "n_layers": 1,
    }
    training = {"epochs": 1, "batch_size": 16, "checkpoints": [1]}
    first, rec1 = cached_sequence_model(pairs, config, training, seed=3, progress=False)
    second, rec2 = cached_sequence_model(pairs, config, training, seed=3, progress=False)
    assert len(list((tmp_path / "cache" / "lstm").glob("*.pt"))) == 1
    torch.testing.assert_close(first.state_dict(), second.state_dict())
    assert rec1.losses == rec2.losses and set(rec2.checkpoints) == {1}
    cached_sequence_model(pairs, config, training, seed=4, progress=False)
    assert len(list((tmp_path / "cache" / "lstm").glob("*.pt"))) == 2
