"""The one error type for user mistakes (bad data, bad options, bad prior strings).

The CLI prints ``str(error)`` as a single line and exits with code 2; library users catch
:class:`BayesmetaError`. :class:`OptionError` and :class:`DataError` are also ``ValueError``s
(a right type with a wrong value), so code written for numpy, pandas or PyMC catches them as it
catches theirs. Programming errors are left as ordinary exceptions.
"""

from __future__ import annotations


class BayesmetaError(Exception):
    """A mistake in what the user gave us, with a message that says what and where."""


class OptionError(BayesmetaError, ValueError):
    """An invalid choice or setting: a prior, a model or engine name, a method, a sampler
    setting. The message names the option, what it got and what is valid."""


class DataError(BayesmetaError, ValueError):
    """A problem in the input data, located by source, row (1-based data row) and column."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        study: str | None = None,
        column: str | None = None,
    ) -> None:
        self.source, self.row, self.study, self.column = source, row, study, column
        where = []
        if row is not None:
            where.append(f"row {row}" + (f" ({study!r})" if study else ""))
        if column is not None:
            where.append(f"column {column!r}")
        prefix = f"{source}: " if source else ""
        located = ", ".join(where)
        super().__init__(f"{prefix}{located}: {message}" if located else f"{prefix}{message}")
