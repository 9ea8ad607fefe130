"""Editing an encoder's neurons at one layer and reading the words it then predicts
(Antverg and Belinkov 2022, §4).

The model is split at layer ``l``: the states ``h`` that block ``l`` outputs are edited on the
top-k neurons ``Pi[k]`` of a ranking, for every sub-token of every word that carries the
attribute, and the rest of the model plus a word-decoding head predict the input words:

* **ablation**: ``h_Pi[k] <- 0``;
* **translation** (Eq. 2): ``h_Pi[k] <- h_Pi[k] + alpha_Pi[k] * (q(z')_Pi[k] - q(z)_Pi[k])``
  with ``q(z)`` the mean training representation of value ``z``, ``z'`` the next value
  (cyclically), and ``alpha_r = beta * (0.001 / beta) ** (r / (d - 1))`` log-scaled over rank
  positions ``r``, as the authors' code scales it (neurons outside the ranking get 0).

:class:`SplitModel` cuts the encoder as the paper does: the bottom (the paper's E) runs once per
batch, and the top (D: the remaining blocks and the decoding head) runs on edited copies of its
output, many edits stacked along the batch in one pass. An edit succeeds when the predicted
word keeps the lemma but changes the value: the rate of such words is CLWV ("correct lemma,
wrong value"), judged by spaCy's lemmatiser and morphology as in the paper, next to the plain
error rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from utils.frozen_bottom import encoder_layers, run_layers
from utils.models import tokenizer_family
from utils.tokens import encode_words

ABLATION, TRANSLATION = "ablation", "translation"


@dataclass
class TokenBatch:
    """Padded sub-tokens of pre-tokenised sentences, with the word each sub-token belongs to.

    Attributes
    ----------
    input_ids, attention_mask
        ``(B, T)`` model inputs.
    word_index
        ``(B, T)`` index of the word within its sentence (``-1``: special token or padding).
    sentences
        The words of each sentence.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    word_index: torch.Tensor
    sentences: list[list[str]]

    def spread(self, word_values: Sequence[Sequence[int]]) -> torch.Tensor:
        """``(B, T)`` per-sub-token copy of one integer per word (``-1`` off words)."""
        out = torch.full(self.word_index.shape, -1, dtype=torch.long)
        for b, values in enumerate(word_values):
            if len(values) != len(self.sentences[b]):
                raise ValueError(
                    f"sentence {b}: {len(self.sentences[b])} words, {len(values)} values"
                )
            index = self.word_index[b]
            known = index >= 0
            out[b, known] = torch.as_tensor(values, dtype=torch.long)[index[known]]
        return out.to(self.input_ids.device)


def tokenize_words(
    tokenizer,
    sentences: Sequence[Sequence[str]],
    device: str | torch.device = "cpu",
    max_length: int | None = None,
) -> TokenBatch:
    """One padded :class:`TokenBatch` of pre-tokenised sentences (a sentence over
    ``max_length`` sub-tokens is truncated, with a warning: :func:`utils.tokens.encode_words`)."""
    encoded = encode_words(tokenizer, sentences, max_length, overflow="truncate")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids, mask, word_index = encoded.padded(range(len(encoded)), pad_id)
    return TokenBatch(
        input_ids.to(device), mask.to(device), word_index, [list(s) for s in sentences]
    )


