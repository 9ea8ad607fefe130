"""Parameter validation shared by the task generators (clear ValueErrors)."""

from __future__ import annotations

__all__ = ["check_choice", "check_int", "check_prob"]


def check_prob(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ValueError unless it lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"parameter {name!r} must be a probability in [0, 1], got {value!r}")
    return float(value)


def check_int(name: str, value: int, low: int = 0) -> int:
    """Return ``value``, or raise ValueError unless it is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"parameter {name!r} must be an integer >= {low}, got {value!r}")
    return value


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value``, or raise ValueError unless it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"parameter {name!r} must be one of {choices}, got {value!r}")
    return value
