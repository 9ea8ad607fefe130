"""LSTM sequence models (language models and taggers) that can be opened up step by step.

:class:`LSTMNetwork` is an embedding, a stack of LSTM layers and a linear decoder. It trains
with PyTorch's fused ``nn.LSTM``; :meth:`LSTMNetwork.unrolled` runs the *same weights* one
time step and one layer at a time, with the gates written out,

    i, f, g, o = sigma(W_i x + V_i h + b_i), sigma(...), tanh(...), sigma(...)
    c_t = f * c_{t-1} + i * g,        h_t = o * tanh(c_t),

so that a chapter can edit a layer's hidden state inside the step (the next layer and the
next step see the edit: the interventions of DiffMask, Eq. 1) or read every gate (the
contextual decomposition of the training-dynamics thesis). With no edit, the unrolled pass
equals the fused one (tested to 1e-5).

A language model predicts token ``t + 1`` from tokens ``<= t``; a tagger predicts a label per
position. Both are an :class:`LSTMNetwork` trained by :func:`train_sequence_model` on
(input ids, target ids) pairs; :func:`language_model_pairs` builds the pairs for an LM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from utils.cache import cached

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
IGNORE = -100  # target id that the loss skips (padding)

#: ``(h, c)`` of an LSTM stack, each ``(n_layers, B, H)``
State = tuple[torch.Tensor, torch.Tensor]
#: ``edit(layer, t, h) -> h``: called on each layer's hidden state ``(B, H)`` at each step
Edit = Callable[[int, int, torch.Tensor], torch.Tensor]


@dataclass
class Vocabulary:
    """Token <-> id. Ids 0-3 are ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``."""

    tokens: list[str]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokens[:4] != [PAD, UNK, BOS, EOS]:
            raise ValueError(f"a vocabulary starts with {[PAD, UNK, BOS, EOS]}")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("a vocabulary lists every token once")
        self.index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1) -> Vocabulary:
        """All tokens seen at least ``min_count`` times, most frequent first."""
        counts = Counter(token for sentence in sentences for token in sentence)
        kept = [t for t, n in counts.most_common() if n >= min_count]
        return cls([PAD, UNK, BOS, EOS] + [t for t in kept if t not in (PAD, UNK, BOS, EOS)])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, words: Sequence[str]) -> list[int]:
        """Ids of ``words``; unknown words map to ``<unk>``."""
        unk = self.index[UNK]
        return [self.index.get(w, unk) for w in words]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]


class LSTMNetwork(nn.Module):
    """Embedding -> ``n_layers`` LSTM layers -> linear decoder over ``n_outputs``.

    Parameters
    ----------
    vocab_size
        Number of input tokens.
    n_outputs
        Size of the output softmax: ``vocab_size`` for a language model, the number of tags
        for a tagger.
    embedding_dim, hidden_dim, n_layers, dropout
        As in PyTorch's ``word_language_model`` (dropout on the embeddings and on the LSTM
        outputs, training only).
    init
        ``"torch"`` (PyTorch's defaults: embeddings N(0, 1)), or ``"uniform"``:
        ``word_language_model``'s (and the training-dynamics thesis's) initialisation,
        embedding and decoder weights U(-0.1, 0.1) and a zero decoder bias.
    """

    def __init__(
        self,
        vocab_size: int,
        n_outputs: int,
        embedding_dim: int = 64,
        hidden_dim: int = 64,
        n_layers: int = 2,
        dropout: float = 0.0,
        init: str = "torch",
    ) -> None:
        super().__init__()
        if min(vocab_size, n_outputs, embedding_dim, hidden_dim, n_layers) < 1:
            raise ValueError("sizes of an LSTMNetwork must be positive")
        if init not in ("torch", "uniform"):
            raise ValueError(f"unknown init {init!r}: choose 'torch' or 'uniform'")
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, n_layers, batch_first=True)
        self.decoder = nn.Linear(hidden_dim, n_outputs)
        self.drop = nn.Dropout(dropout)
        self.hidden_dim, self.n_layers, self.init = hidden_dim, n_layers, init
        if init == "uniform":
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

    def config(self) -> dict[str, int | float]:
        """The constructor arguments, to rebuild the network from a state dict (``init``
        only when it is not the default)."""
        config = {
            "vocab_size": self.embedding.num_embeddings,
            "n_outputs": self.decoder.out_features,
            "embedding_dim": self.embedding.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "n_layers": self.n_layers,
            "dropout": self.drop.p,
        }
        if self.init != "torch":
            config["init"] = self.init
        return config

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` ids -> ``(B, T, n_outputs)`` logits (fused LSTM, from a zero state)."""
        hidden, _ = self.lstm(self.drop(self.embedding(tokens)))
        return self.decoder(self.drop(hidden))

    def forward_state(
        self, tokens: torch.Tensor, state: State | None = None
    ) -> tuple[torch.Tensor, State]:
        """Like :meth:`forward`, from a given ``(h, c)`` state (each ``(n_layers, B, H)``; None:
        zeros), also returning the state after the last step, to carry it to the next chunk of
        the same stream (as ``word_language_model`` does)."""
        hidden, state = self.lstm(self.drop(self.embedding(tokens)), state)
        return self.decoder(self.drop(hidden)), state

    def gates(self, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(W, V, b)`` of a layer: input weights ``(4H, in)``, recurrent weights ``(4H, H)``
        and summed bias ``(4H,)``, gates stacked in PyTorch's order i, f, g, o."""
        w = getattr(self.lstm, f"weight_ih_l{layer}")
        v = getattr(self.lstm, f"weight_hh_l{layer}")
        b = getattr(self.lstm, f"bias_ih_l{layer}") + getattr(self.lstm, f"bias_hh_l{layer}")
        return w, v, b

    def unrolled(
        self, tokens: torch.Tensor, edit: Edit | None = None, state: State | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run step by step, layer by layer, optionally editing hidden states in place.

        Parameters
        ----------
        tokens
            ``(B, T)`` input ids.
        edit
            ``edit(layer, t, h) -> h`` replaces layer ``layer``'s hidden state at step ``t``
            before it reaches layer ``layer + 1`` and step ``t + 1`` (cell states untouched).
        state
            ``(h, c)`` before the first step, each ``(n_layers, B, H)`` (None: zeros); the
            state after the last step is ``hidden[:, :, -1], cells[:, :, -1]``.

        Returns
        -------
        logits, hidden, cells
            ``(B, T, n_outputs)``, and ``(n_layers, B, T, H)`` hidden and cell states (the
            hidden states after any edit).
        """
        batch, steps = tokens.shape
        x_all = self.drop(self.embedding(tokens))
        weights = [self.gates(layer) for layer in range(self.n_layers)]
        if state is None:
            h = [x_all.new_zeros(batch, self.hidden_dim) for _ in range(self.n_layers)]
            c = [x_all.new_zeros(batch, self.hidden_dim) for _ in range(self.n_layers)]
        else:
            h, c = list(state[0].unbind(0)), list(state[1].unbind(0))
        # input projections of the first layer for all steps at once
        w0, _, b0 = weights[0]
        projected = x_all @ w0.T + b0
        hidden, cells = [], []
        for t in range(steps):
            step_h, step_c = [], []
            for layer, (w, v, b) in enumerate(weights):
                pre = projected[:, t] if layer == 0 else h[layer - 1] @ w.T + b
                i, f, g, o = (pre + h[layer] @ v.T).chunk(4, dim=-1)
                c[layer] = torch.sigmoid(f) * c[layer] + torch.sigmoid(i) * torch.tanh(g)
                h[layer] = torch.sigmoid(o) * torch.tanh(c[layer])
                if edit is not None:
                    h[layer] = edit(layer, t, h[layer])
                step_h.append(h[layer])
                step_c.append(c[layer])
            hidden.append(torch.stack(step_h))
            cells.append(torch.stack(step_c))
        hidden_t = torch.stack(hidden, dim=2)  # (L, B, T, H)
        logits = self.decoder(self.drop(hidden_t[-1]))
        return logits, hidden_t, torch.stack(cells, dim=2)


def language_model_pairs(
    sentences: Iterable[Sequence[str]], vocab: Vocabulary
) -> list[tuple[list[int], list[int]]]:
    """(input, target) id lists: ``<bos> w1 .. wn`` predicts ``w1 .. wn <eos>``."""
    pairs = []
    for words in sentences:
        ids = vocab.encode(words)
        pairs.append(([vocab.index[BOS]] + ids, ids + [vocab.index[EOS]]))
    return pairs


def pad_batch(
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad (input, target) pairs: inputs with ``pad_id``, targets with ``IGNORE``."""
    width = max(len(inp) for inp, _ in pairs)
    inputs = torch.full((len(pairs), width), pad_id, dtype=torch.long)
    targets = torch.full((len(pairs), width), IGNORE, dtype=torch.long)
    for row, (inp, tgt) in enumerate(pairs):
        if len(inp) != len(tgt):
            raise ValueError(f"pair {row}: {len(inp)} inputs but {len(tgt)} targets")
        inputs[row, : len(inp)] = torch.as_tensor(inp)
        targets[row, : len(tgt)] = torch.as_tensor(tgt)
    return inputs, targets


@dataclass
class TrainingRecord:
    """Loss per step, the state dicts saved at the requested steps (step -> state), and, with
    validation pairs, the validation loss after each epoch and the steps after which the
    learning rate was divided."""

    losses: list[float]
    checkpoints: dict[int, dict[str, torch.Tensor]]
    validation_losses: list[float] = field(default_factory=list)
    lr_changes: list[int] = field(default_factory=list)


def stream_batches(
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]], batch_size: int, bptt: int
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``word_language_model``'s batching: the pairs, in order, are consecutive chunks of one
    token stream; concatenate them, cut the stream into ``batch_size`` columns of equal length
    (dropping the remainder; fewer columns if the stream is short) and return the successive
    ``(B, <= bptt)`` windows of (inputs, targets). Column ``j`` of window ``n + 1`` continues
    column ``j`` of window ``n``, so a hidden state can be carried from one to the next."""
    flat_in = torch.tensor([i for inp, _ in pairs for i in inp], dtype=torch.long)
    flat_out = torch.tensor([t for _, tgt in pairs for t in tgt], dtype=torch.long)
    if len(flat_in) != len(flat_out):
        raise ValueError("every pair needs as many targets as inputs")
    columns = max(1, min(batch_size, len(flat_in) // max(bptt, 1)))
    length = len(flat_in) // columns
    if length == 0:
        raise ValueError("no tokens to batch")
    inputs = flat_in[: columns * length].reshape(columns, length)
    targets = flat_out[: columns * length].reshape(columns, length)
    return [(inputs[:, t : t + bptt], targets[:, t : t + bptt]) for t in range(0, length, bptt)]


def _detach(state: State | None) -> State | None:
    return None if state is None else (state[0].detach(), state[1].detach())


def train_sequence_model(
    model: LSTMNetwork,
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    epochs: int = 3,
    batch_size: int = 64,
    lr: float = 3e-3,
    optimizer: str = "adam",
    clip: float | None = 0.25,
    seed: int = 0,
    checkpoints: Iterable[int] = (),
    validation: Sequence[tuple[Sequence[int], Sequence[int]]] | None = None,
    anneal: float | None = None,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    carry_state: bool = False,
    progress: bool = True,
) -> TrainingRecord:
    """Train on (input ids, target ids) pairs with cross-entropy over every target position.

    Parameters
    ----------
    optimizer
        ``"adam"``, or ``"sgd"`` (plain SGD, as in ``word_language_model``).
    clip
        Gradient-norm clipping (None: none).
    checkpoints
        Steps (0 = before training, ``n`` = after ``n`` updates) at which to keep a copy of
        the weights (on the CPU), e.g. for analyses over training.
    validation
        Pairs whose mean loss is measured after every epoch.
    anneal
        Divide the learning rate by this factor after an epoch whose validation loss is no
        better than the best so far (``word_language_model`` divides by 4); needs
        ``validation``.
    momentum, weight_decay
        Of the SGD optimiser (0: plain SGD); ``weight_decay`` also applies to Adam.
    carry_state
        False: each pair is a sequence of its own, from a zero state, and the pairs are
        shuffled every epoch. True: the pairs, in order, are consecutive chunks of one token
        stream, batched as ``word_language_model`` does (:func:`stream_batches`, windows as
        long as the longest pair) and the hidden state is carried (detached) from each window
        to the next, across the whole stream; validation loss likewise.
    """
    if not pairs:
        raise ValueError("no training pairs")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"unknown optimizer {optimizer!r}: choose 'adam' or 'sgd'")
    if anneal is not None and (not validation or anneal <= 1):
        raise ValueError("anneal needs validation pairs and a factor above 1")
    if momentum and optimizer != "sgd":
        raise ValueError("momentum is an option of the 'sgd' optimizer")
    if momentum < 0 or weight_decay < 0:
        raise ValueError("momentum and weight_decay must be non-negative")
    device = next(model.parameters()).device
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
        )
    wanted = set(checkpoints)
    record = TrainingRecord(losses=[], checkpoints={})

    def snapshot(step: int) -> None:
        # kept on the CPU: dozens of checkpoints would otherwise fill the device
        if step in wanted:
            record.checkpoints[step] = {
                k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
            }

    gen = torch.Generator().manual_seed(seed)
    bptt = max(len(inp) for inp, _ in pairs)
    stream = stream_batches(pairs, batch_size, bptt) if carry_state else None
    n_batches = len(stream) if carry_state else (len(pairs) + batch_size - 1) // batch_size

    def epoch_batches():
        if carry_state:
            yield from stream
            return
        order = torch.randperm(len(pairs), generator=gen).tolist()
        for start in range(0, len(pairs), batch_size):
            yield pad_batch([pairs[i] for i in order[start : start + batch_size]])

    model.train()
    snapshot(0)
    with tqdm(total=epochs * n_batches, desc="training", disable=not progress, leave=False) as bar:
        for _ in range(epochs):
            state = None
            for inputs, targets in epoch_batches():
                logits, state = model.forward_state(inputs.to(device), _detach(state))
                if not carry_state:
                    state = None
                loss = nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), targets.to(device).reshape(-1)
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                record.losses.append(loss.item())
                snapshot(len(record.losses))
                bar.update()
            if validation:
                record.validation_losses.append(
                    sequence_loss(model, validation, batch_size, carry_state=carry_state)
                )
                if anneal and record.validation_losses[-1] >= min(
                    record.validation_losses[:-1], default=float("inf")
                ):
                    for group in opt.param_groups:
                        group["lr"] /= anneal
                    record.lr_changes.append(len(record.losses))
    model.eval()
    return record


@torch.no_grad()
def sequence_loss(
    model: LSTMNetwork,
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
    batch_size: int = 64,
    carry_state: bool = False,
) -> float:
    """Mean cross-entropy per target token of ``model`` (in eval mode) on ``pairs``; the model
    is left in the mode it was in. ``carry_state``: the pairs are one stream, batched and
    carried as in :func:`train_sequence_model`."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    if carry_state:
        bptt = max(len(inp) for inp, _ in pairs)
        batches = stream_batches(pairs, batch_size, bptt)
    else:
        batches = (
            pad_batch(list(pairs[start : start + batch_size]))
            for start in range(0, len(pairs), batch_size)
        )
    state = None
    for inputs, targets in batches:
        logits, state = model.forward_state(inputs.to(device), state)
        if not carry_state:
            state = None
        targets = targets.to(device)
        total += nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"
        ).item()
        count += int((targets != IGNORE).sum())
    model.train(was_training)
    return total / count


