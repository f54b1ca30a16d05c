"""Publication figures of an analysis (matplotlib): one module per kind of figure.

Every function returns a :class:`matplotlib.figure.Figure` and writes nothing; the command line
and the report save them (:func:`save`). Figures are built on ``matplotlib.figure.Figure``
directly, not through ``pyplot``, so making one needs no display and leaves no global state.
The public entry points are in :mod:`bayesmeta.plots`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from matplotlib.figure import Figure

from bayesmeta.errors import BayesmetaError

FORMATS = ("png", "svg", "pdf")
DPI = 200
FAVOURS = ("Favours treatment", "Favours control")
# Labels are the user's text: "$" in a study name or a favours label is a dollar sign, never
# the start of matplotlib mathtext (which would garble the label or fail to parse it).
LITERAL_TEXT = {"text.parse_math": False}


def literal_text[F: Callable[..., Any]](build: F) -> F:
    """Make a figure function draw every text as written (:data:`LITERAL_TEXT`)."""
    import matplotlib

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(LITERAL_TEXT):
            return build(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Style:
    """Choices of presentation that are not part of the analysis.

    ``favours``: the labels under a forest plot's axis, left and right of no effect. The
    default reads a ratio below 1 (fewer events on treatment) as favouring treatment, right
    for harmful events; for wanted events (quitting smoking, healing) swap them.
    """

    favours: tuple[str, str] = FAVOURS

    @classmethod
    def parse_favours(cls, text: str | None, default: tuple[str, str] | None = None) -> Style:
        """A style from ``"LEFT,RIGHT"`` favours labels (None: ``default``, else the defaults).

        Raises
        ------
        BayesmetaError
            Not two comma-separated labels.
        """
        if text is None:
            return cls(default) if default is not None else cls()
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts):
            raise BayesmetaError(
                f"--favours expects two labels separated by a comma, e.g. "
                f"'Favours control,Favours treatment'; got {text!r}"
            )
        return cls((parts[0], parts[1]))


def format_of(path: str | Path) -> str:
    """The figure format named by the suffix of ``path`` (``png``, ``svg`` or ``pdf``).

    Raises
    ------
    BayesmetaError
        Any other suffix.
    """
    suffix = Path(path).suffix
    if suffix.lower().lstrip(".") not in FORMATS:
        raise BayesmetaError(f"{path}: use a .png, .pdf or .svg file name (got {suffix or 'none'})")
    return suffix.lower().lstrip(".")


def save(
    figure: Figure, path: str | Path | BinaryIO, fmt: str | None = None, *, dpi: int = DPI
) -> None:
    """Write ``figure`` to ``path`` (or a binary file object) as PNG, SVG or PDF (``fmt``;
    default: from the suffix of ``path``).

    SVG keeps text as text (``svg.fonttype = "none"``) and PDF embeds TrueType fonts
    (``pdf.fonttype = 42``), so journals' editors can still change the labels.
    """
    import matplotlib

    if fmt is None:
        if not isinstance(path, str | Path):
            raise BayesmetaError("give the figure format when saving to a file object")
        fmt = format_of(path)
    if fmt not in FORMATS:
        raise BayesmetaError(f"unknown figure format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, **LITERAL_TEXT}):
        figure.savefig(path, format=fmt, dpi=dpi, metadata=_metadata(fmt))


def _metadata(fmt: str) -> dict[str, str | None]:
    """No creation date in SVG and PDF files, so the same analysis gives the same bytes."""
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}
