"""The order of the studies by a covariate (cumulative meta-analysis, ``--cumulative year``).

A blank value cannot be placed in order (sorting it first or last would be a guess), and a
column that mixes numbers and text (``1999``, ``2005a``) has no order that both readings agree
on: both are errors naming the row. Numbers sort numerically, text by code point; ties keep
the data's order.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from bayesmeta.errors import DataError
from bayesmeta.io.cells import is_missing, is_number_text, plain, show
from bayesmeta.io.table import names

if TYPE_CHECKING:
    from bayesmeta.io.counts import StudyData
    from bayesmeta.io.reported import ReportedEffects


def ordering(data: StudyData | ReportedEffects, column: str) -> list[str]:
    """Every study name of ``data``, sorted by the covariate ``column`` (stable).

    Parameters
    ----------
    data
        Validated data from :func:`bayesmeta.io.counts.load` or
        :func:`bayesmeta.io.reported.load_reported`.
    column
        A covariate column (e.g. ``"year"``).

    Returns
    -------
    list of str
        ``data.study`` in the order of ``column``; filter it to the studies analysed.

    Raises
    ------
    DataError
        No such column (the covariates are listed); a blank value, or a column mixing
        numbers and text (row, study and column named).
    """
    covariates = data.covariates
    if column not in covariates.columns:
        raise DataError(
            f"no column {show(column)} to order the studies by; covariates: "
            f"{names(covariates.columns)}",
            source=data.source,
        )
    values = covariates[column].tolist()
    for i, value in enumerate(values):
        if is_missing(value):
            raise DataError(
                f"the value to order by is blank; give every study a {plain(column)} or drop "
                "the row",
                source=data.source,
                row=i + 1,
                study=data.study[i],
                column=column,
            )
    numeric = [_is_number(v) for v in values]
    if any(numeric) and not all(numeric):
        i = numeric.index(not numeric[0])
        raise DataError(
            f"{show(values[i])} is {'a number' if numeric[i] else 'text'} but row 1 has "
            f"{'a number' if numeric[0] else 'text'} ({show(values[0])}); a column to order by "
            "needs numbers only or text only",
            source=data.source,
            row=i + 1,
            study=data.study[i],
            column=column,
        )
    if all(numeric):
        keys: list = [float(v) for v in values]
    else:
        keys = [str(v) for v in values]
    order = sorted(range(len(values)), key=keys.__getitem__)
    return [data.study[i] for i in order]


def _is_number(value: object) -> bool:
    if isinstance(value, str):
        return is_number_text(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