def _row_chunks(lengths: Sequence[int], max_tokens: int) -> list[tuple[int, int]]:
    """Consecutive ``[start, stop)`` ranges of rows whose padded size (rows x longest row)
    stays within ``max_tokens`` (a longer row is a chunk of its own)."""
    chunks, start, longest = [], 0, 0
    for row, length in enumerate(lengths):
        if row > start and max(longest, length) * (row - start + 1) > max_tokens:
            chunks.append((start, row))
            start, longest = row, 0
        longest = max(longest, length)
    if start < len(lengths):
        chunks.append((start, len(lengths)))
    return chunks


@torch.no_grad()
def layer_states(
    model: LSTMNetwork, rows: Sequence[Sequence[int]], *, max_tokens: int = 2**16
) -> torch.Tensor:
    """``(n_layers + 1, N, H)`` embedding and LSTM hidden states at the ``N`` tokens of
    ``rows`` (input id lists, each from a zero state), on the CPU, in row-major order.

    The rows are run a few at a time (consecutive rows, right-padded to the longest of them,
    at most ``max_tokens`` padded tokens, and their logits never kept), so memory grows with
    the chunk rather than with every row padded to the longest one. Needs
    ``embedding_dim == hidden_dim`` (so the layers stack).
    """
    if model.embedding.embedding_dim != model.hidden_dim:
        raise ValueError("layer_states stacks the embedding with the LSTM layers: equal sizes")
    device = next(model.parameters()).device
    lengths = [len(r) for r in rows]
    out = torch.empty(model.n_layers + 1, sum(lengths), model.hidden_dim)
    offset = 0
    for start, stop in _row_chunks(lengths, max_tokens):
        inputs, _ = pad_batch([(r, r) for r in rows[start:stop]])
        real = inputs.new_zeros(inputs.shape, dtype=torch.bool)
        for i, length in enumerate(lengths[start:stop]):
            real[i, :length] = True
        inputs = inputs.to(device)
        embedded = model.embedding(inputs)
        _, hidden, _ = model.unrolled(inputs)
        chunk = torch.cat([embedded[None], hidden])[:, real.to(device)].cpu()
        out[:, offset : offset + chunk.shape[1]] = chunk
        offset += chunk.shape[1]
    return out


