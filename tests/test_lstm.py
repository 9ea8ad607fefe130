import pytest
import torch

from utils.lstm import (
    BOS,
    EOS,
    IGNORE,
    LSTMNetwork,
    Vocabulary,
    cached_sequence_model,
    evaluate_rows,
    language_model_pairs,
    layer_states,
    pad_batch,
    stream_batches,
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
    assert all(v.device.type == "cpu" for v in record.checkpoints[5].values())
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


def test_uniform_init_as_word_language_model():
    torch.manual_seed(0)
    model = LSTMNetwork(50, 40, embedding_dim=8, hidden_dim=12, init="uniform")
    assert model.embedding.weight.abs().max() <= 0.1
    assert model.decoder.weight.abs().max() <= 0.1 and not model.decoder.bias.any()
    assert model.config()["init"] == "uniform"
    assert "init" not in LSTMNetwork(50, 40).config()  # the default keeps the old config
    with pytest.raises(ValueError, match="init"):
        LSTMNetwork(50, 40, init="xavier")


def test_carried_state_equals_one_long_pass():
    torch.manual_seed(0)
    model = LSTMNetwork(30, 30, embedding_dim=8, hidden_dim=12, n_layers=2).eval()
    tokens = torch.randint(0, 30, (3, 10))
    whole = model(tokens)
    first, state = model.forward_state(tokens[:, :4])
    second, _ = model.forward_state(tokens[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-5)
    _, hidden, cells = model.unrolled(tokens[:, :4])
    unrolled, _, _ = model.unrolled(tokens[:, 4:], state=(hidden[:, :, -1], cells[:, :, -1]))
    torch.testing.assert_close(unrolled, whole[:, 4:], atol=1e-5, rtol=1e-5)


def test_stream_batches_continue_each_column():
    pairs = [(list(range(i, i + 5)), list(range(i + 1, i + 6))) for i in range(0, 40, 5)]
    windows = stream_batches(pairs, batch_size=2, bptt=5)
    assert [tuple(w[0].shape) for w in windows] == [(2, 5)] * 4
    column = torch.cat([w[0][1] for w in windows])
    assert column.tolist() == list(range(20, 40))
    assert torch.equal(windows[0][1], windows[0][0] + 1)


def test_carry_state_training_and_sgd_options():
    vocab = Vocabulary.build(SENTENCES)
    stream = vocab.encode([w for s in SENTENCES for w in s])
    pairs = [(stream[i : i + 6], stream[i + 1 : i + 7]) for i in range(0, len(stream) - 7, 6)]
    losses = {}
    for name, options in {
        "carried": {"carry_state": True},
        "momentum": {"momentum": 0.9, "weight_decay": 1e-4},
    }.items():
        torch.manual_seed(0)
        model = LSTMNetwork(len(vocab), len(vocab), 8, 16, 1, init="uniform")
        record = train_sequence_model(
            model, pairs, epochs=6, batch_size=4, lr=1.0, optimizer="sgd", progress=False,
            validation=pairs[:4], **options,
        )  # fmt: skip
        losses[name] = record
        assert record.losses[-1] < record.losses[0]
    assert len(losses["carried"].losses) == 6 * len(stream_batches(pairs, 4, 6))
    with pytest.raises(ValueError, match="momentum"):
        train_sequence_model(model, pairs, momentum=0.9, optimizer="adam")


@pytest.mark.parametrize("max_tokens", [1, 20, 2**16])
def test_layer_states_and_evaluation_in_chunks(max_tokens):
    """Chunks of rows (the memory bound) give the states and scores of one padded batch."""
    torch.manual_seed(0)
    model = LSTMNetwork(30, 30, embedding_dim=6, hidden_dim=6, n_layers=2).eval()
    rows = [torch.randint(4, 30, (n,)).tolist() for n in (5, 9, 2, 7, 1)]
    pairs = [(r[:-1] or r, r[1:] or r) for r in rows]
    inputs, targets = pad_batch([(r, r) for r in rows])
    real = targets != IGNORE
    with torch.no_grad():
        _, hidden, _ = model.unrolled(inputs)
        expected = torch.cat([model.embedding(inputs)[None], hidden])[:, real]
    torch.testing.assert_close(layer_states(model, rows, max_tokens=max_tokens), expected)
    inputs, targets = pad_batch(pairs)
    keep = targets != IGNORE
    with torch.no_grad():
        logits = model(inputs)[keep]
    accuracy, perplexity = evaluate_rows(model, pairs, max_tokens=max_tokens)
    assert accuracy == pytest.approx((logits.argmax(-1) == targets[keep]).float().mean().item())
    nll = torch.nn.functional.cross_entropy(logits, targets[keep])
    assert perplexity == pytest.approx(nll.exp().item(), rel=1e-5)
