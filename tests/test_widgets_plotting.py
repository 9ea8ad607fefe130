import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.plotting import layer_curves, text_heatmap  # noqa: E402
from utils.widgets import defaults_of, explore  # noqa: E402


def test_explore_draws_defaults_then_returns_a_panel():
    calls = []

    def draw(layer: int = 2, unit: int = 5, label: str = "x"):
        calls.append((layer, unit, label))
        plt.figure()

    panel = explore(draw, layer=(0, 6), unit=(0, 383))
    assert calls == [(2, 5, "x")]  # the static figure; the panel draws nothing until a change
    controls = panel.children[0].children
    assert [(w.description, w.value) for w in controls] == [("layer", 2), ("unit", 5)]
    assert not any(w.continuous_update for w in controls)  # redraw on release only
    controls[0].value = 4
    controls[1].value = 7
    assert calls[1:] == [(4, 5, "x"), (4, 7, "x")]
    plt.close("all")


def test_explore_rejects_bad_functions():
    with pytest.raises(ValueError, match="default values"):
        defaults_of(lambda layer: None)
    with pytest.raises(ValueError, match="no parameters"):
        explore(lambda layer=0: None, neuron=(0, 3))


def test_figures_draw_and_check_shapes():
    fig, (a, b) = plt.subplots(1, 2)
    text_heatmap(a, [["a", "b"], ["c"]], [[0.5, -1.0], [0.0]])
    assert len(a.texts) == 3
    with pytest.raises(ValueError, match="2 words but 1 values"):
        text_heatmap(a, [["a", "b"]], [[0.5]])
    layer_curves(b, {"probe": [0.5, 0.7]}, ylabel="accuracy", baselines={"majority": 0.3})
    assert b.get_ylabel() == "accuracy" and b.get_xlabel().startswith("layer")
    plt.close(fig)
