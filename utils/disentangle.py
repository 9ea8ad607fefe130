"""Two representations of one text, one per factor: the losses, the models and their training.

After Zhang, van de Meent & Wallace, "Disentangling Representations of Text by Masking
Transformers". A triplet ``(x0, x1, x2)`` has ``x1`` similar to ``x0`` in factor *a* and
``x2`` similar to ``x0`` in factor *b*. A model gives every text two vectors ``z^(a)``,
``z^(b)`` and is trained with Eq. 9,

    L = lambda_triplet L_triplet + lambda_overlap L_overlap (+ lambda_cls L_cls),

where ``L_triplet`` is Eq. 3-5 (margin 2), ``L_cls`` Eq. 6-7 (linear heads) and
``L_overlap`` Eq. 8 made differentiable and normalised. The models (:class:`Disentangler`)
differ only in where the two vectors come from: the frozen top layers under two mask sets
(:class:`MaskedStreams`), or two finetuned copies of them (:class:`FinetunedStreams`, the
*Finetuned* baseline, with a gradient-reversal adversary for the *Adversarial* one). Both run
on the cached output of the frozen bottom layers (:class:`utils.masks.BottomStates`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from utils.masks import (
    BottomStates,
    FactorMasks,
    apply_masks,
    mean_pool,
    run_layers,
)
from utils.memory import tensor_bytes

# ---- losses ---------------------------------------------------------------------------------


def triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 2.0,
    *,
    normalize: bool = False,
) -> torch.Tensor:
    """Eq. 3: ``mean max(||z0 - z+|| - ||z0 - z-|| + margin, 0)`` over the batch (Euclidean,
    not squared, margin 2 in the paper).

    With ``normalize`` the vectors are first scaled to unit length, so that distances lie in
    ``[0, 2]`` whatever the encoder's scale: with the paper's margin of 2 the hinge is then
    active on every triplet (the margin is relative to the largest possible distance), where
    raw distances of a few units can leave it inactive from the first step.
    """
    if not anchor.shape == positive.shape == negative.shape:
        raise ValueError(
            f"triplet shapes differ: {tuple(anchor.shape)}, {tuple(positive.shape)}, "
            f"{tuple(negative.shape)}"
        )
    if normalize:
        anchor, positive, negative = (
            nn.functional.normalize(v, dim=-1) for v in (anchor, positive, negative)
        )
    near = (anchor - positive).norm(dim=-1)
    far = (anchor - negative).norm(dim=-1)
    return torch.relu(near - far + margin).mean()


def disentangled_triplet_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, margin: float = 2.0, *, normalize: bool = False
) -> torch.Tensor:
    """Eq. 5: the mean of Eq. 3 (factor *a*: ``x1`` positive, ``x2`` negative) and Eq. 4
    (factor *b*: ``x2`` positive, ``x1`` negative). ``z_a``, ``z_b``: ``(3, B, H)``, the
    vectors of ``(x0, x1, x2)``."""
    if z_a.ndim != 3 or z_a.shape[0] != 3 or z_a.shape != z_b.shape:
        raise ValueError(
            f"z_a and z_b must both be (3, B, H), got {tuple(z_a.shape)} and {tuple(z_b.shape)}"
        )
    loss_a = triplet_loss(z_a[0], z_a[1], z_a[2], margin, normalize=normalize)
    loss_b = triplet_loss(z_b[0], z_b[2], z_b[1], margin, normalize=normalize)
    return 0.5 * (loss_a + loss_b)


def classification_loss(
    logits_a: torch.Tensor, y_a: torch.Tensor, logits_b: torch.Tensor, y_b: torch.Tensor
) -> torch.Tensor:
    """Eq. 6-7: the mean of the two heads' cross-entropies."""
    ce = nn.functional.cross_entropy
    return 0.5 * (ce(logits_a, y_a) + ce(logits_b, y_b))


