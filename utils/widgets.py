"""Widgets that also leave a static figure behind.

Every widget cell of the book calls :func:`explore` with a plain drawing function: the
function is first called at its default settings (a static figure, visible in the built book
without a kernel), then a panel of controls is shown for live use; each change of a control
redraws the figure in the panel. Re-running the cell builds a fresh panel; the drawing function
holds no state, so tests can call it directly.

The panel draws nothing while its cell runs (unlike :func:`ipywidgets.interact`, whose first
drawing into its output widget can leave a headless executor such as nbclient waiting
forever): executing a chapter never depends on a frontend.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def defaults_of(draw: Callable[..., Any]) -> dict[str, Any]:
    """The keyword defaults of a drawing function; every parameter must have one."""
    params = inspect.signature(draw).parameters
    missing = [name for name, p in params.items() if p.default is inspect.Parameter.empty]
    if missing:
        raise ValueError(f"{draw.__name__} needs default values for {missing}")
    return {name: p.default for name, p in params.items()}


def explore(draw: Callable[..., Any], **controls: Any):
    """Draw ``draw(**defaults)`` once, then return a live panel of ``controls`` for it.

    Parameters
    ----------
    draw
        A function whose keyword parameters all have defaults, drawing one figure.
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

    defaults = defaults_of(draw)
    unknown = sorted(set(controls) - set(defaults))
    if unknown:
        raise ValueError(f"{draw.__name__} has no parameters {unknown}")
    draw(**defaults)
    plt.show()
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
