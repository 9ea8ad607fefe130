"""A pretrained masked-language-model head as the word decoder of neuron edits.

Antverg and Belinkov (Sec. 4.1) split the masked language model at layer ``l``: the
encoder's blocks above ``l`` and *its own* MLM head predict the input words from the edited
states. :func:`load_mlm_head` loads that head when a checkpoint has one (BERT's ``cls``,
RoBERTa's and XLM-R's ``lm_head``); :class:`MaskedLMHead` gives it the interface of
:class:`utils.neuron_edits.WordDecoder` (``predict_ids``), over the whole vocabulary or a
subset. An encoder without a pretrained head (the book's MiniLM) returns ``None`` and the
chapter trains a :class:`~utils.neuron_edits.WordDecoder` instead.
"""

from __future__ import annotations

import os

import torch

from utils.models import resolve_model_source


class MaskedLMHead(torch.nn.Module):
    """A pretrained MLM head read as a word decoder: ``logits = head(h)[..., V]``.

    Parameters
    ----------
    head
        The module mapping last-layer states ``(..., d)`` to logits over the model's whole
        vocabulary (e.g. ``BertForMaskedLM.cls``).
    vocabulary
        ``(V,)`` the sub-token ids the decoder may predict (default: every id of the head).
    """

    def __init__(self, head: torch.nn.Module, vocabulary: torch.Tensor | None = None) -> None:
        super().__init__()
        self.head = head.eval()
        if vocabulary is not None:
            vocabulary = torch.as_tensor(vocabulary, dtype=torch.long).reshape(-1)
        self.register_buffer("vocabulary", vocabulary, persistent=False)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.head(hidden)
        return logits if self.vocabulary is None else logits[..., self.vocabulary]

    @torch.inference_mode()
    def predict_ids(self, hidden: torch.Tensor, max_logits: int = 2**26) -> torch.Tensor:
        """Sub-token ids of the most likely words of ``hidden`` ``(..., d)``, its rows read in
        chunks of at most ``max_logits`` logits (rows x vocabulary) at a time."""
        flat = hidden.reshape(-1, hidden.shape[-1])
        size = self.size()
        rows = max(1, max_logits // max(1, size))
        best = [self(chunk).argmax(-1) for chunk in flat.split(rows)]
        found = torch.cat(best) if best else flat.new_zeros(0, dtype=torch.long)
        if self.vocabulary is not None:
            found = self.vocabulary[found]
        return found.view(hidden.shape[:-1])

    def size(self) -> int:
        """How many sub-tokens the decoder chooses among: ``V``, or the head's last layer."""
        if self.vocabulary is not None:
            return len(self.vocabulary)
        linears = [m for m in self.head.modules() if isinstance(m, torch.nn.Linear)]
        return linears[-1].out_features


def load_mlm_head(
    name: str | os.PathLike, device: str | torch.device = "cpu"
) -> torch.nn.Module | None:
    """The pretrained masked-LM head of checkpoint ``name``, or ``None`` when it has none.

    The checkpoint is loaded as ``AutoModelForMaskedLM``; the head is its one child module
    besides the encoder (``base_model_prefix``). ``None`` when the architecture has no MLM
    class or when any weight of the head is missing from the checkpoint (Transformers would
    initialise it at random, as for a sentence encoder saved without its head).
    """
    from transformers import AutoModelForMaskedLM
    from transformers.utils import logging

    source, local_only = resolve_model_source(name)
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # a checkpoint without a head is an answer, not a warning
    try:
        mlm, info = AutoModelForMaskedLM.from_pretrained(
            source, local_files_only=local_only, output_loading_info=True
        )
    except (ValueError, KeyError):  # no masked-LM class for this architecture
        return None
    finally:
        logging.set_verbosity(verbosity)
    prefix = mlm.base_model_prefix
    heads = [module for child, module in mlm.named_children() if child != prefix]
    missing = [key for key in info.get("missing_keys", []) if not key.startswith(prefix + ".")]
    if len(heads) != 1 or missing:
        return None
    return heads[0].eval().to(device)
