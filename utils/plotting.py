"""Figures shared by the chapters: activations over text, curves over layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


def text_heatmap(
    ax: Axes,
    sentences: Sequence[Sequence[str]],
    values: Sequence[Sequence[float]],
    *,
    cmap: str = "RdBu_r",
    limit: float | None = None,
    fontsize: float = 10.0,
) -> None:
    """Draw sentences with each word's background coloured by its activation.

    Red is positive, blue negative, white zero; the colour scale is symmetric around zero,
    up to ``limit`` (default: the largest absolute value shown). One sentence per line; the
    font shrinks below ``fontsize`` where the longest sentence would not fit the axes.
    """
    if len(sentences) != len(values):
        raise ValueError(f"{len(sentences)} sentences but {len(values)} rows of values")
    flat = np.concatenate([np.asarray(v, dtype=float) for v in values]) if values else np.zeros(1)
    limit = float(limit or np.abs(flat).max() or 1.0)
    colormap = plt.get_cmap(cmap)
    # words are laid out in a monospace font, whose characters advance 0.6 em: measured
    # against the axes' width in points, so the layout holds for any figure size
    width = ax.get_position().width * ax.figure.get_figwidth() * 72
    longest = max((sum(len(w) + 1 for w in words) for words in sentences), default=1)
    fontsize = min(fontsize, width / (0.6 * longest))
    char = 0.6 * fontsize / width  # one character, in axes fractions
    line = 1.0 / max(len(sentences), 1)
    for row, (words, acts) in enumerate(zip(sentences, values)):
        if len(words) != len(acts):
            raise ValueError(f"sentence {row}: {len(words)} words but {len(acts)} values")
        x, y = 0.0, 1.0 - (row + 0.5) * line
        for word, act in zip(words, acts):
            colour = colormap(0.5 + 0.5 * float(np.clip(act / limit, -1, 1)))
            ax.text(
                x,
                y,
                word,
                fontsize=fontsize,
                va="center",
                ha="left",
                family="monospace",
                bbox={"facecolor": colour, "edgecolor": "none", "pad": 1.5},
            )
            x += char * (len(word) + 1)
    ax.set_axis_off()


def layer_curves(
    ax: Axes,
    curves: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    xlabel: str = "layer (0 = embeddings)",
    title: str | None = None,
    baselines: Mapping[str, float] | None = None,
) -> None:
    """One line per named curve over layers, with optional horizontal baselines."""
    for name, ys in curves.items():
        ax.plot(range(len(ys)), ys, marker="o", label=name)
    for name, level in (baselines or {}).items():
        ax.axhline(level, linestyle="--", linewidth=1, color="grey")
        ax.annotate(name, (0, level), textcoords="offset points", xytext=(2, 3), fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
