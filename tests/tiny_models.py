"""Tiny Hugging Face models in the real on-disk format, one per tokenizer family the papers
use, built offline on the spot: WordPiece (BERT, M-BERT), byte-level BPE (RoBERTa, GPT-2
style), SentencePiece unigram (XLM-R) and XLNet (SentencePiece unigram, its special tokens
after the sentence, relative positions). Random weights, two layers, a vocabulary of
a few hundred entries, ``save_pretrained`` folders that :func:`utils.models.load_encoder`
reads like a hub download."""

from __future__ import annotations

from pathlib import Path

import torch

FAMILIES = ("wordpiece", "bpe", "sentencepiece", "xlnet")
WORDS = (
    "the dogs bark loudly at night while a cat sleeps on the warm mat near our houses and "
    "children run jump laugh happily every morning before the long school day begins"
).split()
SPECIALS = {
    "wordpiece": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    "bpe": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "sentencepiece": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "xlnet": ["<unk>", "<s>", "</s>", "<cls>", "<sep>", "<pad>", "<mask>", "<eod>", "<eop>"],
}


def _texts() -> list[str]:
    return [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 4


def _tokenizer(family: str):
    import transformers
    from tokenizers import (
        SentencePieceUnigramTokenizer,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )

    specials = SPECIALS[family]
    if family == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        tok.train_from_iterator(
            _texts(), trainers.WordPieceTrainer(vocab_size=150, special_tokens=specials)
        )
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B [SEP]",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
        )
        return transformers.BertTokenizerFast(
            tokenizer_object=tok,
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
        )
    names = dict(
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )
    if family == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.train_from_iterator(
            _texts(),
            trainers.BpeTrainer(
                vocab_size=300,
                special_tokens=specials,
                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            ),
        )
        tok.post_processor = processors.RobertaProcessing(
            ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>"))
        )
        return transformers.RobertaTokenizerFast(tokenizer_object=tok, **names)
    sp = SentencePieceUnigramTokenizer()
    sp.train_from_iterator(_texts(), vocab_size=120, special_tokens=specials, unk_token="<unk>")
    tok = sp._tokenizer
    if family == "xlnet":  # XLNet appends its separator and classification tokens
        tok.post_processor = processors.TemplateProcessing(
            single="$A <sep> <cls>",
            pair="$A <sep> $B <sep> <cls>",
            special_tokens=[(t, tok.token_to_id(t)) for t in ("<sep>", "<cls>")],
        )
        return transformers.XLNetTokenizerFast(
            tokenizer_object=tok, **{**names, "sep_token": "<sep>", "cls_token": "<cls>"}
        )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    return transformers.XLMRobertaTokenizerFast(tokenizer_object=tok, **names)


