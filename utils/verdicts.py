"""Deciding whether a claim of a paper reproduced, from replicates, a stated rule and a control.

A claim is measured as one *effect* per replicate (a model seed, a data seed, a random draw):
a number oriented so that the paper's statement reads "the effect is above (or below) a
threshold", e.g. ``accuracy(top) - accuracy(random)`` above 0, or ``flipped share`` above
0.8. A :class:`Rule`, written in the claim cell before the numbers are seen, says how many
replicates must be on the paper's side and whether the bootstrap interval of their mean must
be too. The same rule applied to the *control* (random units, random masks, a random-weights
model, shuffled labels), which the paper's reasoning says should fail, tells a discriminating
claim from one that any setup passes:

===================  ===========================================================
verdict              when
===================  ===========================================================
reproduced           the effects pass the rule and the control fails it
not discriminating   the effects pass the rule and so does the control
not reproduced       the effects fail the rule
not tested           the claim could not be measured (the reason is recorded)
===================  ===========================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_DISCRIMINATING = "not discriminating"
NOT_TESTED = "not tested"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_DISCRIMINATING, NOT_TESTED)


def _effects(values: Sequence[float], what: str) -> np.ndarray:
    array = np.asarray([float(v) for v in np.ravel(np.asarray(values, dtype=float))])
    if array.size == 0:
        raise ValueError(f"{what}: no replicates given (pass one effect per replicate)")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: the effects contain NaN or infinity: {array.tolist()}")
    return array


def bootstrap_interval(
    values: Sequence[float], level: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (fixed seed: reproducible).

    With one value the interval is that value; with two or three it is wide, as it should be.
    """
    array = _effects(values, "bootstrap_interval")
    if array.size == 1:
        return float(array[0]), float(array[0])
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, array.size, size=(n_resamples, array.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def sign_test(values: Sequence[float], threshold: float = 0.0, direction: str = "above") -> float:
    """One-sided exact sign test: the p-value of this many replicates on the paper's side
    if each were equally likely to fall on either side of ``threshold`` (ties dropped)."""
    array = _effects(values, "sign_test")
    side = array > threshold if direction == "above" else array < threshold
    ties = array == threshold
    n = int((~ties).sum())
    if n == 0:
        return 1.0
    return float(stats.binomtest(int(side.sum()), n, 0.5, alternative="greater").pvalue)


@dataclass(frozen=True)
class Rule:
    """How a claim is decided from its replicates, stated in the claim cell before the run.

    Parameters
    ----------
    threshold
        The paper's side of the claim starts here (0 for "X beats Y" measured as X - Y; 0.8
        for "flips at least 80%"; 7 for "7x").
    direction
        ``"above"``: the paper says the effect exceeds ``threshold``; ``"below"``: it stays
        under it.
    share
        The least share of replicates that must be on the paper's side (1.0: all of them).
    strict
        More than ``share`` rather than at least: ``share=0.5, strict=True`` is the paper's
        "most" (a strict majority).
    interval
        Also require the bootstrap interval of the mean to lie on the paper's side.
    level
        Confidence level of that interval.
    """

    threshold: float = 0.0
    direction: str = "above"
    share: float = 1.0
    interval: bool = True
    level: float = 0.95
    strict: bool = False

    def __post_init__(self) -> None:
        if self.direction not in ("above", "below"):
            raise ValueError(f"Rule.direction must be 'above' or 'below', not {self.direction!r}")
        if not 0.0 < self.share <= 1.0 or (self.strict and self.share == 1.0):
            raise ValueError(f"Rule.share must be in (0, 1] (below 1 if strict), not {self.share}")
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"Rule.level must be in (0, 1), not {self.level}")

    def on_side(self, values: np.ndarray | float) -> np.ndarray:
        """Which values are on the paper's side of the threshold."""
        values = np.asarray(values, dtype=float)
        return values > self.threshold if self.direction == "above" else values < self.threshold

    def needed(self, n: int) -> int:
        """How many of ``n`` replicates must be on the paper's side."""
        if self.strict:
            return math.floor(self.share * n + 1e-9) + 1
        return max(1, math.ceil(self.share * n - 1e-9))

    def one_replicate_from_flip(self, on_side: int, n: int) -> bool:
        """Whether moving one replicate across the threshold changes the count's verdict: one
        short of what the rule needs, or exactly at it where the rule lets some replicates be
        off the paper's side. These are the verdicts that another draw of the data can turn."""
        needed = self.needed(n)
        return on_side == needed - 1 or needed == on_side < n

    def describe(self, n: int | None = None) -> str:
        """The rule in words, e.g. 'effect > 0 in at least 4 of 5 replicates, and the 95%
        bootstrap interval of its mean above 0'."""
        sign = ">" if self.direction == "above" else "<"
        side = "above" if self.direction == "above" else "below"
        if n is not None:
            count = f"in at least {self.needed(n)} of {n} replicates"
        elif self.share == 1.0:
            count = "in every replicate"
        else:
            count = (
                f"in {'more than' if self.strict else 'at least'} {self.share:.0%} of replicates"
            )
        text = f"effect {sign} {self.threshold:g} {count}"
        if self.interval:
            interval = f"the {self.level:.0%} bootstrap interval of its mean"
            text += f", and {interval} {side} {self.threshold:g}"
        return text

    def passes(self, values: Sequence[float]) -> bool:
        """Whether the replicates ``values`` satisfy the rule."""
        return Summary.of(values, self).passes

    def _judge(self, on_side: int, n: int, interval: tuple[float, float]) -> bool:
        """The rule on a summary: enough replicates on the paper's side, and (if asked)
        the interval of their mean entirely on that side."""
        if on_side < self.needed(n):
            return False
        if not self.interval:
            return True
        low, high = interval
        return bool(low > self.threshold if self.direction == "above" else high < self.threshold)