@dataclass
class NeuronEdit:
    """Set (``class_shift is None``: to zero) or shift the chosen neurons of the chosen
    sub-tokens.

    A translation's shift depends only on the class of a sub-token's word, so it is kept per
    class, ``(C, k)``, and spread over the sub-tokens only where an edit is applied: an edit
    holds no ``(B, T, k)`` tensor, and a sweep over many ``k`` holds none either.

    Attributes
    ----------
    token_mask
        ``(B, T)`` boolean: the sub-tokens to edit.
    neurons
        ``(k,)`` neuron indices.
    class_shift
        ``(C, k)`` added to those neurons of a sub-token of class ``c`` (row ``c``), or None
        for ablation.
    token_class
        ``(B, T)`` the class of each sub-token (any value off ``token_mask``), with
        ``class_shift``.
    """

    token_mask: torch.Tensor
    neurons: torch.Tensor
    class_shift: torch.Tensor | None = None
    token_class: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if (self.class_shift is None) != (self.token_class is None):
            raise ValueError("a shift needs both class_shift and token_class")

    @property
    def shift(self) -> torch.Tensor | None:
        """``(B, T, k)`` the shift of every sub-token (materialised: for small batches)."""
        return self._shift_at(None, None)

    def edited_shifts(self) -> torch.Tensor:
        """``(n, k)`` the shift of each edited sub-token (zeros for ablation: none)."""
        if self.class_shift is None:
            return torch.zeros(int(self.token_mask.sum()), len(self.neurons))
        return self.class_shift[self.token_class[self.token_mask]]

    def _shift_at(self, rows: torch.Tensor | None, width: int | None) -> torch.Tensor | None:
        if self.class_shift is None:
            return None
        classes = self.token_class if rows is None else self.token_class[rows, :width]
        return self.class_shift[classes.clamp_min(0)]

    def __call__(self, hidden: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """The edited copy of ``hidden``: ``(B, T, d)``, or with ``rows`` the states
        ``(len(rows), width, d)`` of those sentences trimmed to ``width`` sub-tokens."""
        if len(self.neurons) == 0:
            return hidden
        width = hidden.shape[1]
        if rows is not None:
            rows = rows.to(self.token_mask.device)
        mask = self.token_mask if rows is None else self.token_mask[rows, :width]
        if hidden.shape[:2] != mask.shape:
            raise ValueError(
                f"the edit was built for a batch of shape {tuple(mask.shape)}, "
                f"the layer output has {tuple(hidden.shape[:2])}"
            )
        chosen = hidden[..., self.neurons]
        shift = self._shift_at(rows, width)
        edited = torch.zeros_like(chosen) if shift is None else chosen + shift
        hidden = hidden.clone()
        hidden[..., self.neurons] = torch.where(mask[..., None], edited, chosen)
        return hidden


def complete_ranking(ranking: torch.Tensor, d: int) -> torch.Tensor:
    """``(d,)`` ``ranking`` followed by the neurons it misses, in index order.

    A greedy GAUSSIAN ranking stops early; the authors' intervention code appends the missing
    neurons so that any ``k <= d`` can be edited (:func:`translation_coefficients` still gives
    them ``alpha = 0``).
    """
    ranking = torch.as_tensor(ranking, dtype=torch.long)
    missing = torch.ones(d, dtype=torch.bool)
    missing[ranking] = False
    return torch.cat([ranking, torch.nonzero(missing).squeeze(1)])


def translation_coefficients(
    ranking: torch.Tensor, d: int, beta: float = 8.0, floor: float = 1e-3
) -> torch.Tensor:
    """``(d,)`` Eq. 2's ``alpha`` per neuron: ``beta * (floor / beta) ** (r / (d - 1))`` at rank
    position ``r`` of ``ranking`` (a geometric decay from ``beta``), 0 for unranked neurons."""
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    ranking = torch.as_tensor(ranking, dtype=torch.long)
    positions = torch.arange(len(ranking), dtype=torch.float64)
    alpha = torch.zeros(d, dtype=torch.float64)
    alpha[ranking] = beta * (floor / beta) ** (positions / (d - 1))
    return alpha.float()


def ablation(token_labels: torch.Tensor, neurons: torch.Tensor) -> NeuronEdit:
    """Zero ``neurons`` on every sub-token with a label (``token_labels >= 0``)."""
    return NeuronEdit(token_labels >= 0, torch.as_tensor(neurons, dtype=torch.long))


def translation(
    token_labels: torch.Tensor, neurons: torch.Tensor, alpha: torch.Tensor, means: torch.Tensor
) -> NeuronEdit:
    """Eq. 2: move every labelled sub-token from its value ``z`` to the next value ``z'``.

    Parameters
    ----------
    token_labels
        ``(B, T)`` class index of each sub-token's word (``-1``: not edited).
    neurons
        ``(k,)`` the top-k neurons of the ranking.
    alpha
        ``(d,)`` coefficients (:func:`translation_coefficients`).
    means
        ``(C, d)`` the class means ``q(z)`` of the training words.
    """
    neurons = torch.as_tensor(neurons, dtype=torch.long)
    n_classes = means.shape[0]
    if n_classes < 2:
        raise ValueError("translation needs at least two attribute values")
    step = (means[:, neurons] * alpha[neurons]).to(token_labels.device)  # (C, k)
    # a word of class c moves by step[c + 1] - step[c] (cyclically)
    target = (torch.arange(n_classes) + 1) % n_classes
    return NeuronEdit(token_labels >= 0, neurons, step[target] - step, token_labels)


def decoder_vocabulary(
    tokenizer, sentences: Sequence[Sequence[str]], words: Sequence[str] = ()
) -> torch.Tensor:
    """``(V,)`` sorted ids of every sub-token of ``sentences`` and of ``words`` (each read as
    a one-word sentence), as the model reads them inside a sentence: with the word-start
    marks of byte-level BPE and SentencePiece, without special tokens."""
    encoded = encode_words(tokenizer, [*sentences, *([w] for w in words)])
    ids = {
        i
        for row, owners in zip(encoded.ids, encoded.word_ids)
        for i, owner in zip(row, owners)
        if owner >= 0
    }
    return torch.tensor(sorted(ids), dtype=torch.long)


class WordDecoder(torch.nn.Module):
    """A word-prediction head for an encoder without one, tied to its input embeddings.

    ``logits = LayerNorm(GELU(W h + b)) E_V^T + c`` over a vocabulary ``V`` of sub-token ids
    (BERT's MLM head, restricted to ``V``); ``E_V`` are the encoder's frozen input embeddings.
    """

    def __init__(self, embeddings: torch.Tensor, vocabulary: torch.Tensor) -> None:
        super().__init__()
        hidden = embeddings.shape[1]
        self.transform = torch.nn.Sequential(
            torch.nn.Linear(hidden, hidden), torch.nn.GELU(), torch.nn.LayerNorm(hidden)
        )
        self.register_buffer("vocabulary", torch.as_tensor(vocabulary, dtype=torch.long))
        self.register_buffer("embeddings", embeddings[self.vocabulary].detach().clone())
        self.bias = torch.nn.Parameter(torch.zeros(len(self.vocabulary)))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.transform(hidden) @ self.embeddings.T + self.bias

    def predict_ids(self, hidden: torch.Tensor, max_logits: int = 2**26) -> torch.Tensor:
        """Sub-token ids of the most likely words of ``hidden`` ``(..., d)``, its rows read in
        chunks of at most ``max_logits`` logits (rows x vocabulary) at a time."""
        flat = hidden.reshape(-1, hidden.shape[-1])
        rows = max(1, max_logits // max(1, len(self.vocabulary)))
        best = [self(chunk).argmax(-1) for chunk in flat.split(rows)]
        found = torch.cat(best) if best else flat.new_zeros(0, dtype=torch.long)
        return self.vocabulary[found].view(hidden.shape[:-1])


def train_word_decoder(
    model: torch.nn.Module,
    batches: Sequence[TokenBatch],
    vocabulary: torch.Tensor,
    *,
    epochs: int = 30,
    lr: float = 1e-2,
    batch_size: int = 256,
    seed: int = 0,
    progress: bool = True,
) -> WordDecoder:
    """Fit a :class:`WordDecoder` to predict each input sub-token from the last layer.

    As in the paper's unmasked setting, the target at every position is the input itself;
    sub-tokens outside ``vocabulary`` are skipped.
    """
    device = next(model.parameters()).device
    states, targets = [], []
    with torch.inference_mode():
        for batch in batches:
            hidden = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)[0]
            keep = (batch.word_index >= 0).to(device)
            states.append(hidden[keep].float())
            targets.append(batch.input_ids[keep])
    states, targets = torch.cat(states).clone(), torch.cat(targets)
    vocabulary = torch.as_tensor(vocabulary, dtype=torch.long).to(device)
    lookup = torch.full((int(max(vocabulary.max(), targets.max())) + 1,), -1, device=device)
    lookup[vocabulary] = torch.arange(len(vocabulary), device=device)
    labels = lookup[targets]
    states, labels = states[labels >= 0], labels[labels >= 0]
    if len(labels) == 0:
        raise ValueError("no input sub-token is in the decoder's vocabulary")

    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        decoder = WordDecoder(model.get_input_embeddings().weight, vocabulary).to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    for _ in tqdm(range(epochs), desc="decoder epochs", disable=not progress, leave=False):
        order = torch.randperm(len(labels), generator=gen).to(device)
        for start in range(0, len(labels), batch_size):
            idx = order[start : start + batch_size]
            loss = torch.nn.functional.cross_entropy(decoder(states[idx]), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return decoder.eval()


def _words(tokenizer, batch: TokenBatch, ids: torch.Tensor) -> list[list[str]]:
    """Join the predicted sub-token ``ids`` ``(B, T)`` of each word into its text: WordPiece
    continuation marks (``##``) removed, byte-level BPE and SentencePiece pieces decoded
    with their word-start marks (``Ġ``, ``▁``) dropped."""
    pieces = tokenizer.convert_ids_to_tokens(ids.flatten().tolist())
    wordpiece = tokenizer_family(tokenizer) == "WordPiece"
    width = ids.shape[1]
    words = []
    for b, sentence in enumerate(batch.sentences):
        parts: list[list[str]] = [[] for _ in sentence]
        for t, w in enumerate(batch.word_index[b].tolist()):
            if w >= 0:
                parts[w].append(pieces[b * width + t])
        if wordpiece:
            words.append(["".join(p.removeprefix("##") for p in word) for word in parts])
        else:
            words.append([tokenizer.convert_tokens_to_string(word).strip() for word in parts])
    return words


@torch.inference_mode()
def decode_words(
    model: torch.nn.Module,
    decoder: WordDecoder,
    tokenizer,
    batch: TokenBatch,
    *,
    batch_size: int = 64,
) -> list[list[str]]:
    """The words the unedited model predicts at each input word (``batch_size`` sentences
    per pass, each pass trimmed to its longest sentence)."""
    ids = torch.zeros(batch.input_ids.shape, dtype=torch.long)
    lengths = batch.attention_mask.sum(1).cpu()
    for rows in torch.arange(len(lengths)).split(batch_size):
        width = int(lengths[rows].max())
        on = rows.to(batch.input_ids.device)
        hidden = model(
            input_ids=batch.input_ids[on, :width], attention_mask=batch.attention_mask[on, :width]
        )[0]
        ids[rows, :width] = decoder.predict_ids(hidden).cpu()
    return _words(tokenizer, batch, ids)


class SplitModel:
    """An encoder cut after block ``layer`` for one batch of sentences (the paper's E and D).

    The bottom (embeddings and blocks ``1..layer``) runs once, here; :meth:`predict` runs the
    top (the remaining blocks and the word decoder) on edited copies of ``hidden_states[layer]``.
    The top runs on buckets of sentences of similar length, each trimmed to its longest, and
    the decoder only at word positions.

    Parameters
    ----------
    model
        A BERT-like encoder (``model.encoder.layer`` holds its blocks).
    decoder
        The word-decoding head on the last layer (:class:`WordDecoder`), or a sequence of them
        (decoders trained with different seeds: replicates that share every pass of the top).
    tokenizer
        The encoder's tokenizer (to turn predicted ids back into words).
    batch
        The sentences (:func:`tokenize_words`).
    layer
        Edits apply to the output of this block (0: the embeddings).
    bucket_size
        Sentences per length bucket.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        decoder: WordDecoder | Sequence[WordDecoder],
        tokenizer,
        batch: TokenBatch,
        layer: int,
        *,
        bucket_size: int = 16,
    ) -> None:
        blocks = encoder_layers(model)
        if not 0 <= layer <= len(blocks):
            raise ValueError(f"layer must be in [0, {len(blocks)}], got {layer}")
        self.decoders = list(decoder) if isinstance(decoder, (list, tuple)) else [decoder]
        if not self.decoders:
            raise ValueError("SplitModel needs at least one decoder")
        self.decoder, self.tokenizer, self.batch = self.decoders[0], tokenizer, batch
        self.top = blocks[layer:]
        lengths = batch.attention_mask.sum(1).cpu()
        self.buckets = [
            (rows, int(lengths[rows].max())) for rows in lengths.argsort().split(bucket_size)
        ]
        # the bottom, bucket by bucket: (len(rows), width, d) states trimmed to each bucket
        self.bucket_states = []
        with torch.inference_mode():
            for rows, width in self.buckets:
                on = rows.to(batch.input_ids.device)
                self.bucket_states.append(
                    model(
                        input_ids=batch.input_ids[on, :width],
                        attention_mask=batch.attention_mask[on, :width],
                        output_hidden_states=True,
                    ).hidden_states[layer]
                )
        self._unedited: list[list[list[str]]] | None = None

    @property
    def states(self) -> torch.Tensor:
        """``(B, T, d)`` the output of block ``layer`` for the whole batch, zero on padding
        (assembled from the buckets: for inspection of small batches)."""
        first = self.bucket_states[0]
        out = first.new_zeros((*self.batch.input_ids.shape, first.shape[-1]))
        for (rows, width), states in zip(self.buckets, self.bucket_states):
            out[rows.to(out.device), :width] = states
        return out

    def predict(
        self,
        edits: Sequence[Callable[[torch.Tensor], torch.Tensor] | None],
        *,
        rows_per_pass: int = 1024,
    ) -> list[list[list[str]]]:
        """The words the first decoder predicts under each edit (``None``: unedited), one list
        per edit (:meth:`predict_all` gives every decoder's)."""
        return [found[0] for found in self.predict_all(edits, rows_per_pass=rows_per_pass)]

    @torch.inference_mode()
    def predict_all(
        self,
        edits: Sequence[Callable[[torch.Tensor], torch.Tensor] | None],
        *,
        rows_per_pass: int = 1024,
    ) -> list[list[list[list[str]]]]:
        """``[edit][decoder]``: the words each decoder predicts under each edit.

        A :class:`NeuronEdit` is applied bucket by bucket; any other callable receives the
        whole ``(B, T, d)`` :attr:`states`. Edited copies of a bucket's states are stacked
        along the batch, as many edits per pass of the top as fit in ``rows_per_pass``
        sentences of the batch (at least one); every decoder reads the same pass; the
        unedited prediction is computed once and reused.
        """
        if self._unedited is None and any(e is None for e in edits):
            self._unedited = [
                _words(self.tokenizer, self.batch, ids[0]) for ids in self._top_ids([None])
            ]
        edited = [e for e in edits if e is not None]
        per_pass = max(1, rows_per_pass // len(self.batch.sentences))
        words = []
        for first in range(0, len(edited), per_pass):
            ids = self._top_ids(edited[first : first + per_pass])
            words.extend(
                [_words(self.tokenizer, self.batch, ids[j, i]) for j in range(len(ids))]
                for i in range(ids.shape[1])
            )
        found = iter(words)
        return [self._unedited if e is None else next(found) for e in edits]

    def _top_ids(
        self, edits: Sequence[Callable[[torch.Tensor], torch.Tensor] | None]
    ) -> torch.Tensor:
        """``(D, E, B, T)`` ids (0 off words) that ``D`` decoders predict under ``E`` edits
        (``None``: unedited)."""
        n = len(edits)
        whole = {  # an edit that is not a NeuronEdit sees the whole batch
            i: e(self.states) for i, e in enumerate(edits) if not isinstance(e, NeuronEdit | None)
        }
        ids = torch.zeros((len(self.decoders), n, *self.batch.input_ids.shape), dtype=torch.long)
        for (rows, width), states in zip(self.buckets, self.bucket_states):
            copies = []
            for i, edit in enumerate(edits):
                if edit is None:
                    copies.append(states)
                elif i in whole:
                    copies.append(whole[i][rows.to(states.device), :width])
                else:
                    copies.append(edit(states, rows))
            hidden = torch.stack(copies).flatten(0, 1)
            mask = self.batch.attention_mask[rows.to(states.device), :width].repeat(n, 1)
            top = run_layers(self.top, hidden, mask)
            words = (self.batch.word_index[rows, :width] >= 0).repeat(n, 1)
            at_words = top[words.to(top.device)]
            for j, decoder in enumerate(self.decoders):
                found = torch.zeros(words.shape, dtype=torch.long)
                found[words] = decoder.predict_ids(at_words).cpu()
                ids[j, :, rows, :width] = found.view(n, len(rows), width)
        return ids


class SpacyAnalyses:
    """spaCy's analysis of sentences, each distinct sentence parsed once and kept: per word its
    lemma, part of speech and morphological features, shared by the judges of every attribute.

    Sentences are analysed with the given word boundaries (no re-tokenisation), lower-cased
    like an uncased model's predictions; the parser and the entity recogniser are skipped.
    """

    def __init__(self, nlp) -> None:
        self.nlp = nlp
        self.memo: dict[tuple[str, ...], list[tuple[str, str, dict[str, str]]]] = {}

    def __call__(
        self, sentences: Sequence[Sequence[str]]
    ) -> list[list[tuple[str, str, dict[str, str]]]]:
        """``(lemma, upos, {feature: value})`` per word of each sentence."""
        from spacy.tokens import Doc

        keys = [tuple(w.lower() for w in s) for s in sentences]
        todo = list(dict.fromkeys(k for k in keys if k not in self.memo))
        if todo:
            skip = [name for name in ("parser", "ner") if name in self.nlp.pipe_names]
            with self.nlp.select_pipes(disable=skip):
                # a word cut by truncation is predicted as nothing: spaCy reads it as "_"
                words = ([w or "_" for w in k] for k in todo)
                docs = self.nlp.pipe(Doc(self.nlp.vocab, words=ws) for ws in words)
                for key, doc in zip(todo, docs):
                    self.memo[key] = [(t.lemma_.lower(), t.pos_, t.morph.to_dict()) for t in doc]
        return [self.memo[k] for k in keys]


class MorphologyJudge:
    """spaCy's lemma and value of one attribute for each word of a sentence.

    ``attribute`` is a morphological feature (``"Number"``, ``"Tense"``, ``"Gender"``, ...)
    read from ``token.morph``, or ``"upos"`` for the part of speech. ``analyses`` (a
    :class:`SpacyAnalyses` of the same pipeline, default a fresh one) holds the parsed
    sentences: judges of several attributes that share it parse each sentence once.
    """

    def __init__(self, nlp, attribute: str, analyses: SpacyAnalyses | None = None) -> None:
        self.nlp = nlp
        self.attribute = attribute
        self.analyses = SpacyAnalyses(nlp) if analyses is None else analyses
        if self.analyses.nlp is not nlp:
            raise ValueError("the shared analyses come from another spaCy pipeline")

    def analyse(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, str]]]:
        """``(lemma, value)`` per word (value ``""`` when spaCy gives none)."""
        return [
            [(lemma, self._value(upos, feats)) for lemma, upos, feats in words]
            for words in self.analyses(sentences)
        ]

    def _value(self, upos: str, feats: dict[str, str]) -> str:
        if self.attribute == "upos":
            return upos
        return feats.get(self.attribute, "")


def edit_scores(
    judge: MorphologyJudge,
    originals: Sequence[Sequence[str]],
    predictions: Sequence[Sequence[str]],
    relevant: Sequence[Sequence[bool]],
) -> tuple[float, float]:
    """Error rate and CLWV over the relevant (edited) words.

    error = #(prediction != word) / #relevant; CLWV = #(prediction != word, same lemma, value
    different or missing) / #relevant (the paper's §4.3, with spaCy as L and A). Words are
    compared case-insensitively, as the judge reads them. Both are NaN when no word is
    relevant.
    """
    before, after = judge.analyse(originals), judge.analyse(predictions)
    wrong = clwv = total = 0
    for words, preds, marks, gold, pred in zip(originals, predictions, relevant, before, after):
        for word, guess, mark, (lemma, value), (p_lemma, p_value) in zip(
            words, preds, marks, gold, pred
        ):
            if not mark:
                continue
            total += 1
            if guess.lower() != word.lower():
                wrong += 1
                clwv += p_lemma == lemma and p_value != value
    if total == 0:  # nothing to score (e.g. a decoder that reproduces no edited word)
        return math.nan, math.nan
    return wrong / total, clwv / total


def saturation_point(values: Sequence[float], factor: float = 1.05, guard: float = 0.1) -> int:
    """Index of the saturation point of a CLWV curve (the paper's footnote 5, as coded).

    The first index ``i`` from which the next two points grow by a factor below ``factor``
    (``v[i+1] / v[i] < factor`` and ``v[i+2] / v[i] < factor``), skipping an ``i`` whose value
    is more than ``guard`` below the last one. If none qualifies, the last index.
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError("empty curve")
    for i in range(len(values) - 2):
        if values[-1] - values[i] > guard or values[i] <= 0:
            continue
        if values[i + 1] / values[i] < factor and values[i + 2] / values[i] < factor:
            return i
    return len(values) - 1
