"""Contextual Decomposition (CD) of an LSTM's hidden states, and decompositional
interdependence (Saphra & Lopez 2020, "LSTMs Compose, and Learn, Bottom-Up"; thesis Ch. 2.7
and Ch. 5).

CD (Murdoch et al. 2018) splits every hidden state of an :class:`~utils.lstm.LSTMNetwork` into
a *relevant* part, the contribution of the words in a focus set beta, and an *irrelevant*
part, the contribution of the other words and of every interaction between the two groups:

    h_t = h_t^{beta} + h_t^{not beta; beta x not beta}                          (thesis Eq. 2.13)

This module follows the authors' implementation (their fork of ``acd``, ``cd_lstm`` and
``through_lstm``) exactly:

* the pre-activations of the input, forget and candidate gates are split into a relevant part,
  an irrelevant part and the bias, and each gate is linearised by a Shapley split over the
  three with the bias always present (:func:`shapley_three`, thesis Eq. 2.16 with its typo
  corrected);
* the cell update distributes the products of those parts; the bias x bias term is relevant
  when the current word is in focus (first layer only; upper layers call it irrelevant);
* the output gate is *not* decomposed: it multiplies both parts;
* ``tanh(c)`` is split by a two-way Shapley split with a zero baseline (:func:`shapley_tanh`);
* the focus is any set of positions (a span ``start <= t <= stop`` is inclusive); upper
  layers take the relevant and irrelevant parts of the layer below as their two inputs.

Every row of a batch is one (sequence, focus set) pair and every position is decomposed in
the same pass. Relevant and irrelevant parts always sum to the true hidden state (tested to
1e-5); the relevant logits are ``W_dec h^beta`` without the decoder bias.

Decompositional interdependence (Eq. 2 of the paper) measures how far two disjoint word sets
A and B interact in the state at step ``t``:

    DI_t(A, B) = || h_t^{A u B} - (h_t^A + h_t^B) ||_2 / || h_t^{A u B} ||_2 .
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from utils.lstm import LSTMNetwork

Activation = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Decomposition:
    """Relevant and irrelevant parts of every hidden state.

    Attributes
    ----------
    relevant, irrelevant
        ``(n_layers, B, T, H)``, same layout as the hidden states of
        :meth:`LSTMNetwork.unrolled`; their sum is the true hidden state.
    """

    relevant: torch.Tensor
    irrelevant: torch.Tensor


def shapley_three(
    a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, activation: Activation
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split ``activation(a + b + c)`` into the contributions of ``a``, ``b`` and the bias ``c``.

    ``c`` is always present; ``a`` and ``b`` get their Shapley values over the two orders in
    which they can join it (the authors' ``propagate_three``):

        A = [(act(a + c) - act(c)) + (act(a + b + c) - act(b + c))] / 2
        B = [(act(b + c) - act(c)) + (act(a + b + c) - act(a + c))] / 2
        C = act(c)

    so that ``A + B + C = act(a + b + c)`` exactly.
    """
    act_c, act_abc = activation(c), activation(a + b + c)
    act_ac, act_bc = activation(a + c), activation(b + c)
    return (
        0.5 * ((act_ac - act_c) + (act_abc - act_bc)),
        0.5 * ((act_bc - act_c) + (act_abc - act_ac)),
        act_c,
    )


