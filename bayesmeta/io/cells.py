"""Parse one cell of a table: counts, numbers and study labels, exactly as written.

The rules, chosen so that no cell is read as a value other than the one its text says:

- **Counts** are plain ASCII decimal integers: optional surrounding spaces (tabs, Unicode
  spaces), an optional leading ``+``, then the digits 0-9 (``10``, ``010``, ``+10``). A
  decimal point followed only by zeros (``5.0``, ``5.00``) is accepted, because spreadsheets and
  pandas write integer columns that way, and the text then says exactly 5. Everything else is
  an error that asks for a whole number: ``1_0`` (Python's digit separator), ``1e3``, ``5.5``,
  ``4.9999999999999999`` (which a float would round to 5), fullwidth (U+FF10-FF19), Arabic-Indic or
  any other non-ASCII digits. The text is never passed through ``float``. Counts must be below
  2**53 so that they stay exact as floats downstream.
- **Numbers** (estimates, SEs, variances, CI limits) are ASCII decimal numbers with an optional
  sign, decimal point and exponent (``-0.5``, ``.25``, ``1e-3``); ``_`` separators and
  non-ASCII digits are refused. ``inf``/``nan`` are refused as not finite / missing.
- **Missing**: a blank cell or ``NA``, ``NaN``, ``None``, ``null`` (any case); in a DataFrame,
  ``None``, ``NaN`` or ``pd.NA``.
- **Study labels** are kept as text exactly, apart from surrounding spaces. A label holding a
  control character (NUL, tab, newline, ESC ... : Unicode category Cc), a line or paragraph
  separator or a lone surrogate is refused with a located error: such a label cannot be shown
  on one line, and numpy silently drops trailing NULs, so ``"A\\x00"`` and ``"A"`` would collide.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from typing import Any

import pandas as pd

MISSING = frozenset({"", "na", "nan", "none", "null"})
MAX_COUNT = 2**53  # exclusive: every count below it is exact as a float64 and fits int64

_COUNT = re.compile(r"\+?([0-9]+)(?:\.0+)?", re.ASCII)
_NEGATIVE = re.compile(r"-[0-9]+(?:\.0+)?", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INFINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_BAD_IN_LABELS = frozenset({"Cc", "Cs", "Zl", "Zp"})


class CellError(ValueError):
    """A cell that cannot be read; the caller adds the row and column."""


def trim(text: str) -> str:
    """``text`` without surrounding spaces: ASCII space, tab and Unicode space separators."""
    start, end = 0, len(text)
    while start < end and _is_space(text[start]):
        start += 1
    while end > start and _is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_space(char: str) -> bool:
    return char == "\t" or unicodedata.category(char) == "Zs"


def is_missing(raw: Any) -> bool:
    """A blank or NA-like cell (text or a DataFrame null)."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return trim(raw).lower() in MISSING
    if isinstance(raw, bool):
        return False
    if isinstance(raw, numbers.Real):
        return math.isnan(float(raw))
    return bool(pd.isna(raw)) if pd.api.types.is_scalar(raw) else False


def show(text: Any, limit: int = 60) -> str:
    """A short one-line rendering of user text for messages (``repr`` escapes controls)."""
    text = text if isinstance(text, str) else str(text)
    return repr(text) if len(text) <= limit else f"{text[: limit - 3]!r}..."


def plain(text: Any) -> str:
    """``text`` as it is when it is short and prints on one line, else as :func:`show` gives it."""
    text = text if isinstance(text, str) else str(text)
    return text if text.isprintable() and len(text) <= 60 else show(text)


def parse_count(raw: Any, role: str) -> int:
    """The whole number in a count cell; :class:`CellError` with a message otherwise."""
    if is_missing(raw):
        raise CellError(f"{role} is missing")
    if isinstance(raw, bool):
        raise CellError(f"{role} must be a whole number, got {raw!r}")
    if isinstance(raw, numbers.Integral):
        value = int(raw)
        text = str(value)
    elif isinstance(raw, numbers.Real):
        value_f = float(raw)
        if not math.isfinite(value_f) or not value_f.is_integer():
            raise CellError(f"{role} must be a whole number, got {value_f!r}")
        value, text = int(value_f), repr(value_f)
    else:
        text = trim(str(raw))
        match = _COUNT.fullmatch(text)
        if match is None:
            if _NEGATIVE.fullmatch(text):
                raise CellError(f"{role} cannot be negative, got {text}")
            raise CellError(
                f"{role} must be a whole number written with the digits 0-9, got {show(text)}"
            )
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > 16:  # int() of very long text is slow (and refused past 4300 digits)
            raise CellError(_too_large(role, text))
        value = int(digits)
    if value < 0:
        raise CellError(f"{role} cannot be negative, got {text}")
    if value >= MAX_COUNT:
        raise CellError(_too_large(role, text))
    return value


def _too_large(role: str, text: str) -> str:
    shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
    return f"count too large: {role} must be below 2**53 = {MAX_COUNT}, got {shown}"


def parse_number(raw: Any, name: str) -> float:
    """The finite number in a cell; :class:`CellError` with a message otherwise."""
    if is_missing(raw):
        raise CellError(f"{name} is missing")
    if isinstance(raw, bool):
        raise CellError(f"{name} must be a number, got {raw!r}")
    if isinstance(raw, numbers.Real):
        value = float(raw)
        if not math.isfinite(value):
            raise CellError(f"{name} must be a finite number, got {value!r}")
        return value
    text = trim(str(raw))
    if text.lower() in _INFINITE:
        raise CellError(f"{name} must be a finite number, got {show(text)}")
    if _NUMBER.fullmatch(text) is None:
        raise CellError(f"{name} must be a number written with the digits 0-9, got {show(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise CellError(f"{name} must be a finite number, got {show(text)}")
    return value


def is_number_text(text: str) -> bool:
    """``text`` (trimmed) is an ASCII decimal number as :func:`parse_number` accepts it."""
    return _NUMBER.fullmatch(trim(text)) is not None


def parse_label(raw: Any) -> str:
    """A study label: the cell's text without surrounding spaces; refuses unprintable ones."""
    if is_missing(raw):
        raise CellError("study name is missing")
    text = trim(raw if isinstance(raw, str) else str(raw))
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) in _BAD_IN_LABELS:
            name = unicodedata.name(char, "control character")
            raise CellError(
                f"study name {show(text)} contains U+{ord(char):04X} ({name.lower()}) at "
                f"character {position}; remove it"
            )
    return text
