"""Chapter 2's heavy kernels: the greedy Gaussian search, the rankings, a translation sweep
through the split model, and the word decoder over its vocabulary.

Each kernel scales one more size with the neurons where the chapter does (the k grid of a sweep,
the vocabulary, the steps of the weight-mass search), so that a tensor holding a product of
three data dimensions would grow as s**3.
"""

from __future__ import annotations

import torch

N_CLASSES = 5
WIDTH = 32  # sub-tokens per sentence in the edit sweep


def _gaussian_inputs(n_tokens: int, n_neurons: int, device: str):
    from utils.gaussian_probe import fit_gaussian_probe

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2 * n_tokens, n_neurons, generator=gen).to(device)
    y = torch.randint(0, N_CLASSES, (2 * n_tokens,), generator=gen).to(device)
    x[:, 0] += y.float()
    probe = fit_gaussian_probe(x[:n_tokens], y[:n_tokens], n_classes=N_CLASSES)
    return probe, x[n_tokens:], y[n_tokens:]


def _greedy(inputs) -> None:
    from utils.gaussian_probe import greedy_ranking

    probe, x, y = inputs
    ranking = greedy_ranking(probe, x, y, n_neurons=8, progress=False)
    probe.prefix_accuracy(x, y, ranking)


def _greedy_recomputed(inputs) -> None:
    # the path of a large run: no (C, N, d) residuals, chunks of 2**20 elements
    from utils.gaussian_probe import greedy_ranking

    probe, x, y = inputs
    ranking = greedy_ranking(probe, x, y, n_neurons=8, progress=False, max_elements=2**20,
                             max_state=0)  # fmt: skip
    probe.prefix_accuracy(x, y, ranking, max_elements=2**20)


def _ranking_inputs(n_tokens: int, n_neurons: int, device: str):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_tokens, n_neurons, generator=gen).to(device)
    y = torch.randint(0, N_CLASSES, (n_tokens,), generator=gen).to(device)
    weight = torch.randn(n_neurons, n_neurons // 8, generator=gen)  # tags grow with neurons
    return x, y, weight, n_tokens // 50  # weight-mass steps grow with tokens


def _rankings(inputs) -> None:
    from utils.rankings import neuron_ordering, probeless_ranking

    x, y, weight, steps = inputs
    probeless_ranking(x, y, N_CLASSES)
    neuron_ordering(weight, steps=steps)


def _sweep_inputs(n_tokens: int, n_neurons: int, device: str):
    from transformers import BertConfig, BertModel

    from utils.models import load_encoder
    from utils.neuron_edits import SplitModel, TokenBatch, WordDecoder

    tokenizer = load_encoder("minilm")[1]
    config = BertConfig(vocab_size=1000, hidden_size=n_neurons, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=2 * n_neurons,
                        max_position_embeddings=WIDTH)  # fmt: skip
    torch.manual_seed(0)
    model = BertModel(config).eval().to(device)
    n_sentences = max(1, n_tokens // WIDTH)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, (n_sentences, WIDTH), generator=gen)
    word_index = torch.arange(WIDTH).expand(n_sentences, -1).clone()
    batch = TokenBatch(ids.to(device), torch.ones_like(ids).to(device), word_index,
                       [["w"] * WIDTH for _ in range(n_sentences)])  # fmt: skip
    labels = torch.randint(-1, 2, (n_sentences, WIDTH), generator=gen).to(device)
    decoder = WordDecoder(model.get_input_embeddings().weight, torch.arange(1000)).to(device)
    split = SplitModel(model, decoder, tokenizer, batch, 1)
    means = torch.randn(2, n_neurons, generator=gen)
    return split, labels, means, n_neurons


def _sweep(inputs) -> None:
    from utils.neuron_edits import translation, translation_coefficients

    split, labels, means, d = inputs
    ranking = torch.randperm(d, generator=torch.Generator().manual_seed(1))
    alpha = translation_coefficients(ranking, d, beta=4.0)
    ks = range(0, d + 1, 4)  # the k grid grows with the neurons, as the chapter's does
    split.predict([None if k == 0 else translation(labels, ranking[:k], alpha, means) for k in ks])


def _decoder_inputs(n_tokens: int, n_neurons: int, device: str):
    from utils.neuron_edits import WordDecoder

    gen = torch.Generator().manual_seed(0)
    vocabulary = 200 * n_neurons  # the vocabulary grows with the model
    embeddings = torch.randn(vocabulary, n_neurons, generator=gen)
    decoder = WordDecoder(embeddings, torch.arange(vocabulary)).to(device).eval()
    return decoder, torch.randn(n_tokens, n_neurons, generator=gen).to(device)


def _decode(inputs) -> None:
    decoder, hidden = inputs
    with torch.inference_mode():
        decoder.predict_ids(hidden)


KERNELS = {
    "greedy_gaussian": (
        _gaussian_inputs,
        _greedy,
        (8000, 160),
    ),  # (C, N, d) over 32 MB: mmapped, measured
    "greedy_gaussian_recomputed": (_gaussian_inputs, _greedy_recomputed, (8000, 160)),
    "rankings": (_ranking_inputs, _rankings, (20_000, 256)),
    "translation_sweep": (_sweep_inputs, _sweep, (1024, 32)),
    "word_decoder": (_decoder_inputs, _decode, (4000, 64)),
}
