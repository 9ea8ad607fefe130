import pytest
import torch

from tests.naive import word_activations_one_by_one
from utils.activations import WordActivations, _batches, cached_activations, extract_activations

SENTENCES = [
    ["The", "unbelievably", "tall", "giraffes", "were", "photographed", "."],
    ["Colourless", "green", "ideas", "sleep", "furiously"],
    ["A"],
    ["Antidisestablishmentarianism", "is", "a", "long", "word", ",", "isn't", "it", "?"],
    ["Tokenization", "splits", "rare", "words", "like", "xylophonists", "into", "pieces", "."],
]


@pytest.mark.parametrize("aggregation", ["first", "last", "mean"])
def test_batched_matches_one_sentence_at_a_time(minilm, aggregation):
    model, tokenizer = minilm
    got = extract_activations(
        model, tokenizer, SENTENCES, aggregation=aggregation, batch_size=2, progress=False
    )
    want = word_activations_one_by_one(model, tokenizer, SENTENCES, aggregation)
    assert got.values.shape == (sum(map(len, SENTENCES)), 7, 384)
    torch.testing.assert_close(got.values, want, atol=1e-5, rtol=1e-5)


def test_layout_and_accessors(minilm):
    model, tokenizer = minilm
    acts = extract_activations(model, tokenizer, SENTENCES, progress=False)
    assert isinstance(acts, WordActivations)
    assert acts.offsets.tolist() == [0, 7, 12, 13, 22, 31]
    assert acts.sentence(2).shape == (1, 7, 384)
    assert torch.equal(acts.concat([0, 6])[:, 384:], acts.layer(6))
    assert acts.concat().shape == (31, 7 * 384)


def test_aggregations_differ_only_on_split_words(minilm):
    model, tokenizer = minilm
    first = extract_activations(
        model, tokenizer, SENTENCES[:1], aggregation="first", progress=False
    )
    last = extract_activations(model, tokenizer, SENTENCES[:1], aggregation="last", progress=False)
    # "The" is one sub-token, "unbelievably" several
    assert torch.equal(first.values[0], last.values[0])
    assert not torch.allclose(first.values[1], last.values[1])


def test_bucketing_respects_budget():
    lengths = [5, 30, 7, 30, 2, 12]
    batches = _batches(lengths, batch_size=3, max_tokens=60)
    assert sorted(i for b in batches for i in b) == list(range(6))
    for batch in batches:
        assert len(batch) <= 3
        assert max(lengths[i] for i in batch) * len(batch) <= 60 or len(batch) == 1


def test_bad_input_is_named(minilm):
    model, tokenizer = minilm
    with pytest.raises(ValueError, match="sentence 1 is empty"):
        extract_activations(model, tokenizer, [["a"], []], progress=False)
    with pytest.raises(ValueError, match="aggregation"):
        extract_activations(model, tokenizer, [["a"]], aggregation="max", progress=False)
    with pytest.raises(ValueError, match="list of non-empty word strings"):
        extract_activations(model, tokenizer, ["not a list of words"], progress=False)
    with pytest.raises(ValueError, match="no sentences"):
        extract_activations(model, tokenizer, [], progress=False)
    # a sentence over the model's 512 sub-tokens is read in windows: every word keeps its row
    long = extract_activations(model, tokenizer, [["word"] * 600], layers=[1], progress=False)
    assert long.values.shape == (600, 1, 384) and torch.isfinite(long.values).all()


def test_cached_activations_reuse_and_key(minilm, tmp_path):
    model, tokenizer = minilm
    first = cached_activations(model, tokenizer, SENTENCES[:2], progress=False)
    files = sorted((tmp_path / "cache" / "activations").glob("*.pt"))
    assert len(files) == 1
    again = cached_activations(model, tokenizer, SENTENCES[:2], progress=False)
    torch.testing.assert_close(first.values, again.values)
    cached_activations(model, tokenizer, SENTENCES[:2], aggregation="first", progress=False)
    assert len(list((tmp_path / "cache" / "activations").glob("*.pt"))) == 2


def test_a_subset_of_layers(minilm):
    model, tokenizer = minilm
    full = extract_activations(model, tokenizer, SENTENCES[:2], progress=False)
    some = extract_activations(model, tokenizer, SENTENCES[:2], layers=[6, 2], progress=False)
    assert some.values.shape[1] == 2 and some.layers == (6, 2)
    assert torch.equal(some.layer(2), full.layer(2))
    assert torch.equal(some.concat([2, 6]), full.concat([2, 6]))
    with pytest.raises(ValueError, match="not extracted"):
        some.layer(3)
    with pytest.raises(ValueError, match="layers must lie"):
        extract_activations(model, tokenizer, SENTENCES[:1], layers=[7], progress=False)
