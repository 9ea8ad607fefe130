import math

import pytest
import torch

from utils.decomposition import (
    contextual_decomposition,
    decomposition_at,
    interdependence,
    relevant_logits,
    shapley_three,
    span_focus,
)
from utils.lstm import LSTMNetwork

# Reference: one sequence, one focus set, one step and one gate vector at a time, written
# after the authors' cd_lstm / through_lstm (acd fork, float64).


def _three(a, b, c, act):
    return (
        0.5 * (act(a + c) - act(c) + act(a + b + c) - act(b + c)),
        0.5 * (act(b + c) - act(c) + act(a + b + c) - act(a + c)),
        act(c),
    )


def naive_cd(
    model: LSTMNetwork, tokens: list[int], focus: set[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(n_layers, T, H)`` relevant and irrelevant hidden states of one sequence."""
    sig, tanh = torch.sigmoid, torch.tanh
    with torch.no_grad():
        words = model.embedding(torch.tensor(tokens)).double()
        rel_in = [
            words[t] if t in focus else torch.zeros_like(words[t]) for t in range(len(tokens))
        ]
        irr_in = [
            torch.zeros_like(words[t]) if t in focus else words[t] for t in range(len(tokens))
        ]
        out_rel, out_irr = [], []
        for layer in range(model.n_layers):
            w, v, b = (p.double() for p in model.gates(layer))
            w_i, w_f, w_g, w_o = w.chunk(4)
            v_i, v_f, v_g, v_o = v.chunk(4)
            b_i, b_f, b_g, b_o = b.chunk(4)
            hidden = v.shape[1]
            rel_h, irr_h = torch.zeros(hidden).double(), torch.zeros(hidden).double()
            rel_c, irr_c = torch.zeros(hidden).double(), torch.zeros(hidden).double()
            layer_rel, layer_irr = [], []
            for t in range(len(tokens)):
                rci, ici, bci = _three(
                    v_i @ rel_h + w_i @ rel_in[t], v_i @ irr_h + w_i @ irr_in[t], b_i, sig
                )
                rcg, icg, bcg = _three(
                    v_g @ rel_h + w_g @ rel_in[t], v_g @ irr_h + w_g @ irr_in[t], b_g, tanh
                )
                rcf, icf, bcf = _three(
                    v_f @ rel_h + w_f @ rel_in[t], v_f @ irr_h + w_f @ irr_in[t], b_f, sig
                )
                new_rel = rci * (rcg + bcg) + bci * rcg
                new_irr = ici * (rcg + icg + bcg) + (rci + bci) * icg
                if layer == 0 and t in focus:
                    new_rel = new_rel + bci * bcg
                else:
                    new_irr = new_irr + bci * bcg
                new_rel = new_rel + (rcf + bcf) * rel_c
                new_irr = new_irr + (rcf + icf + bcf) * irr_c + icf * rel_c
                o = sig(w_o @ (rel_in[t] + irr_in[t]) + v_o @ (rel_h + irr_h) + b_o)
                both = tanh(new_rel + new_irr)
                rel_h = o * 0.5 * (tanh(new_rel) + both - tanh(new_irr))
                irr_h = o * 0.5 * (tanh(new_irr) + both - tanh(new_rel))
                rel_c, irr_c = new_rel, new_irr
                layer_rel.append(rel_h)
                layer_irr.append(irr_h)
            rel_in, irr_in = layer_rel, layer_irr
            out_rel.append(torch.stack(layer_rel))
            out_irr.append(torch.stack(layer_irr))
    return torch.stack(out_rel), torch.stack(out_irr)


def small_model(n_layers: int = 2, seed: int = 0) -> LSTMNetwork:
    torch.manual_seed(seed)
    model = LSTMNetwork(
        vocab_size=20, n_outputs=20, embedding_dim=6, hidden_dim=5, n_layers=n_layers
    ).eval()
    with torch.no_grad():  # larger weights than the default init, to exercise the nonlinearities
        for p in model.lstm.parameters():
            p.mul_(3.0)
    return model


def test_shapley_three_sums_to_the_activation():
    a, b, c = torch.randn(3, 100, dtype=torch.float64)
    for act in (torch.sigmoid, torch.tanh):
        parts = shapley_three(a, b, c, act)
        torch.testing.assert_close(sum(parts), act(a + b + c))


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_relevant_plus_irrelevant_is_the_hidden_state(n_layers):
    model = small_model(n_layers)
    tokens = torch.randint(0, 20, (4, 9))
    focus = span_focus(9, torch.tensor([0, 2, 5, 8]), torch.tensor([0, 4, 7, 8]))
    parts = contextual_decomposition(model, tokens, focus)
    _, hidden, _ = model.unrolled(tokens)
    assert parts.relevant.shape == hidden.shape
    assert torch.allclose(parts.relevant + parts.irrelevant, hidden.double(), atol=1e-5)


def test_batched_equals_the_per_sequence_loop():
    model = small_model(2)
    tokens = torch.randint(0, 20, (5, 8))
    focus = torch.rand(5, 8) < 0.3  # arbitrary, non-contiguous focus sets
    parts = contextual_decomposition(model, tokens, focus)
    for row in range(5):
        chosen = {t for t in range(8) if focus[row, t]}
        rel, irr = naive_cd(model, tokens[row].tolist(), chosen)
        torch.testing.assert_close(parts.relevant[:, row], rel, atol=1e-10, rtol=1e-8)
        torch.testing.assert_close(parts.irrelevant[:, row], irr, atol=1e-10, rtol=1e-8)


def test_full_and_empty_focus():
    model = small_model(2)
    tokens = torch.randint(0, 20, (2, 6))
    everything = contextual_decomposition(model, tokens, torch.ones(2, 6, dtype=torch.bool))
    nothing = contextual_decomposition(model, tokens, torch.zeros(2, 6, dtype=torch.bool))
    _, hidden, _ = model.unrolled(tokens)
    # first layer: all in focus leaves nothing irrelevant; nothing in focus, nothing relevant
    assert everything.irrelevant[0].abs().max() < 1e-12
    torch.testing.assert_close(everything.relevant[0], hidden[0].double())
    assert nothing.relevant.abs().max() < 1e-12


def test_hand_checked_scalar_lstm():
    """One unit, one input dimension, two steps; focus on step 0 only (float32 weights)."""
    model = LSTMNetwork(vocab_size=2, n_outputs=2, embedding_dim=1, hidden_dim=1, n_layers=1)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.tensor([[1.0], [0.5]]))
        model.lstm.weight_ih_l0.copy_(torch.tensor([[1.0], [2.0], [-1.0], [0.5]]))  # i f g o
        model.lstm.weight_hh_l0.zero_()
        model.lstm.bias_ih_l0.copy_(torch.tensor([0.5, 0.0, 0.2, 0.0]))
        model.lstm.bias_hh_l0.zero_()
    parts = contextual_decomposition(model, torch.tensor([[0, 1]]), torch.tensor([[True, False]]))
    s, th = lambda z: 1 / (1 + math.exp(-z)), math.tanh
    # step 0 (in focus): the whole cell is relevant
    c0 = s(1.5) * th(-0.8)
    assert parts.relevant[0, 0, 0, 0].item() == pytest.approx(s(0.5) * th(c0), abs=1e-7)
    # step 1 (x = 0.5 out of focus, V = 0): gates see only x and the bias
    i_irr, i_bias = s(1.0) - s(0.5), s(0.5)  # Shapley with a = 0: A = 0
    g_irr, g_bias = th(-0.3) - th(0.2), th(0.2)
    f_irr, f_bias = s(1.0) - s(0.0), s(0.0)
    rel_c = f_bias * c0
    irr_c = i_irr * (g_irr + g_bias) + i_bias * g_irr + i_bias * g_bias + f_irr * c0
    o = s(0.25)
    expected_rel = o * 0.5 * (th(rel_c) + th(rel_c + irr_c) - th(irr_c))
    assert parts.relevant[0, 0, 1, 0].item() == pytest.approx(expected_rel, abs=1e-7)


def test_interdependence_and_logits():
    model = small_model(2)
    tokens = torch.randint(0, 20, (3, 7))
    a = span_focus(7, torch.tensor([0, 1, 2]), torch.tensor([0, 1, 3]))
    b = span_focus(7, torch.tensor([2, 3, 5]), torch.tensor([4, 5, 6]))
    di = interdependence(model, tokens, a, b, torch.tensor([4, 5, 6]))
    assert di.shape == (2, 3) and (di >= 0).all()
    parts = contextual_decomposition(model, tokens, a | b)
    h_ab = parts.relevant[-1, 0, 4]
    h_a = contextual_decomposition(model, tokens, a).relevant[-1, 0, 4]
    h_b = contextual_decomposition(model, tokens, b).relevant[-1, 0, 4]
    assert di[-1, 0].item() == pytest.approx(((h_ab - h_a - h_b).norm() / h_ab.norm()).item())
    logits = relevant_logits(model, parts.relevant[-1] + parts.irrelevant[-1])
    torch.testing.assert_close(
        logits + model.decoder.bias.double(), model(tokens).double(), atol=1e-5, rtol=1e-5
    )


def test_bad_inputs_are_named():
    model = small_model(1)
    tokens = torch.randint(0, 20, (2, 5))
    with pytest.raises(ValueError, match="focus"):
        contextual_decomposition(model, tokens, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="disjoint"):
        both = torch.ones(2, 5, dtype=torch.bool)
        interdependence(model, tokens, both, both, torch.tensor([4, 4]))
    with pytest.raises(ValueError, match="spans"):
        span_focus(5, torch.tensor([3]), torch.tensor([2]))


def test_decomposition_at_equals_the_full_decomposition_and_the_loop():
    model = small_model(2)
    tokens = torch.randint(0, 20, (6, 9))
    focus = torch.rand(6, 9) < 0.3
    position = torch.tensor([0, 3, 8, 5, 5, 1])
    at = decomposition_at(model, tokens, focus, position)
    whole = contextual_decomposition(model, tokens, focus)
    rows = torch.arange(6)
    torch.testing.assert_close(at.relevant, whole.relevant[:, rows, position], atol=1e-12, rtol=0)
    torch.testing.assert_close(
        at.irrelevant, whole.irrelevant[:, rows, position], atol=1e-12, rtol=0
    )
    for row in range(6):
        chosen = {t for t in range(9) if focus[row, t]}
        rel, _ = naive_cd(model, tokens[row].tolist(), chosen)
        torch.testing.assert_close(
            at.relevant[:, row], rel[:, position[row]], atol=1e-10, rtol=1e-8
        )
