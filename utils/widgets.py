"""Widgets that also work in the built book, without a kernel.

Every widget cell of the book calls :func:`explore` with a plain drawing function. The function
is first drawn at a small grid of settings: the figure at the defaults is the static figure (what
a PDF or a search engine sees), and the whole grid ships in the page as precomputed images behind
sliders and menus that run in the browser, so a reader of the HTML can move them. Then a panel of
controls is returned for live use in Jupyter, where every value of every control is reachable;
each change redraws the figure in the panel. Re-running the cell builds a fresh panel; the drawing
function holds no state, so tests can call it directly.

The panel draws nothing while its cell runs (unlike :func:`ipywidgets.interact`, whose first
drawing into its output widget can leave a headless executor such as nbclient waiting
forever): executing a chapter never depends on a frontend.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import itertools
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

PAGE_FRAMES = 24
"""The most figures a widget precomputes for its in-page controls (each is a ~20-60 kB image)."""

_page_ids = itertools.count()


def defaults_of(draw: Callable[..., Any]) -> dict[str, Any]:
    """The keyword defaults of a drawing function; every parameter must have one."""
    params = inspect.signature(draw).parameters
    missing = [name for name, p in params.items() if p.default is inspect.Parameter.empty]
    if missing:
        raise ValueError(f"{draw.__name__} needs default values for {missing}")
    return {name: p.default for name, p in params.items()}


def _options(abbrev: Any) -> list[tuple[str, Any]] | None:
    """A menu's or checkbox's (label, value) options, or None for a slider."""
    if isinstance(abbrev, bool):
        return [("off", False), ("on", True)]
    if isinstance(abbrev, dict):
        return [(str(k), v) for k, v in abbrev.items()]
    if isinstance(abbrev, list):
        return [(str(o[0]), o[1]) if isinstance(o, tuple) else (str(o), o) for o in abbrev]
    return None


def _is_fixed(abbrev: Any) -> bool:
    """Whether a control has a single setting (a one-item menu, a slider over one value)."""
    options = _options(abbrev)
    if options is not None:
        return len(options) < 2
    return isinstance(abbrev, tuple) and len(abbrev) in (2, 3) and not abbrev[1] > abbrev[0]


def _slider_values(abbrev: Sequence[float], default: Any, n: int) -> list[Any]:
    """``n`` evenly spaced values of a ``(lo, hi[, step])`` slider on its steps, and its default."""
    lo, hi = abbrev[0], abbrev[1]
    step = (
        abbrev[2]
        if len(abbrev) > 2
        else (1 if isinstance(lo, int) and isinstance(hi, int) else None)
    )
    n = max(n, 2)
    values = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    if step:
        values = [lo + round((v - lo) / step) * step for v in values]
    if isinstance(lo, int) and isinstance(hi, int) and (step is None or float(step).is_integer()):
        values = [int(round(v)) for v in values]
    else:
        values = [round(float(v), 10) for v in values]
    return sorted(set(values) | {default})


def page_grid(
    controls: dict[str, Any], defaults: dict[str, Any], max_frames: int = PAGE_FRAMES
) -> dict[str, list[tuple[str, Any]]]:
    """The (label, value) options each control takes in the page, at most ``max_frames`` in all.

    Menus and checkboxes keep all their options, in the order given, while the product fits;
    the sliders share what is left, evenly spaced and always including their default. Controls
    that do not fit (and text boxes) stay at their default in the page: they are live in Jupyter.
    A control with a single setting (a one-item menu, a slider from a value to itself) is left
    out: there is nothing to move.
    """
    grid: dict[str, list[tuple[str, Any]]] = {}
    sliders = []
    size = 1
    for name, abbrev in controls.items():
        if _is_fixed(abbrev):
            continue
        options = _options(abbrev)
        if options is None and isinstance(abbrev, tuple) and len(abbrev) in (2, 3):
            sliders.append(name)
        elif options is not None and size * len(options) <= max_frames:
            grid[name] = options
            size *= len(options)
    fitting = [name for i, name in enumerate(sliders) if size * 2 ** (i + 1) <= max_frames]
    counts = {name: int((max_frames / size) ** (1 / len(fitting)) + 1e-9) for name in fitting}
    values = {
        name: _slider_values(controls[name], defaults[name], counts[name]) for name in fitting
    }
    while math.prod(len(v) for v in values.values()) * size > max_frames:
        name = max(values, key=lambda n: len(values[n]))
        if counts[name] == 2:  # every slider at its fewest: the last one stays at its default
            del values[fitting.pop()]
            continue
        counts[name] -= 1
        values[name] = _slider_values(controls[name], defaults[name], counts[name])
    for name, settings in values.items():
        grid[name] = [(f"{v:.3g}" if isinstance(v, float) else str(v), v) for v in settings]
    return {name: grid[name] for name in controls if name in grid}


def _image(fig: Any, fmt: str = "webp") -> str:
    """A figure as a data URI: lossless WebP (about a third of the PNG's size) or PNG.

    Saved at the figure's own resolution, as the inline backend does, so text placed from
    measured extents (word heatmaps) lands where it was measured.
    """
    buffer = io.BytesIO()
    options = {"pil_kwargs": {"lossless": True, "method": 6}} if fmt == "webp" else {}
    fig.savefig(buffer, format=fmt, dpi="figure", bbox_inches="tight", **options)
    return f"data:image/{fmt};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


class PageFigure:
    """A figure drawn at each setting of a grid, shown with controls that run in the page.

    In HTML (the built book, JupyterLab) it is a set of sliders and menus switching between the
    precomputed images; elsewhere (PDF, plain text) it is the figure at the defaults.
    """

    def __init__(
        self,
        draw: Callable[..., Any],
        defaults: dict[str, Any],
        grid: dict[str, list[tuple[str, Any]]],
        kernel_only: Sequence[str] = (),
    ) -> None:
        import matplotlib.pyplot as plt

        self.name = draw.__name__
        self.grid = grid
        self.kernel_only = list(kernel_only)
        values = {name: [value for _, value in options] for name, options in grid.items()}
        self.start = [values[name].index(defaults[name]) for name in grid]
        self.frames: list[str] = []
        for choice in itertools.product(*grid.values()):  # row-major, as the page indexes them
            plt.close("all")
            draw(**{**defaults, **{name: value for name, (_, value) in zip(grid, choice)}})
            self.frames.append(_image(plt.gcf()))
            if len(self.frames) - 1 == self._index(self.start):
                self.static = _image(plt.gcf(), "png")
            plt.close("all")
        self.uid = f"page-figure-{self.name}-{next(_page_ids)}"

    def _index(self, position: Sequence[int]) -> int:
        index = 0
        for options, i in zip(self.grid.values(), position):
            index = index * len(options) + i
        return index

    def note(self, code: Callable[[str], str] = "`{}`".format) -> str:
        """Which controls move in the page and which need a kernel."""
        live = ", ".join(f"{name} ({len(options)} settings)" for name, options in self.grid.items())
        text = f"Live in this page: {live}. " if live else ""
        if self.kernel_only:
            text += f"Needs a kernel: {', '.join(self.kernel_only)}. "
        return text + f"In Jupyter ({code('make lab')}) every control takes every value."

    def _controls(self) -> str:
        """A range input per numeric control with more than two settings, else a menu."""
        html_controls = []
        for k, (name, options) in enumerate(self.grid.items()):
            labels = [html.escape(label) for label, _ in options]
            at = self.start[k]
            if len(options) > 2 and all(isinstance(v, (int, float)) for _, v in options):
                widget = (
                    f'<input type="range" data-control="{k}" min="0" max="{len(options) - 1}" '
                    f'step="1" value="{at}"> <output>{labels[at]}</output>'
                )
            else:
                items = "".join(
                    f'<option value="{i}"{" selected" if i == at else ""}>{label}</option>'
                    for i, label in enumerate(labels)
                )
                widget = f'<select data-control="{k}">{items}</select>'
            html_controls.append(f"<label>{html.escape(name)} {widget}</label>")
        return "".join(html_controls)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        script = _PAGE_SCRIPT.format(
            uid=self.uid,
            frames=json.dumps(self.frames),
            labels=json.dumps([[label for label, _ in options] for options in self.grid.values()]),
            shape=json.dumps([len(options) for options in self.grid.values()]),
        )
        note = self.note(code="<code>{}</code>".format)  # control names are identifiers
        page = (
            f'<div class="page-figure" id="{self.uid}">'
            f'<div class="page-figure-controls" style="{_CONTROLS_STYLE}">{self._controls()}</div>'
            f'<img src="{self.frames[self._index(self.start)]}" alt="{html.escape(self.name)}" '
            'style="max-width:100%">'
            f'<p class="page-figure-note" style="{_NOTE_STYLE}">{note}</p>'
            f"<script>{script}</script></div>"
        )
        return {
            "text/html": page,
            "image/png": self.static.split(",", 1)[1],
            "text/plain": f"<figure {self.name}: {self.note()}>",
        }


_CONTROLS_STYLE = "display:flex;flex-wrap:wrap;gap:0.4em 1.5em"
_NOTE_STYLE = "font-size:0.85em;color:#555"
# the page's controls pick a precomputed image: controls in grid order, row-major frames
_PAGE_SCRIPT = """(function () {{
  var root = document.getElementById("{uid}");
  var frames = {frames}, labels = {labels}, shape = {shape};
  var inputs = root.querySelectorAll("[data-control]"), image = root.querySelector("img");
  function update() {{
    var index = 0;
    inputs.forEach(function (input) {{
      var k = +input.dataset.control, i = +input.value;
      index = index * shape[k] + i;
      var shown = input.parentNode.querySelector("output");
      if (shown) shown.textContent = labels[k][i];
    }});
    image.src = frames[index];
  }}
  inputs.forEach(function (input) {{ input.addEventListener("input", update); }});
}})();"""


def explore(draw: Callable[..., Any], page_frames: int = PAGE_FRAMES, **controls: Any):
    """Show ``draw`` with in-page controls, then return a live panel of ``controls`` for it.

    Parameters
    ----------
    draw
        A function whose keyword parameters all have defaults, drawing one figure.
    page_frames
        The most settings precomputed for the in-page controls (see :func:`page_grid`); 1 shows
        the figure at its defaults only, for drawings too slow to repeat.
    **controls
        Widget abbreviations as for :func:`ipywidgets.interactive`: ``(lo, hi)`` or
        ``(lo, hi, step)`` for a slider, a list for a dropdown, a bool for a checkbox.

    Returns
    -------
    ipywidgets.VBox or None
        The controls (``panel.children[0].children``, each starting at the function's default,
        where the static figure is) above an output area that each change redraws; None
        without ipywidgets.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    defaults = defaults_of(draw)
    unknown = sorted(set(controls) - set(defaults))
    if unknown:
        raise ValueError(f"{draw.__name__} has no parameters {unknown}")
    grid = page_grid(controls, defaults, page_frames) if page_frames > 1 else {}
    kernel_only = [n for n, abbrev in controls.items() if n not in grid and not _is_fixed(abbrev)]
    display(PageFigure(draw, defaults, grid, kernel_only))
    try:
        import ipywidgets
    except ImportError:
        return None
    widgets = {
        name: ipywidgets.interactive.widget_from_abbrev(abbrev, defaults[name])
        for name, abbrev in controls.items()
    }
    for name, widget in widgets.items():
        widget.description = name
        if hasattr(widget, "continuous_update"):  # a slider redraws when released, not per step
            widget.continuous_update = False
    output = ipywidgets.Output()

    def redraw(_change=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw(**{**defaults, **{name: w.value for name, w in widgets.items()}})
            plt.show()

    for widget in widgets.values():
        widget.observe(redraw, names="value")
    return ipywidgets.VBox([ipywidgets.VBox(list(widgets.values())), output])