def build_tiny_model(
    family: str, folder: Path, *, mlm_head: bool = False, max_positions: int = 40, seed: int = 0
) -> Path:
    """Save a tiny random-weight model of ``family`` (and its tokenizer) into ``folder``."""
    import transformers

    tokenizer = _tokenizer(family)
    sizes = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    if family == "wordpiece":
        config = transformers.BertConfig(max_position_embeddings=max_positions, **sizes)
        kind = transformers.BertForMaskedLM if mlm_head else transformers.BertModel
    elif family == "xlnet":  # relative positions: no position embeddings, no length limit
        config = transformers.XLNetConfig(
            vocab_size=sizes["vocab_size"],
            d_model=sizes["hidden_size"],
            n_layer=sizes["num_hidden_layers"],
            n_head=sizes["num_attention_heads"],
            d_inner=sizes["intermediate_size"],
            pad_token_id=tokenizer.pad_token_id,
        )
        kind = transformers.XLNetLMHeadModel if mlm_head else transformers.XLNetModel
    else:
        # RoBERTa-style position ids start after the padding index: two extra positions
        config_type = (
            transformers.RobertaConfig if family == "bpe" else transformers.XLMRobertaConfig
        )
        config = config_type(
            max_position_embeddings=max_positions + 2,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=0,
            eos_token_id=2,
            **sizes,
        )
        kind = (
            (
                transformers.RobertaForMaskedLM
                if family == "bpe"
                else transformers.XLMRobertaForMaskedLM
            )
            if mlm_head
            else (transformers.RobertaModel if family == "bpe" else transformers.XLMRobertaModel)
        )
    torch.manual_seed(seed)
    model = kind(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


class RNNModel(torch.nn.Module):
    """The module layout of PyTorch's ``word_language_model`` (``model.RNNModel``), in which
    Gulordava et al. (2018) saved their LSTM language models: ``drop``, ``encoder`` (the
    embedding), ``rnn`` (an ``nn.LSTM``), ``decoder`` (the softmax layer)."""

    def __init__(
        self,
        ntoken: int,
        ninp: int,
        nhid: int,
        nlayers: int,
        dropout: float = 0.2,
        init_range: float = 0.1,
        lstm_range: float | None = None,
    ):
        super().__init__()
        self.drop = torch.nn.Dropout(dropout)
        self.encoder = torch.nn.Embedding(ntoken, ninp)
        self.rnn = torch.nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = torch.nn.Linear(nhid, ntoken)
        self.rnn_type, self.nhid, self.nlayers = "LSTM", nhid, nlayers
        # word_language_model's initialisation: U(-0.1, 0.1) embedding and decoder, zero bias
        torch.nn.init.uniform_(self.encoder.weight, -init_range, init_range)
        torch.nn.init.uniform_(self.decoder.weight, -init_range, init_range)
        torch.nn.init.zeros_(self.decoder.bias)
        if lstm_range is not None:
            for weight in self.rnn.parameters():
                torch.nn.init.uniform_(weight, -lstm_range, lstm_range)


def agreement_gender_words() -> list[str]:
    """Every word (case kept) of the generated agreement and gender data that chapter 1
    reads, in every mode, sorted."""
    from utils.corpus import generate

    words = set()
    for task, n in (("agreement", 3000), ("gender", 2000)):
        for mode in ("train", "prefix", "eval"):
            try:
                sentences = generate(task, n=n, seed=0, mode=mode)
            except ValueError:  # a mode the task does not have
                continue
            for sentence in sentences:
                words.update(sentence.forms)
                words.update(v for k, v in sentence.meta.items() if k in ("correct", "wrong"))
    return sorted(words | {"he", "she", "He", "She"})


def build_word_language_model(
    folder: Path,
    words: list[str] | None = None,
    *,
    hidden: int = 16,
    layers: int = 2,
    seed: int = 0,
    name: str = "model.pt",
    init_range: float = 0.1,
    lstm_range: float | None = None,
) -> tuple[Path, Path]:
    """Save a tiny random-weight LSTM language model in the layout of Gulordava et al.'s
    checkpoints (``torch.save`` of a whole ``model.RNNModel``, the class pickled by name as
    the ``word_language_model`` scripts do) and its vocabulary file (one token per line, line
    ``i`` is id ``i``, with ``<unk>`` and the end-of-sentence token ``<eos>``).

    ``words`` defaults to :func:`agreement_gender_words`. The weights follow
    ``word_language_model``'s initialisation (embedding and decoder ``U(-init_range,
    init_range)``, zero decoder bias, PyTorch's LSTM); ``lstm_range`` draws the LSTM's from
    ``U(-lstm_range, lstm_range)``: larger ranges make predictions that vary with the input,
    as a trained model's do. Returns ``(checkpoint, vocabulary)``;
    the vocabulary file is ``vocab.txt`` in ``folder`` (shared by checkpoints of the same
    words)."""
    import sys
    import types

    tokens = ["<unk>", "<eos>"] + [w for w in (words or agreement_gender_words())
                                   if w not in ("<unk>", "<eos>")]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = folder / "vocab.txt"
    vocabulary.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    torch.manual_seed(seed)
    model = RNNModel(len(tokens), hidden, hidden, layers, init_range=init_range,
                     lstm_range=lstm_range).eval()  # fmt: skip
    # pickled as model.RNNModel, a class the reading side cannot import (as with the originals)
    fake = types.ModuleType("model")
    fake.RNNModel = RNNModel
    saved_module, saved_qualname = RNNModel.__module__, RNNModel.__qualname__
    previous = sys.modules.get("model")
    try:
        RNNModel.__module__ = "model"
        sys.modules["model"] = fake
        torch.save(model, folder / name)
    finally:
        RNNModel.__module__, RNNModel.__qualname__ = saved_module, saved_qualname
        if previous is None:
            sys.modules.pop("model", None)
        else:
            sys.modules["model"] = previous
    return folder / name, vocabulary
