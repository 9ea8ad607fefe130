"""Training of the two-stream models on triplets (Eq. 9 with Adam), their embeddings, and
the peak memory of the masking experiments."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from utils.frozen_bottom import BottomStates
from utils.memory import tensor_bytes

from .losses import classification_loss, disentangled_triplet_loss, overlap_loss, reverse_gradient
from .models import Disentangler

__all__ = ["TrainConfig", "embed", "memory_estimate", "shuffled_triplets", "train_disentangler"]


@dataclass
class TrainConfig:
    """Everything that determines a training run besides the data (Eq. 9's weights included).

    ``lr`` is for the streams' parameters (mask scores, or finetuned weights), ``head_lr``
    for the heads and adversaries. ``adversary`` scales the reversed gradient (0: none).
    ``normalize`` measures the triplet distances between unit vectors
    (:func:`triplet_loss`).
    """

    steps: int = 150
    batch_size: int = 8
    lr: float = 1e-3
    head_lr: float = 1e-3
    margin: float = 2.0
    triplet: float = 1.0
    overlap: float = 1.0
    cls: float = 1.0
    adversary: float = 0.0
    seed: int = 0
    normalize: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def shuffled_triplets(triplets: torch.Tensor, seed: int) -> torch.Tensor:
    """The shuffled-triplet control: ``(n, 3)`` triplets whose positive ``x1`` and negative
    ``x2`` columns are each permuted at random across the triplets.

    Every anchor keeps its place and every sentence is drawn as often as before, in the same
    role, so the sentences a model sees (and, with Eq. 6-7, their labels) are unchanged; only
    the relation Eq. 3-5 relies on, ``x1`` similar to ``x0`` in factor *a* and ``x2`` in
    factor *b*, is broken. A result that survives this control is not the triplets' doing.
    """
    triplets = torch.as_tensor(triplets)
    if triplets.ndim != 2 or triplets.shape[1] != 3:
        raise ValueError(f"triplets must be (n, 3), got {tuple(triplets.shape)}")
    generator = torch.Generator().manual_seed(seed)
    out = triplets.clone()
    for column in (1, 2):
        out[:, column] = triplets[torch.randperm(len(triplets), generator=generator), column]
    return out


def train_disentangler(
    model: Disentangler,
    bottom: BottomStates,
    triplets: torch.Tensor,
    labels: tuple[torch.Tensor, torch.Tensor] | None = None,
    config: TrainConfig | None = None,
    *,
    micro_batch: int | None = None,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Minimise Eq. 9 with Adam over mini-batches of triplets.

    Parameters
    ----------
    model
        The :class:`Disentangler` to train (in place).
    bottom
        Cached bottom-layer states of every sentence the triplets index.
    triplets
        ``(n, 3)`` sentence indices ``(x0, x1, x2)``: ``x1`` shares factor *a* with ``x0``,
        ``x2`` shares factor *b*.
    labels
        ``(y_a, y_b)`` class indices of every sentence, for Eq. 6-7 (applied to all three
        sentences of each triplet) and the adversaries; ``None`` without labels.
    config
        Steps, batch size, learning rates and the loss weights.
    micro_batch
        Triplets per forward and backward pass (``None`` or 0: the whole batch at once). A
        batch is then run in pieces whose gradients add up to the batch's (each piece's
        losses weighted by its share of the batch; the overlap term, which depends on the
        masks only, once per step), so that the activations kept for the backward pass grow
        with ``micro_batch``, not with ``config.batch_size``. Not part of the configuration:
        it changes the memory, not what is computed.

    Returns
    -------
    dict
        Per-step histories: ``loss``, ``triplet``, ``cls``, ``overlap`` (the overlap
        fraction), ``keep_a``, ``keep_b`` (for masked streams).
    """
    config = config or TrainConfig()
    triplets = torch.as_tensor(triplets, dtype=torch.long)
    if triplets.ndim != 2 or triplets.shape[1] != 3 or len(triplets) == 0:
        raise ValueError(f"triplets must be (n, 3) sentence indices, got {tuple(triplets.shape)}")
    if int(triplets.max()) >= len(bottom) or int(triplets.min()) < 0:
        raise ValueError(f"triplet indices must lie in 0..{len(bottom) - 1}")
    if (labels is None) != (model.heads is None):
        raise ValueError("give labels exactly when the model has classification heads")
    device = next(model.parameters()).device
    masks = model.masks
    if config.overlap and masks is None:
        raise ValueError("the overlap term (overlap > 0) needs masked streams")
    heads = [p for name, p in model.named_parameters() if not name.startswith("streams.")]
    groups = [
        {"params": [p for p in model.streams.parameters() if p.requires_grad], "lr": config.lr}
    ]
    if heads:
        groups.append({"params": heads, "lr": config.head_lr})
    optimizer = torch.optim.Adam(groups)
    gen = torch.Generator().manual_seed(config.seed)
    history: dict[str, list[float]] = {k: [] for k in ("loss", "triplet", "cls", "overlap")}
    if masks is not None:
        history.update(keep_a=[], keep_b=[])
    if micro_batch is not None and micro_batch < 0:
        raise ValueError(
            f"micro_batch must be positive (or 0/None: whole batch), got {micro_batch}"
        )
    order = torch.randperm(len(triplets), generator=gen)
    position = 0
    for _ in tqdm(range(config.steps), desc="training", disable=not progress, leave=False):
        if position + config.batch_size > len(order):
            order, position = torch.randperm(len(triplets), generator=gen), 0
        batch = triplets[order[position : position + config.batch_size]]
        position += config.batch_size
        n = len(batch)
        piece = micro_batch or n
        optimizer.zero_grad(set_to_none=True)
        totals = {"loss": 0.0, "triplet": 0.0, "cls": 0.0}
        for first in range(0, n, piece):
            part = batch[first : first + piece]
            loss, loss_triplet, loss_cls = _batch_loss(model, bottom, part, labels, config, device)
            share = len(part) / n
            if share != 1.0:  # a piece of the batch: its share of the batch's mean losses
                loss, loss_triplet, loss_cls = loss * share, loss_triplet * share, loss_cls * share
            if first + piece >= n:  # the last piece also carries the overlap term (once)
                loss_overlap = overlap_loss(masks) if masks is not None else torch.zeros(())
                loss = loss + config.overlap * loss_overlap
            loss.backward()
            totals["loss"] += loss.item()
            totals["triplet"] += loss_triplet.item()
            totals["cls"] += loss_cls.item()
        optimizer.step()
        for key, value in totals.items():
            history[key].append(value)
        history["overlap"].append(loss_overlap.item())
        if masks is not None:
            keep_a, keep_b = masks.keep_fraction()
            history["keep_a"].append(keep_a)
            history["keep_b"].append(keep_b)
    return history


def _batch_loss(
    model: Disentangler,
    bottom: BottomStates,
    batch: torch.Tensor,
    labels: tuple[torch.Tensor, torch.Tensor] | None,
    config: TrainConfig,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. 9 without the overlap term on the ``(n, 3)`` triplets ``batch``: the weighted
    total, the triplet loss and the classification loss (means over the batch)."""
    flat = batch.T.reshape(-1)  # x0 of every triplet, then x1, then x2
    hidden, attention = bottom.batch(flat, device)
    z_a, z_b = model(hidden, attention)
    n = len(batch)
    loss_triplet = disentangled_triplet_loss(
        z_a.view(3, n, -1), z_b.view(3, n, -1), config.margin, normalize=config.normalize
    )
    loss = config.triplet * loss_triplet
    loss_cls = torch.zeros(())
    if labels is not None:
        y_a, y_b = (y[flat].to(device) for y in labels)
        loss_cls = classification_loss(model.heads[0](z_a), y_a, model.heads[1](z_b), y_b)
        loss = loss + config.cls * loss_cls
        if model.adversaries is not None:
            ce = nn.functional.cross_entropy
            rev_a = reverse_gradient(z_a, config.adversary)
            rev_b = reverse_gradient(z_b, config.adversary)
            loss = loss + 0.5 * (
                ce(model.adversaries[0](rev_a), y_b) + ce(model.adversaries[1](rev_b), y_a)
            )
    return loss, loss_triplet, loss_cls


@torch.no_grad()
def embed(
    model: nn.Module, bottom: BottomStates, *, batch_size: int = 128, progress: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, H)`` vectors ``z^(a)``, ``z^(b)`` of every sentence of ``bottom`` (on the CPU)."""
    device = next(model.parameters()).device
    out_a, out_b = [], []
    for first in tqdm(
        range(0, len(bottom), batch_size), desc="embedding", disable=not progress, leave=False
    ):
        z_a, z_b = model(*bottom.batch(range(first, min(first + batch_size, len(bottom))), device))
        out_a.append(z_a.cpu())
        out_b.append(z_b.cpu())
    return torch.cat(out_a), torch.cat(out_b)


def memory_estimate(
    *,
    hidden: int,
    intermediate: int,
    heads: int,
    n_masked: int,
    n_params: int,
    max_tokens: int,
    batch_size: int,
    micro_batch: int | None = None,
    n_models_kept: int = 1,
    eval_batch: int = 128,
    bottom_batch: int = 64,
) -> dict[str, int]:
    """Peak device memory of the masking experiments, part by part (bytes, float32), for
    :func:`utils.memory.report_memory`: arithmetic from the sizes, not a measurement.

    Parameters
    ----------
    hidden, intermediate, heads
        The encoder's sizes (768, 3072, 12 for BERT-base).
    n_masked
        Masked (or finetuned) top layers; each holds ``4 H^2 + 2 H I`` weights, as many
        weight-mask entries per factor.
    n_params
        The encoder's parameters.
    max_tokens
        The longest input in sub-tokens (a batch is padded to its longest).
    batch_size, micro_batch
        Triplets per step, and per forward/backward pass (:func:`train_disentangler`;
        ``None``: the whole batch).
    n_models_kept
        Trained two-stream models held at once (each: two factors' mask scores or layer
        copies of the top layers).
    eval_batch, bottom_batch
        Sentences per batch of :func:`embed` and :func:`utils.frozen_bottom.encode_bottom`.

    Returns
    -------
    dict
        The encoder, the trained models held, and the largest of the phases that never
        overlap (a training step, an evaluation batch, a batch of the bottom layers): their
        sum is the estimated peak.

    Notes
    -----
    The activations a masked layer keeps for the backward pass are counted as
    ``12 H + 3 I + heads * T`` floats per token (the inputs of its six maps, the attention's
    query, key, value and output, two LayerNorm inputs, the feed-forward's pre-activation,
    and the attention probabilities where the kernel materialises them), for each factor:
    both factors' passes are alive until the backward pass.
    """
    top = n_masked * (4 * hidden * hidden + 2 * hidden * intermediate)
    piece = micro_batch or batch_size
    per_token = 12 * hidden + 3 * intermediate + heads * max_tokens
    inference = 2 * hidden + intermediate + heads * max_tokens  # per token, no gradient
    phases = {  # one at a time: the peak is the largest of them
        "a training step": {
            "training: scores or weights, gradients, Adam states": tensor_bytes(4, 2, top),
            "training: masked weights kept for the backward pass": tensor_bytes(2, top),
            f"training: activations of {piece} triplets x {n_masked} layers x 2 factors": (
                tensor_bytes(2, n_masked, 3 * piece, max_tokens, per_token)
            ),
        },
        "an evaluation": {
            f"evaluation: a batch of {eval_batch} sentences": tensor_bytes(
                eval_batch, max_tokens, inference
            )
        },
        "the bottom layers": {
            f"bottom layers: a batch of {bottom_batch} sentences": tensor_bytes(
                bottom_batch, max_tokens, inference
            )
        },
    }
    largest = max(phases.values(), key=lambda parts: sum(parts.values()))
    return {
        "encoder weights": tensor_bytes(n_params),
        f"trained models kept ({n_models_kept}, two factors each)": n_models_kept
        * tensor_bytes(2, top),
        **largest,
    }
