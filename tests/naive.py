"""Naive reference implementations the batched kernels are tested and benchmarked against."""

from __future__ import annotations

import torch


@torch.inference_mode()
def word_activations_one_by_one(model, tokenizer, sentences, aggregation="mean") -> torch.Tensor:
    """One sentence per forward pass, one word at a time: ``(n_words, n_layers, hidden)``."""
    device = next(model.parameters()).device
    rows = []
    for words in sentences:
        enc = tokenizer(list(words), is_split_into_words=True, return_tensors="pt")
        out = model(**{k: v.to(device) for k, v in enc.items()}, output_hidden_states=True)
        hidden = torch.stack(out.hidden_states, dim=2)[0].float().cpu()  # (T, L+1, H)
        word_ids = enc.word_ids(0)
        for w in range(len(words)):
            positions = [t for t, wid in enumerate(word_ids) if wid == w]
            pick = {"first": positions[:1], "last": positions[-1:], "mean": positions}[aggregation]
            rows.append(hidden[pick].mean(0))
    return torch.stack(rows)


def train_probe_alone(x, y, n_classes, l1, l2, epochs, batch_size, lr, seed):
    """One elastic-net probe with torch.nn.Linear, the textbook loop (same init and shuffles)."""
    gen = torch.Generator().manual_seed(seed)
    bound = 1.0 / x.shape[1] ** 0.5
    w0 = (torch.rand(x.shape[1], n_classes, generator=gen) * 2 - 1) * bound
    b0 = (torch.rand(n_classes, generator=gen) * 2 - 1) * bound
    linear = torch.nn.Linear(x.shape[1], n_classes)
    with torch.no_grad():
        linear.weight.copy_(w0.T)
        linear.bias.copy_(b0)
    optimizer = torch.optim.Adam(linear.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss = torch.nn.functional.cross_entropy(linear(x[idx]), y[idx])
            loss = loss + l1 * linear.weight.abs().sum() + l2 * linear.weight.pow(2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return linear.weight.detach().T, linear.bias.detach()


@torch.inference_mode()
def predicted_ids_with_hook(model, decoder, batch, layer, edit) -> torch.Tensor:
    """The whole model run once per edit, the edit applied by a forward hook on block ``layer``
    (the embeddings for 0): ``(B, T)`` predicted sub-token ids."""
    module = model.embeddings if layer == 0 else model.encoder.layer[layer - 1]

    def hook(_module, _inputs, output):
        if isinstance(output, tuple):
            return (edit(output[0]), *output[1:])
        return edit(output)

    handle = module.register_forward_hook(hook)
    try:
        hidden = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)[0]
    finally:
        handle.remove()
    return decoder.predict_ids(hidden)


def words_from_ids(tokenizer, batch, ids) -> list[list[str]]:
    """Predicted ids ``(B, T)`` joined into the words of ``batch``, one sub-token at a time."""
    out = []
    for row, index, sentence in zip(ids, batch.word_index.tolist(), batch.sentences):
        pieces = tokenizer.convert_ids_to_tokens(row.tolist())
        out.append(
            [
                "".join(p.removeprefix("##") for p, w in zip(pieces, index) if w == i)
                for i in range(len(sentence))
            ]
        )
    return out
