"""Two representations of one text, one per factor: the losses, the models, their training
and their evaluation.

After Zhang, van de Meent & Wallace, "Disentangling Representations of Text by Masking
Transformers". A triplet ``(x0, x1, x2)`` has ``x1`` similar to ``x0`` in factor *a* and
``x2`` similar to ``x0`` in factor *b*. A model gives every text two vectors ``z^(a)``,
``z^(b)`` and is trained with Eq. 9,

    L = lambda_triplet L_triplet + lambda_overlap L_overlap (+ lambda_cls L_cls),

where ``L_triplet`` is Eq. 3-5 (margin 2), ``L_cls`` Eq. 6-7 (linear heads) and
``L_overlap`` Eq. 8 made differentiable and normalised (:mod:`.losses`). The models
(:class:`Disentangler`, :mod:`.models`) differ only in where the two vectors come from: the
frozen top layers under two mask sets (:class:`MaskedStreams`), or two finetuned copies of
them (:class:`FinetunedStreams`, the *Finetuned* baseline, with a gradient-reversal
adversary for the *Adversarial* one). :mod:`.trainer` minimises Eq. 9, :mod:`.evaluation`
scores the main task, the groups and the leakage (attackers: :mod:`utils.leakage`);
:mod:`.vae` holds Table 2's VAE baselines (John et al. 2019).
"""

from .evaluation import LEAK_ATTACKERS, evaluate, fit_heads, group_accuracies, group_summary
from .losses import (
    classification_loss,
    disentangled_triplet_loss,
    overlap_loss,
    reverse_gradient,
    triplet_loss,
)
from .models import Disentangler, FinetunedStreams, MaskedStreams, Untuned, random_masks
from .trainer import TrainConfig, embed, memory_estimate, shuffled_triplets, train_disentangler
from .vae import TextVAE, VAEConfig, WordSequences, train_text_vae, vae_latents

__all__ = [
    "LEAK_ATTACKERS",
    "Disentangler",
    "FinetunedStreams",
    "MaskedStreams",
    "TextVAE",
    "TrainConfig",
    "Untuned",
    "VAEConfig",
    "WordSequences",
    "classification_loss",
    "disentangled_triplet_loss",
    "embed",
    "evaluate",
    "fit_heads",
    "group_accuracies",
    "group_summary",
    "memory_estimate",
    "overlap_loss",
    "random_masks",
    "reverse_gradient",
    "shuffled_triplets",
    "train_disentangler",
    "train_text_vae",
    "triplet_loss",
    "vae_latents",
]
