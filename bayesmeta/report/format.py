"""Number formatting shared by the terminal reports."""

from __future__ import annotations

import math


def num(x: float | None, digits: int = 2) -> str:
    """``x`` to ``digits`` decimals (none above 1000); ``-`` for missing or non-finite."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def interval(lo: float | None, hi: float | None, digits: int = 2) -> str:
    """``[lo, hi]``."""
    return f"[{num(lo, digits)}, {num(hi, digits)}]"


def p_value(p: float | None) -> str:
    """A p-value to 4 decimals, ``<0.0001`` below."""
    if p is None or not math.isfinite(p):
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def probability(p: float) -> str:
    """A posterior probability to 4 decimals; beyond them, shown as a bound."""
    if p > 0.9999:
        return "> 0.9999"
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.4f}"


def percent(level: float) -> str:
    """``0.95`` -> ``"95%"``."""
    return f"{level * 100:g}%"
