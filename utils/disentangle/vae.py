"""The VAE baselines of Table 2: John et al. (2019)'s VAE with multi-task and adversarial
losses (*VAE*), and the same model with the frozen encoder as its embedding module
(*VAE + BERT*).

John et al. ("Disentangled Representation Learning for Non-Parallel Text Style Transfer")
encode a sentence with a GRU into two Gaussian latents, style ``s`` and content ``c``, and
decode it back with a GRU that reads ``[s; c]`` at every step. Besides the VAE's ELBO,

    J = J_rec + lambda_kl KL(q(s|x) || N(0, I)) + lambda_kl KL(q(c|x) || N(0, I))
        + lambda_mul J_mul - lambda_adv J_adv,

each latent has a *multi-task* classifier that must read its own attribute from it (``J_mul``,
a cross-entropy) and an *adversary* that reads the attribute the latent must not hold: the
adversary is trained on its own to predict that attribute from the (detached) latent, and the
encoder is trained to make the adversary's prediction uniform (``J_adv``, the entropy of its
softmax). The KL weight rises on a sigmoid schedule, against posterior collapse.

Here both latents are labelled factors (sentiment and genre), so each gets the style
latent's objectives, sizes and weights (8 dimensions; lambda_mul 10, lambda_adv 1,
lambda_kl 0.03, John et al.'s values): latent ``f`` is classified as factor ``f`` and
attacked for factor ``1 - f``. The representation of a text is its posterior means.
*VAE* embeds words with its own trained embedding; *VAE + BERT* reads the frozen encoder's
top-layer token states instead (:func:`utils.frozen_bottom.run_top`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from utils.frozen_bottom import BottomStates

__all__ = ["TextVAE", "VAEConfig", "WordSequences", "train_text_vae", "vae_latents"]

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


@dataclass
class WordSequences:
    """Sentences as word indices: ``<bos> w_1 .. w_n <eos>``, zero-padded.

    Attributes
    ----------
    ids
        ``(N, T)`` int64, padded with ``PAD`` (0).
    lengths
        ``(N,)`` int64: the real positions of each row (with ``<bos>`` and ``<eos>``).
    vocabulary
        The words, in index order (the first four are :data:`SPECIALS`).
    """

    ids: torch.Tensor
    lengths: torch.Tensor
    vocabulary: list[str]

    @classmethod
    def build(
        cls,
        sentences: Sequence[Sequence[str]],
        vocabulary: Sequence[str] | None = None,
        *,
        max_vocabulary: int | None = None,
        max_length: int | None = None,
    ) -> WordSequences:
        """Index ``sentences``, each cut to its first ``max_length`` words.

        The vocabulary is given, or built from ``sentences``: the specials, then the words
        from the most frequent down (ties alphabetical), at most ``max_vocabulary`` entries in
        all (John et al. keep 9,200). A word outside it becomes ``<unk>``.
        """
        if not sentences or any(len(s) == 0 for s in sentences):
            raise ValueError("every sentence needs at least one word")
        if max_length is not None and max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        sentences = [list(s)[:max_length] for s in sentences]
        if vocabulary is None:
            counts = Counter(w for s in sentences for w in s)
            words = sorted(counts, key=lambda w: (-counts[w], w))
            if max_vocabulary is not None:
                if max_vocabulary <= len(SPECIALS):
                    raise ValueError(f"max_vocabulary must exceed the {len(SPECIALS)} specials")
                words = words[: max_vocabulary - len(SPECIALS)]
            vocabulary = [*SPECIALS, *words]
        elif list(vocabulary[: len(SPECIALS)]) != list(SPECIALS):
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        index = {w: i for i, w in enumerate(vocabulary)}
        lengths = torch.tensor([len(s) + 2 for s in sentences])
        ids = torch.full((len(sentences), int(lengths.max())), PAD, dtype=torch.long)
        for row, sentence in enumerate(sentences):
            words = [BOS, *(index.get(w, UNK) for w in sentence), EOS]
            ids[row, : len(words)] = torch.tensor(words)
        return cls(ids, lengths, list(vocabulary))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class VAEConfig:
    """Training of a :class:`TextVAE` (John et al.'s Adam, step size, batch, epochs and loss
    weights; ``kl_anneal``: the share of the steps at which the KL weight is half way up)."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    adversary_lr: float = 1e-3
    multitask: float = 10.0
    adversary: float = 1.0
    kl: float = 0.03
    kl_anneal: float = 0.5
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class TextVAE(nn.Module):
    """GRU encoder, two Gaussian latents (one per factor), GRU decoder, and per latent a
    multi-task head and an adversary (linear softmax classifiers).

    Parameters
    ----------
    vocab_size
        Words the decoder predicts (and the encoder embeds, without ``input_size``).
    n_classes
        ``(classes of a, classes of b)``.
    input_size
        Width of precomputed encoder inputs (the frozen encoder's token states: *VAE +
        BERT*); ``None``: the encoder embeds the words itself (*VAE*).
    embed_size, hidden_size, latent_size
        Word embeddings, GRU states and each latent's dimension.
    """

    def __init__(
        self,
        vocab_size: int,
        n_classes: tuple[int, int] = (2, 2),
        *,
        input_size: int | None = None,
        embed_size: int = 300,
        hidden_size: int = 256,
        latent_size: int = 8,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.reads_words = input_size is None
        self.encoder = nn.GRU(input_size or embed_size, hidden_size, batch_first=True)
        self.posteriors = nn.ModuleList(nn.Linear(hidden_size, 2 * latent_size) for _ in range(2))
        self.decoder = nn.GRU(embed_size + 2 * latent_size, hidden_size, batch_first=True)
        self.output = nn.Linear(hidden_size, vocab_size)
        self.heads = nn.ModuleList(nn.Linear(latent_size, c) for c in n_classes)
        self.adversaries = nn.ModuleList(nn.Linear(latent_size, c) for c in reversed(n_classes))

    def encode(
        self, inputs: torch.Tensor, lengths: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per factor, the posterior's mean and log-variance ``(B, latent_size)`` of
        ``inputs`` (word ids ``(B, T)``, or encoder states ``(B, T, D)``) of ``lengths``."""
        if self.reads_words:
            inputs = self.embedding(inputs)
        packed = nn.utils.rnn.pack_padded_sequence(
            inputs, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, last = self.encoder(packed)
        return [tuple(layer(last[-1]).chunk(2, dim=1)) for layer in self.posteriors]

    def reconstruction_loss(self, z: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the decoder, given ``z = [z_a; z_b]`` at every step, on the
        next word of ``words`` ``(B, T)`` (teacher forcing; padding is not scored)."""
        previous, target = words[:, :-1], words[:, 1:]
        steps = self.embedding(previous)
        steps = torch.cat([steps, z[:, None, :].expand(-1, steps.shape[1], -1)], dim=2)
        out, _ = self.decoder(steps)
        logits = self.output(out)
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=PAD
        )


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, exp(log_var)) || N(0, I))``, summed over dimensions, mean over the batch."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(1).mean()