@dataclass(frozen=True)
class Summary:
    """The replicates of one claim (or of its control), summarised."""

    effects: tuple[float, ...]
    mean: float
    interval: tuple[float, float]
    on_side: int
    passes: bool
    sign_p: float

    @classmethod
    def of(cls, values: Sequence[float], rule: Rule) -> Summary:
        array = _effects(values, "Summary.of")
        interval = bootstrap_interval(array, rule.level)
        on_side = int(rule.on_side(array).sum())
        return cls(
            effects=tuple(float(v) for v in array),
            mean=float(array.mean()),
            interval=interval,
            on_side=on_side,
            passes=rule._judge(on_side, array.size, interval),
            sign_p=sign_test(array, rule.threshold, rule.direction),
        )

    def describe(self) -> str:
        """e.g. '0.12 [0.08, 0.15], 3 of 3 on the paper's side'."""
        low, high = self.interval
        return (
            f"{self.mean:.4g} [{low:.4g}, {high:.4g}], "
            f"{self.on_side} of {len(self.effects)} on the paper's side"
        )


def decide(
    effects: Sequence[float], rule: Rule, control: Sequence[float] | None = None
) -> tuple[str, Summary, Summary | None]:
    """The verdict of a claim: its effects under ``rule``, then its control under the same rule.

    Returns
    -------
    verdict, summary of the effects, summary of the control (``None`` without one).
    """
    summary = Summary.of(effects, rule)
    control_summary = Summary.of(control, rule) if control is not None else None
    if not summary.passes:
        verdict = NOT_REPRODUCED
    elif control_summary is not None and control_summary.passes:
        verdict = NOT_DISCRIMINATING
    else:
        verdict = REPRODUCED
    return verdict, summary, control_summary


def decision_record(
    effects: Sequence[float], rule: Rule, control: Sequence[float] | None = None
) -> dict[str, Any]:
    """The verdict of :func:`decide` with everything a report shows beside it: the rule in
    words and as fields, the count on the paper's side against the count needed, the mean and
    its interval, the sign test, and the control's summary (``None`` without one)."""
    verdict, summary, control_summary = decide(effects, rule, control)
    n = len(summary.effects)
    record: dict[str, Any] = {
        "verdict": verdict,
        "rule": rule.describe(n),
        "rule_spec": asdict(rule),
        "n": n,
        "on_side": summary.on_side,
        "needed": rule.needed(n),
        "one_replicate_from_flip": rule.one_replicate_from_flip(summary.on_side, n),
        "effects": summary.effects,
        "mean": summary.mean,
        "interval": summary.interval,
        "sign_p": summary.sign_p,
        "control": None,
    }
    if control_summary is not None:
        record["control"] = {
            "n": len(control_summary.effects),
            "on_side": control_summary.on_side,
            "needed": rule.needed(len(control_summary.effects)),
            "effects": control_summary.effects,
            "mean": control_summary.mean,
            "interval": control_summary.interval,
            "passes": control_summary.passes,
        }
    if verdict == NOT_DISCRIMINATING:
        record["reason"] = "its control passes the same rule"
    return record