def shapley_tanh(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two-way Shapley split of ``tanh(a + b)`` with a zero baseline (``propagate_tanh_two``)."""
    both = torch.tanh(a + b)
    return 0.5 * (torch.tanh(a) + both - torch.tanh(b)), 0.5 * (
        torch.tanh(b) + both - torch.tanh(a)
    )


def span_focus(length: int, starts: torch.Tensor, stops: torch.Tensor) -> torch.Tensor:
    """``(B, length)`` bool focus masks of the inclusive spans ``starts[b] <= t <= stops[b]``."""
    starts, stops = torch.as_tensor(starts), torch.as_tensor(stops)
    if starts.shape != stops.shape or starts.ndim != 1:
        raise ValueError(f"starts and stops must be (B,), got {starts.shape} and {stops.shape}")
    if (starts > stops).any() or (starts < 0).any() or (stops >= length).any():
        raise ValueError(f"spans must satisfy 0 <= start <= stop < {length}")
    t = torch.arange(length)
    return (t >= starts[:, None]) & (t <= stops[:, None])


class _LayerState:
    """Relevant and irrelevant hidden and cell states ``(B, H)`` of one layer during CD."""

    def __init__(self, batch: int, hidden: int, like: torch.Tensor) -> None:
        zeros = like.new_zeros(batch, hidden)
        self.rel_h = self.irr_h = self.rel_c = self.irr_c = zeros


def _decompose_step(
    weights: tuple[torch.Tensor, ...],
    rel_in: torch.Tensor,
    irr_in: torch.Tensor,
    state: _LayerState,
    in_focus: torch.Tensor,
) -> None:
    """CD through one LSTM layer for one step, whose input is split into ``rel_in + irr_in``
    ``(B, D)``; ``in_focus`` ``(B, 1)`` bool: the bias x bias term of the cell update counts as
    relevant. Updates ``state`` in place."""
    w, b_i, b_f, b_g, b_o, v_i, v_f, v_g, v_o = weights
    # input contributions, gates in PyTorch's order i, f, g, o
    rel_x, irr_x = rel_in @ w.T, irr_in @ w.T
    rel_i, rel_f, rel_g, rel_o = rel_x.chunk(4, dim=-1)
    irr_i, irr_f, irr_g, irr_o = irr_x.chunk(4, dim=-1)
    rel_h, irr_h, rel_c, irr_c = state.rel_h, state.irr_h, state.rel_c, state.irr_c
    rci, ici, bci = shapley_three(rel_i + rel_h @ v_i.T, irr_i + irr_h @ v_i.T, b_i, torch.sigmoid)
    rcg, icg, bcg = shapley_three(rel_g + rel_h @ v_g.T, irr_g + irr_h @ v_g.T, b_g, torch.tanh)
    rcf, icf, bcf = shapley_three(rel_f + rel_h @ v_f.T, irr_f + irr_h @ v_f.T, b_f, torch.sigmoid)
    bias_term = bci * bcg
    new_rel_c = rci * (rcg + bcg) + bci * rcg + torch.where(in_focus, bias_term, 0.0)
    new_irr_c = ici * (rcg + icg + bcg) + (rci + bci) * icg
    new_irr_c = new_irr_c + torch.where(in_focus, 0.0, bias_term)
    new_rel_c = new_rel_c + (rcf + bcf) * rel_c
    new_irr_c = new_irr_c + (rcf + icf + bcf) * irr_c + icf * rel_c
    # the output gate is not decomposed: it sees the whole input and the whole state
    o = torch.sigmoid((rel_o + irr_o) + (rel_h + irr_h) @ v_o.T + b_o)
    tanh_rel, tanh_irr = shapley_tanh(new_rel_c, new_irr_c)
    state.rel_c, state.irr_c = new_rel_c, new_irr_c
    state.rel_h, state.irr_h = o * tanh_rel, o * tanh_irr


def _decomposed_steps(model: LSTMNetwork, tokens: torch.Tensor, focus: torch.Tensor, dtype):
    """Yield ``(t, states)`` for every step: the ``_LayerState`` of every layer after step ``t``
    (updated in place by the next step). Embeds one step at a time, so nothing of size
    ``(B, T, H)`` is held."""
    weights = []
    for layer in range(model.n_layers):
        w, v, b = (p.detach().to(dtype) for p in model.gates(layer))
        weights.append((w, *b.chunk(4), *v.chunk(4)))
    batch, steps = tokens.shape
    like = model.decoder.weight.detach().to(dtype)
    states = [_LayerState(batch, model.hidden_dim, like) for _ in range(model.n_layers)]
    no_focus = torch.zeros(batch, 1, dtype=torch.bool, device=tokens.device)
    for t in range(steps):
        x = model.embedding(tokens[:, t]).to(dtype)
        mask = focus[:, t, None]
        rel, irr = x * mask, x * ~mask
        for layer, (layer_weights, state) in enumerate(zip(weights, states)):
            # bias x bias goes to the relevant part at focus steps of the first layer only
            _decompose_step(layer_weights, rel, irr, state, mask if layer == 0 else no_focus)
            rel, irr = state.rel_h, state.irr_h
        yield t, states


@torch.no_grad()
def contextual_decomposition(
    model: LSTMNetwork,
    tokens: torch.Tensor,
    focus: torch.Tensor,
    *,
    dtype: torch.dtype = torch.float64,
) -> Decomposition:
    """Decompose every hidden state of ``model`` on ``tokens`` with respect to ``focus``.

    Parameters
    ----------
    model
        An :class:`~utils.lstm.LSTMNetwork` (any number of layers), used in eval mode.
    tokens
        ``(B, T)`` input ids, starting from a zero state. Rows may repeat one sequence with
        different focus sets; trailing padding does not affect earlier positions.
    focus
        ``(B, T)`` bool, the positions in focus (the set beta) of each row.
    dtype
        Precision of the decomposition (the authors use float64).

    Returns
    -------
    Decomposition
        ``(n_layers, B, T, H)`` relevant and irrelevant parts. (To read a few positions only,
        :func:`decomposition_at` holds no ``(B, T, H)`` tensor.)
    """
    tokens, focus = _check_focus(model, tokens, focus)
    shape = (model.n_layers, *tokens.shape, model.hidden_dim)
    relevant = torch.empty(shape, dtype=dtype, device=tokens.device)
    irrelevant = torch.empty(shape, dtype=dtype, device=tokens.device)
    for t, states in _decomposed_steps(model, tokens, focus, dtype):
        for layer, state in enumerate(states):
            relevant[layer, :, t], irrelevant[layer, :, t] = state.rel_h, state.irr_h
    return Decomposition(relevant, irrelevant)


def _check_focus(
    model: LSTMNetwork, tokens: torch.Tensor, focus: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be (batch, steps), got shape {tuple(tokens.shape)}")
    if focus.shape != tokens.shape or focus.dtype != torch.bool:
        raise ValueError(
            f"focus must be a bool tensor shaped like tokens {tuple(tokens.shape)}, "
            f"got {focus.dtype} {tuple(focus.shape)}"
        )
    device = model.decoder.weight.device
    return tokens.to(device), focus.to(device)


@torch.no_grad()
def decomposition_at(
    model: LSTMNetwork,
    tokens: torch.Tensor,
    focus: torch.Tensor,
    position: torch.Tensor,
    *,
    dtype: torch.dtype = torch.float64,
) -> Decomposition:
    """:func:`contextual_decomposition` read at one step per row, ``position`` ``(B,)``:
    ``(n_layers, B, H)`` relevant and irrelevant parts, equal to
    ``contextual_decomposition(...).relevant[:, rows, position]``. The pass stops after the
    last position asked for and keeps only ``(B, H)`` states per layer, so its memory does not
    grow with the length of the rows."""
    tokens, focus = _check_focus(model, tokens, focus)
    position = torch.as_tensor(position, device=tokens.device)
    if position.shape != (len(tokens),):
        raise ValueError(f"position must be ({len(tokens)},), got {tuple(position.shape)}")
    if len(tokens) and ((position < 0).any() or (position >= tokens.shape[1]).any()):
        raise ValueError(f"positions must lie in [0, {tokens.shape[1]})")
    shape = (model.n_layers, len(tokens), model.hidden_dim)
    relevant = torch.zeros(shape, dtype=dtype, device=tokens.device)
    irrelevant = torch.zeros(shape, dtype=dtype, device=tokens.device)
    last = int(position.max()) if len(tokens) else -1
    for t, states in _decomposed_steps(model, tokens[:, : last + 1], focus[:, : last + 1], dtype):
        here = position == t
        if here.any():
            for layer, state in enumerate(states):
                relevant[layer, here] = state.rel_h[here]
                irrelevant[layer, here] = state.irr_h[here]
    return Decomposition(relevant, irrelevant)


def relevant_logits(model: LSTMNetwork, hidden: torch.Tensor) -> torch.Tensor:
    """Logits of a decomposed top-layer state, ``W_dec h^beta`` (no decoder bias), so that
    ``softmax`` of them is the CD prediction ``P(Y | x_beta)``."""
    return hidden @ model.decoder.weight.detach().to(hidden).T


def interdependence(
    model: LSTMNetwork,
    tokens: torch.Tensor,
    focus_a: torch.Tensor,
    focus_b: torch.Tensor,
    position: torch.Tensor,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Decompositional interdependence ``DI_t(A, B)`` (Eq. 2) for every row and layer.

    Parameters
    ----------
    tokens
        ``(B, T)`` input ids.
    focus_a, focus_b
        ``(B, T)`` bool, disjoint word sets A and B of each row.
    position
        ``(B,)`` the step ``t`` to read (the paper uses ``max(idx(A), idx(B))``).

    Returns
    -------
    torch.Tensor
        ``(n_layers, B)``: ``||h^{AuB} - h^A - h^B|| / ||h^{AuB}||`` at ``position``, for the
        hidden state of each LSTM layer (the last one is what the decoder reads). Computed by
        :func:`decomposition_at`: memory ``(B, H)`` per layer, whatever the rows' length.
    """
    if focus_a.shape != tokens.shape or focus_b.shape != tokens.shape:
        raise ValueError("focus_a and focus_b must be shaped like tokens")
    if (focus_a & focus_b).any():
        raise ValueError("the word sets A and B must be disjoint")
    position = torch.as_tensor(position, device=tokens.device)
    if position.shape != (len(tokens),):
        raise ValueError(f"position must be ({len(tokens)},), got {tuple(position.shape)}")
    if (position < 0).any() or (position >= tokens.shape[1]).any():
        raise ValueError(f"positions must lie in [0, {tokens.shape[1]})")
    parts = decomposition_at(
        model,
        tokens.repeat(3, 1),
        torch.cat([focus_a | focus_b, focus_a, focus_b]),
        position.repeat(3),
        dtype=dtype,
    ).relevant
    h_union, h_a, h_b = parts.unflatten(1, (3, len(tokens))).unbind(1)
    return (h_union - h_a - h_b).norm(dim=-1) / h_union.norm(dim=-1)
