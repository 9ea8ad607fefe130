"""Widgets that also leave a static figure behind.

Every widget cell of the book calls :func:`explore` with a plain drawing function: the
function is first called at its default settings (a static figure, visible in the built book
without a kernel), then an :func:`ipywidgets.interactive` panel is shown for live use.
Re-running the cell builds a fresh panel; the drawing function holds no state, so tests can
call it directly.
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
    """Draw ``draw(**defaults)`` once, then return a live panel of ``controls`` over it.

    Parameters
    ----------
    draw
        A function whose keyword parameters all have defaults, drawing one figure.
    **controls
        Widget abbreviations as for :func:`ipywidgets.interactive`: ``(lo, hi)`` or
        ``(lo, hi, step)`` for a slider, a list for a dropdown, a bool for a checkbox.

    Returns
    -------
    ipywidgets.interactive or None
        The panel (displayed when it is the cell's last value), or None without ipywidgets.
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
    fixed = {k: ipywidgets.fixed(v) for k, v in defaults.items() if k not in controls}
    # ipywidgets starts each control at the function's default: where the static figure is
    return ipywidgets.interactive(draw, **controls, **fixed)