@torch.no_grad()
def evaluate_rows(
    model: LSTMNetwork,
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    max_tokens: int = 2**16,
) -> tuple[float, float]:
    """Accuracy and perplexity of ``model`` (fused forward, each pair from a zero state) over
    every target of ``pairs``, a chunk of pairs at a time as in :func:`layer_states` (the
    ``(tokens, n_outputs)`` logits of one chunk at most)."""
    device = next(model.parameters()).device
    correct, nll, count = 0, 0.0, 0
    for start, stop in _row_chunks([len(inp) for inp, _ in pairs], max_tokens):
        inputs, targets = pad_batch(pairs[start:stop])
        logits = model(inputs.to(device))
        targets = targets.to(device)
        keep = targets != IGNORE
        nll += nn.functional.cross_entropy(logits[keep], targets[keep], reduction="sum").item()
        correct += int((logits[keep].argmax(-1) == targets[keep]).sum())
        count += int(keep.sum())
    if not count:
        raise ValueError("no targets to evaluate")
    return correct / count, float(torch.tensor(nll / count).exp())


def _pairs_fingerprint(pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[torch.Tensor]:
    """The training pairs as three flat tensors (fast to hash)."""
    flat_in = [i for inp, _ in pairs for i in inp]
    flat_out = [i for _, tgt in pairs for i in tgt]
    lengths = [len(inp) for inp, _ in pairs]
    return [torch.tensor(flat_in), torch.tensor(flat_out), torch.tensor(lengths)]


def cached_sequence_model(
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
    model_config: dict,
    training: dict,
    *,
    seed: int = 0,
    validation: Sequence[tuple[Sequence[int], Sequence[int]]] | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> tuple[LSTMNetwork, TrainingRecord]:
    """Build an :class:`LSTMNetwork` from ``model_config`` (seeded), train it on ``pairs``
    with ``train_sequence_model(validation=validation, **training)``, and cache the result.

    The cache key covers the pairs, the validation pairs, both configurations and the seed, so
    a rerun of a chapter loads the trained weights (and checkpoints) instead of training again.
    """
    key = {"pairs": _pairs_fingerprint(pairs), "model": model_config, "training": training}
    if validation:
        key["validation"] = _pairs_fingerprint(validation)

    def build() -> dict:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = LSTMNetwork(**model_config).to(device)
        record = train_sequence_model(
            model, pairs, seed=seed, validation=validation, progress=progress, **training
        )
        cpu = {k: v.cpu() for k, v in model.state_dict().items()}
        steps = {s: {k: v.cpu() for k, v in st.items()} for s, st in record.checkpoints.items()}
        return {
            "state": cpu,
            "losses": torch.tensor(record.losses),
            "checkpoints": steps,
            "validation_losses": torch.tensor(record.validation_losses),
            "lr_changes": torch.tensor(record.lr_changes, dtype=torch.long),
        }

    stored = cached("lstm", {**key, "seed": seed}, build, description=str(model_config))
    model = LSTMNetwork(**model_config)
    model.load_state_dict(stored["state"])
    record = TrainingRecord(
        stored["losses"].tolist(),
        stored["checkpoints"],
        stored.get("validation_losses", torch.zeros(0)).tolist(),
        stored.get("lr_changes", torch.zeros(0, dtype=torch.long)).tolist(),
    )
    return model.to(device).eval(), record