def overlap_loss(masks: FactorMasks) -> torch.Tensor:
    """Eq. 8, differentiable and normalised: the fraction of entries kept by both factors,
    averaged over the masked layers.

    The paper counts ``1[M*a + M*b > 1]``, whose gradient is zero; on binary masks it equals
    the product ``M*a M*b``, whose straight-through gradient is ``M*b`` (resp. ``M*a``). The
    count is divided by each layer's number of entries so that the term is O(1) like the
    others (unnormalised it is ~10^6 per BERT layer).
    """
    if masks.n_factors < 2:
        raise ValueError("the overlap loss needs two mask sets")
    both: dict[int, torch.Tensor] = {}
    size: dict[int, int] = {}
    for name in masks.names:
        mask = masks.binary(name)
        layer = masks.layer_of(name)
        both[layer] = both.get(layer, 0.0) + (mask[0] * mask[1]).sum()
        size[layer] = size.get(layer, 0) + mask[0].numel()
    return torch.stack([both[layer] / size[layer] for layer in both]).mean()


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward, ``-scale`` times the gradient backward (Ganin & Lempitsky 2015)."""
    return _ReverseGradient.apply(x, scale)


# ---- where the two representations come from ------------------------------------------------


class MaskedStreams(nn.Module):
    """``z^(a)``, ``z^(b)``: the frozen ``layers`` run under each factor's masks, mean-pooled.

    Only ``masks`` has parameters; ``layers`` is held as a plain attribute, frozen here
    (``requires_grad_(False)``: no gradient is computed for the encoder's weights) and never
    saved with the streams.
    """

    def __init__(self, layers: nn.ModuleList, masks: FactorMasks) -> None:
        super().__init__()
        self.__dict__["layers"] = layers.requires_grad_(False)
        self.masks = masks

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        out = []
        for factor in range(2):
            with apply_masks(self.layers, self.masks, factor):
                out.append(
                    mean_pool(run_layers(self.layers, hidden, attention_mask), attention_mask)
                )
        return out[0], out[1]


class FinetunedStreams(nn.Module):
    """``z^(a)``, ``z^(b)`` from two trainable copies of ``layers`` (one per factor).

    With ``keep`` (a magnitude-pruning pattern from :func:`utils.masks.magnitude_keep`) each
    copy runs under that fixed pattern: pruned weights get no gradient and stay pruned
    (*Pruned + Finetuned*).
    """

    def __init__(
        self, layers: nn.ModuleList, keep: Mapping[str, torch.Tensor] | None = None
    ) -> None:
        super().__init__()
        self.copies = nn.ModuleList([copy.deepcopy(layers) for _ in range(2)])
        for param in self.copies.parameters():
            param.requires_grad_(True)
        self.pruning = None
        if keep is not None:
            self.pruning = FactorMasks(layers, "weights", n_factors=1).start_from(keep)
            self.pruning.requires_grad_(False)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        out = []
        for layers in self.copies:
            if self.pruning is None:
                top = run_layers(layers, hidden, attention_mask)
            else:
                with apply_masks(layers, self.pruning, 0):
                    top = run_layers(layers, hidden, attention_mask)
            out.append(mean_pool(top, attention_mask))
        return out[0], out[1]


class Disentangler(nn.Module):
    """Two-stream encoder plus the linear heads ``C^(a)``, ``C^(b)`` of Eq. 6 and, optionally,
    adversaries that read the *other* factor through a reversed gradient.

    Parameters
    ----------
    streams
        A :class:`MaskedStreams` or :class:`FinetunedStreams`.
    hidden_size
        Size of ``z``.
    n_classes
        ``(classes of a, classes of b)``, or ``None`` when no labels exist (no heads).
    adversary_width
        Hidden units of each adversary MLP; 0 for none.
    """

    def __init__(
        self,
        streams: nn.Module,
        hidden_size: int,
        n_classes: tuple[int, int] | None = None,
        adversary_width: int = 0,
    ) -> None:
        super().__init__()
        self.streams = streams
        self.heads = None
        self.adversaries = None
        if n_classes is not None:
            self.heads = nn.ModuleList([nn.Linear(hidden_size, c) for c in n_classes])
            if adversary_width:
                # adversary 0 reads z^(a) and predicts b; adversary 1 reads z^(b), predicts a
                self.adversaries = nn.ModuleList(
                    nn.Sequential(
                        nn.Linear(hidden_size, adversary_width),
                        nn.ReLU(),
                        nn.Linear(adversary_width, c),
                    )
                    for c in reversed(n_classes)
                )
        elif adversary_width:
            raise ValueError("adversaries need labels: give n_classes")

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        return self.streams(hidden, attention_mask)

    @property
    def masks(self) -> FactorMasks | None:
        return getattr(self.streams, "masks", None)


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
        Sentences per batch of :func:`embed` and :func:`utils.masks.encode_bottom`.

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


# ---- evaluation -----------------------------------------------------------------------------


def group_accuracies(
    predicted: torch.Tensor, target: torch.Tensor, other: torch.Tensor
) -> dict[tuple[int, int], float]:
    """Accuracy in each ``(target class, other-factor class)`` group (Figure 2's groups)."""
    correct = (predicted == target).float()
    out = {}
    for t in target.unique().tolist():
        for o in other.unique().tolist():
            cell = (target == t) & (other == o)
            if cell.any():
                out[(t, o)] = correct[cell].mean().item()
    return out


def mlp_attacker(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    hidden: int = 64,
    steps: int = 300,
    lr: float = 5e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> nn.Module:
    """A one-hidden-layer ReLU MLP trained full-batch with Adam on ``(x, y)`` (the paper's
    "single layer MLP" attacker; sklearn's ``MLPClassifier((64,))`` in PyTorch)."""
    gen = torch.Generator().manual_seed(seed)
    n_classes = int(y.max()) + 1
    net = nn.Sequential(nn.Linear(x.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
    with torch.no_grad():
        for layer in (net[0], net[2]):
            bound = layer.in_features**-0.5
            layer.weight.copy_((torch.rand(layer.weight.shape, generator=gen) * 2 - 1) * bound)
            layer.bias.copy_((torch.rand(layer.bias.shape, generator=gen) * 2 - 1) * bound)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net.eval()


ATTACKERS = ("mlp", "mlp_std", "logreg")


def leakage(
    z: torch.Tensor | np.ndarray,
    y_other: torch.Tensor | np.ndarray,
    *,
    attacker: str = "mlp",
    seed: int = 0,
) -> float:
    """Accuracy of an attacker predicting the non-targeted factor from ``z`` (Elazar &
    Goldberg 2018): trained on the first half of the (uncorrelated) set, tested on the second.

    ``attacker="mlp"`` is a one-hidden-layer MLP (64 units) on the raw features
    (:func:`mlp_attacker`, a fixed schedule of 300 Adam steps), as the paper's "single layer
    MLP"; it is *not* invariant to the scale of ``z``, so a representation that is merely
    shrunk can look as if it leaked less. ``"mlp_std"`` is the same MLP on features
    standardised with the training half's mean and deviation, trained for 300 steps with
    weight decay (its training loss converges on these sizes); ``"logreg"`` a logistic
    regression on standardised features. The two standardised attackers give the same
    accuracy for ``z`` and ``c * z``.
    """
    z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y_other), dtype=torch.long)
    if len(z) != len(y) or len(z) < 4:
        raise ValueError(f"need as many labels as vectors (>= 4): {len(z)} vs {len(y)}")
    if attacker not in ATTACKERS:
        raise ValueError(f"unknown attacker {attacker!r}: choose one of {ATTACKERS}")
    if not torch.isfinite(z).all():
        raise ValueError("the representation holds NaN or infinite values")
    half = len(z) // 2
    with _single_thread():  # a problem this small runs fastest (and steadiest) on one core
        if attacker in ("mlp", "mlp_std"):
            train, test = z[:half], z[half:]
            options = {}
            if attacker == "mlp_std":
                mean, std = train.mean(0), train.std(0).clamp_min(1e-8)
                train, test = (train - mean) / std, (test - mean) / std
                options = {"steps": 300, "lr": 1e-3, "weight_decay": 1e-2}
            with torch.enable_grad():
                net = mlp_attacker(train, y[:half], seed=seed, **options)
            with torch.no_grad():
                predicted = net(test).argmax(1)
            return float((predicted == y[half:]).float().mean())
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(z[:half].numpy(), y[:half].numpy())
        return float(model.score(z[half:].numpy(), y[half:].numpy()))


@contextmanager
def _single_thread() -> Iterator[None]:
    """Run PyTorch and the BLAS/OpenMP libraries on one thread inside the block."""
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)
