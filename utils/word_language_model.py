"""Gulordava et al.'s LSTM language model from a PyTorch ``word_language_model`` checkpoint.

De Cao et al. (2021) study the 650-unit, 2-layer LSTM of Gulordava et al. (2018), saved by
PyTorch's ``word_language_model`` example (an ``RNNModel`` with modules ``encoder``,
``rnn`` and ``decoder``) with a vocabulary file. :func:`load_word_language_model` turns it
into a :class:`utils.lstm.LSTMNetwork` with a :class:`utils.lstm.Vocabulary`.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from utils.lstm import BOS, EOS, PAD, UNK, LSTMNetwork, Vocabulary


def load_word_language_model(
    checkpoint: str | Path, vocabulary: str | Path
) -> tuple[LSTMNetwork, Vocabulary]:
    """Load a PyTorch ``word_language_model`` LSTM (Gulordava et al.'s 650-unit model).

    The tokens are re-indexed to :class:`Vocabulary`'s convention (``<pad>``, ``<unk>``,
    ``<bos>``, ``<eos>`` first): embedding and decoder rows are permuted accordingly,
    ``<bos>`` reuses the ``<eos>`` embedding (the model reads sentences after an ``<eos>``)
    and ``<pad>``/``<bos>`` are never predicted.

    Parameters
    ----------
    checkpoint
        A ``torch.save``'d ``RNNModel`` (modules ``encoder``, ``rnn``, ``decoder``), or its
        state dict. The pickled module is read without its class being importable.
    vocabulary
        The vocabulary file, one token per line, line ``i`` being id ``i``.
    """
    words = Path(vocabulary).read_text(encoding="utf-8").split("\n")
    words = [w.strip() for w in words]
    words = words[:-1] if words and not words[-1] else words  # the final newline
    seen: dict[str, int] = {}
    for line, word in enumerate(words, 1):
        if not word:
            raise ValueError(f"{vocabulary}, line {line}: an empty token")
        if word in seen:
            raise ValueError(
                f"{vocabulary}, line {line}: {word!r} is listed twice (first on line "
                f"{seen[word]}): one token per line, each once"
            )
        seen[word] = line
    state = _word_language_model_state(checkpoint)
    n_layers = 1 + max(int(k.rsplit("_l", 1)[1]) for k in state if k.startswith("rnn.weight_ih"))
    embedding, decoder_weight = state["encoder.weight"], state["decoder.weight"]
    if not embedding.shape[0] == decoder_weight.shape[0] == len(words):
        raise ValueError(
            f"the vocabulary file {vocabulary} lists {len(words)} tokens but the checkpoint "
            f"{checkpoint} embeds {embedding.shape[0]} and predicts {decoder_weight.shape[0]}: "
            "give the vocabulary file that was saved with this checkpoint"
        )
    source = {w: i for i, w in enumerate(words)}
    if EOS not in source:
        raise ValueError(f"{vocabulary}: no {EOS} token, is it a word_language_model vocabulary?")
    vocab = Vocabulary([PAD, UNK, BOS, EOS] + [w for w in words if w not in (PAD, UNK, BOS, EOS)])
    rows = torch.tensor([source.get(w, source.get(UNK, source[EOS])) for w in vocab.tokens])
    rows[vocab.index[BOS]] = source[EOS]
    model = LSTMNetwork(
        len(vocab),
        len(vocab),
        embedding_dim=embedding.shape[1],
        hidden_dim=state["rnn.weight_hh_l0"].shape[1],
        n_layers=n_layers,
    )
    mapped = {"embedding.weight": embedding[rows], "decoder.weight": decoder_weight[rows]}
    mapped["decoder.bias"] = state["decoder.bias"][rows]
    never = torch.tensor([vocab.index[PAD], vocab.index[BOS]])
    mapped["decoder.weight"][never] = 0.0
    mapped["decoder.bias"][never] = -1e4
    if UNK not in source:
        mapped["decoder.bias"][vocab.index[UNK]] = -1e4
    for key, value in state.items():
        if key.startswith("rnn."):
            mapped["lstm." + key[4:]] = value
    model.load_state_dict(mapped)
    return model.eval(), vocab


class _AnyClassUnpickler(pickle.Unpickler):
    """Unpickles a module whose class (e.g. ``model.RNNModel``) is not importable."""

    def find_class(self, module: str, name: str):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (torch.nn.Module,), {})


class _AnyClassPickle:
    Unpickler = _AnyClassUnpickler
    load = staticmethod(pickle.load)


def _word_language_model_state(checkpoint: str | Path) -> dict[str, torch.Tensor]:
    """The float state dict of a saved ``RNNModel`` or of its state dict, on the CPU."""
    loaded = torch.load(
        checkpoint, map_location="cpu", weights_only=False, pickle_module=_AnyClassPickle
    )
    if isinstance(loaded, torch.nn.Module):
        loaded = {
            f"{name}.{key}": value
            for name in ("encoder", "rnn", "decoder")
            for key, value in loaded._modules[name]._parameters.items()
            if value is not None
        }
    missing = {"encoder.weight", "decoder.weight", "decoder.bias", "rnn.weight_hh_l0"} - set(loaded)
    if missing:
        raise ValueError(f"{checkpoint}: not a word_language_model checkpoint, lacks {missing}")
    return {k: v.detach().float() for k, v in loaded.items()}