def prediction_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy of ``softmax(logits)`` (``J_adv``: the encoder maximises it)."""
    log_p = logits.log_softmax(1)
    return -(log_p.exp() * log_p).sum(1).mean()


def _encoder_batch(
    vae: TextVAE,
    words: WordSequences,
    states: BottomStates | None,
    index: torch.Tensor,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's input and lengths for sentences ``index``."""
    if states is None:
        lengths = words.lengths[index]
        return words.ids[index, : int(lengths.max())].to(device), lengths
    hidden, mask = states.batch(index, device)
    return hidden, mask.sum(1)


def train_text_vae(
    vae: TextVAE,
    words: WordSequences,
    labels: tuple[torch.Tensor, torch.Tensor],
    config: VAEConfig | None = None,
    *,
    states: BottomStates | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train ``vae`` (in place) with John et al.'s objective on every sentence of ``words``.

    Each step first updates the autoencoder (encoder, decoder, multi-task heads) on ``J``,
    then the adversaries on their cross-entropy against the detached latents, each with its
    own Adam. ``states`` (*VAE + BERT*) are the encoder's inputs for the same sentences.

    Returns
    -------
    dict
        Per-step histories: ``loss``, ``reconstruction``, ``kl``, ``multitask``,
        ``adversary`` (the adversaries' cross-entropy) and ``kl_weight``.
    """
    config = config or VAEConfig()
    if vae.reads_words != (states is None):
        raise ValueError("give states exactly when the VAE was built with input_size")
    n = len(words)
    if states is not None and len(states) != n:
        raise ValueError(f"states hold {len(states)} sentences, words {n}")
    if any(len(y) != n for y in labels):
        raise ValueError(f"labels must have one entry per sentence ({n})")
    device = next(vae.parameters()).device
    adversaries = list(vae.adversaries.parameters())
    own = [p for name, p in vae.named_parameters() if not name.startswith("adversaries.")]
    optimizer = torch.optim.Adam(own, lr=config.lr)
    adversary_optimizer = torch.optim.Adam(adversaries, lr=config.adversary_lr)
    generator = torch.Generator().manual_seed(config.seed)
    per_epoch = math.ceil(n / config.batch_size)
    total = config.epochs * per_epoch
    history: dict[str, list[float]] = {
        k: [] for k in ("loss", "reconstruction", "kl", "multitask", "adversary", "kl_weight")
    }
    ce = nn.functional.cross_entropy
    step = 0
    for _ in tqdm(range(config.epochs), desc="VAE epochs", disable=not progress, leave=False):
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, config.batch_size):
            index = order[first : first + config.batch_size]
            inputs, lengths = _encoder_batch(vae, words, states, index, device)
            y = [labels[f][index].to(device) for f in range(2)]
            posteriors = vae.encode(inputs, lengths)
            noise = [torch.randn(m.shape, generator=generator).to(device) for m, _ in posteriors]
            z = [m + e * (0.5 * v).exp() for (m, v), e in zip(posteriors, noise, strict=True)]
            target = words.ids[index, : int(words.lengths[index].max())].to(device)
            reconstruction = vae.reconstruction_loss(torch.cat(z, 1), target)
            kl = sum(gaussian_kl(m, v) for m, v in posteriors)
            multitask = sum(ce(vae.heads[f](z[f]), y[f]) for f in range(2))
            entropy = sum(prediction_entropy(vae.adversaries[f](z[f])) for f in range(2))
            kl_weight = 1.0 / (1.0 + math.exp(-10.0 * (step / total - config.kl_anneal)))
            loss = (
                reconstruction
                + config.kl * kl_weight * kl
                + config.multitask * multitask
                - config.adversary * entropy
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            adversary_loss = sum(ce(vae.adversaries[f](z[f].detach()), y[1 - f]) for f in range(2))
            adversary_optimizer.zero_grad(set_to_none=True)
            adversary_loss.backward()
            adversary_optimizer.step()
            for key, value in (
                ("loss", loss),
                ("reconstruction", reconstruction),
                ("kl", kl),
                ("multitask", multitask),
                ("adversary", adversary_loss),
            ):
                history[key].append(value.item())
            history["kl_weight"].append(kl_weight)
            step += 1
    return history


@torch.no_grad()
def vae_latents(
    vae: TextVAE,
    words: WordSequences,
    *,
    states: BottomStates | None = None,
    batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, latent_size)`` posterior means ``z^(a)``, ``z^(b)`` of every sentence (CPU)."""
    device = next(vae.parameters()).device
    out: list[list[torch.Tensor]] = [[], []]
    for first in range(0, len(words), batch_size):
        index = torch.arange(first, min(first + batch_size, len(words)))
        posteriors = vae.encode(*_encoder_batch(vae, words, states, index, device))
        for f, (mean, _) in enumerate(posteriors):
            out[f].append(mean.cpu())
    return torch.cat(out[0]), torch.cat(out[1])
