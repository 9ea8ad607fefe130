import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.plotting import layer_curves, text_heatmap  # noqa: E402
from utils.widgets import PageFigure, defaults_of, explore, page_grid  # noqa: E402


def test_explore_draws_defaults_then_returns_a_panel(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    calls = []

    def draw(layer: int = 2, unit: int = 5, label: str = "x"):
        calls.append((layer, unit, label))
        plt.figure()

    panel = explore(draw, page_frames=1, layer=(0, 6), unit=(0, 383))
    assert calls == [(2, 5, "x")]  # the static figure; the panel draws nothing until a change
    assert [type(s).__name__ for s in shown] == ["PageFigure"]
    controls = panel.children[0].children
    assert [(w.description, w.value) for w in controls] == [("layer", 2), ("unit", 5)]
    assert not any(w.continuous_update for w in controls)  # redraw on release only
    controls[0].value = 4
    controls[1].value = 7
    assert calls[1:] == [(4, 5, "x"), (4, 7, "x")]
    plt.close("all")


def test_page_grid_fits_the_frame_budget_and_keeps_the_defaults():
    grid = page_grid(
        {"direction": ["a", "b"], "step": (0, 100), "scale": (0.05, 2.0, 0.05)},
        {"direction": "b", "step": 37, "scale": 0.5},
        max_frames=24,
    )
    assert list(grid) == ["direction", "step", "scale"]
    assert [label for label, _ in grid["direction"]] == ["a", "b"]
    assert 37 in [v for _, v in grid["step"]] and 0.5 in [v for _, v in grid["scale"]]
    assert all(round(v / 0.05, 6).is_integer() for _, v in grid["scale"])  # on the slider's steps
    assert len(grid["direction"]) * len(grid["step"]) * len(grid["scale"]) <= 24
    # a menu too long for the page stays at its default there (live in Jupyter only)
    assert list(page_grid({"unit": list(range(40)), "k": (1, 8)}, {"unit": 0, "k": 3})) == ["k"]
    # a control with one setting is no control
    one = page_grid({"model": ["pretrained"], "layer": (5, 5), "k": (1, 8)},
                    {"model": "pretrained", "layer": 5, "k": 3})  # fmt: skip
    assert list(one) == ["k"]


def test_page_figure_switches_between_precomputed_frames(monkeypatch):
    calls = []

    def draw(mode: str = "every", k: int = 3):
        calls.append((mode, k))
        plt.figure()
        plt.plot([0, k], [0, 1 if mode == "every" else -1])
        plt.xlabel("k")

    grid = page_grid({"mode": ["single", "every"], "k": (1, 5)}, {"mode": "every", "k": 3})
    figure = PageFigure(draw, {"mode": "every", "k": 3}, grid, kernel_only=["n_units"])
    n_k = len(grid["k"])
    assert len(figure.frames) == len(calls) == 2 * n_k
    assert calls[figure.start[0] * n_k + figure.start[1]] == ("every", 3)  # row-major frames
    assert len(set(figure.frames)) == len(figure.frames)
    bundle = figure._repr_mimebundle_()
    page = bundle["text/html"]
    assert page.count("<select") == 1 and page.count('type="range"') == 1
    assert figure.frames[figure.start[0] * n_k + figure.start[1]] in page.split("<script>")[0]
    assert "Needs a kernel: n_units" in page and bundle["image/png"]
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
