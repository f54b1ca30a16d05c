"""Read the sheets of a workbook (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) as rows of text.

pandas reads the file (openpyxl for ``.xlsx``, xlrd for ``.xls``, odfpy for ``.ods``), with
formulas read by the value the spreadsheet last calculated and stored (openpyxl's
``data_only``; a workbook never opened in a spreadsheet after a change may have none). Each
cell then becomes the text the user sees, so the table readers validate it like a CSV cell:

- a number is written with at most 15 significant digits, the precision a spreadsheet shows
  (a count calculated as 12.000000000000002 is 12, a count stored as 12.0 is 12, and 12.5
  stays 12.5, which a count column refuses);
- a number stored as text is that text (``"012"``), a date is ``YYYY-MM-DD``, a boolean
  ``TRUE``/``FALSE``, an error cell (``#DIV/0!``) and an empty or merged-away cell are blank.

Which sheet, and which row is the header, is decided by :func:`bayesmeta.io.table.read_table`.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from pathlib import Path
from typing import Any

from bayesmeta.errors import DataError
from bayesmeta.io.cells import plain

WORKBOOK_SUFFIXES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".xls": "xlrd", ".ods": "odf"}
PACKAGE_OF = {"openpyxl": "openpyxl", "xlrd": "xlrd", "odf": "odfpy"}


def is_workbook(path: Path) -> bool:
    """``path`` names a workbook by its suffix."""
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def read_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook ``path``, by name, as rows of cell text (in file order).

    Raises
    ------
    DataError
        The reader is not installed, or the file is not a workbook it can read.
    """
    import pandas as pd

    engine = WORKBOOK_SUFFIXES[path.suffix.lower()]
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine=engine)
    except ImportError:
        raise DataError(
            f"reading {path.suffix} files needs the {PACKAGE_OF[engine]} package: "
            f"pip install {PACKAGE_OF[engine]}",
            source=str(path),
        ) from None
    except Exception as exc:  # every reader raises its own types for a damaged file
        raise DataError(
            f"cannot read the file as a {path.suffix} workbook: {plain(exc)}", source=str(path)
        ) from None
    return {
        str(name): [[cell_text(v) for v in row] for row in frame.itertuples(index=False)]
        for name, frame in sheets.items()
    }


def cell_text(value: Any) -> str:
    """The text a spreadsheet shows for a cell value (see the module docstring)."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        text = format(number, ".15g")
        return "0" if text == "-0" else text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return "" if text in ("NaT", "nan") else text
