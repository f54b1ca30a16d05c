"""How a CSV file was written: its encoding, column separator and decimal mark.

A CSV saved by a European spreadsheet differs from the plain one in three ways, each read
here so that no number is read as another:

- **Encoding**: UTF-8, with or without a byte-order mark (BOM); UTF-16 or UTF-32 with their
  BOM. Anything else (Latin-1, Windows-1252 ...) is refused with one line naming
  ``--encoding``, unless the user gives the encoding: a guess could read "Müller" as "MÃ¼ller"
  or a byte as a letter that is not there.
- **Separator**: comma, semicolon or tab, the one that splits the header line (outside
  quotes) into the most columns; a header that two of them split equally is refused (choose
  with ``--separator``).
- **Decimal mark**: a comma where the separator is a semicolon (as Excel writes it in
  Germany, France...), or where ``--decimal ,`` says so; a point otherwise. With a decimal
  comma, ``0,5`` is read as 0.5, and a number written with a point (``1.234``, ``1.234,5``:
  a thousands separator, or a decimal point the file does not use) is an error naming the
  cell, never read as 1.234. With a decimal point, ``1,234`` cannot be a number (it is two
  fields, or an error in a number column).

Line ends (LF, CRLF, CR) are all read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

from bayesmeta.errors import DataError
from bayesmeta.io.cells import show, trim

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
SEPARATOR_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", ",": ",", ";": ";", "\\t": "\t"}
DECIMALS = (".", ",")

_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_COMMA_NUMBER = re.compile(r"[+-]?[0-9]+,[0-9]+(?:[eE][+-]?[0-9]+)?", re.ASCII)
# in a decimal-comma file: a point in a number (1.234, 1.234,5, 0.5, .5) is ambiguous
_POINT_NUMBER = re.compile(
    r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]*)?|[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?)",
    re.ASCII,
)


@dataclass(frozen=True)
class Dialect:
    """The separator and decimal mark of a CSV file, and the encoding it was read with."""

    separator: str = ","
    decimal: str = "."
    encoding: str = "utf-8"

    def describe(self) -> str:
        """``semicolon-separated, decimal comma, UTF-8``: for the note of a non-plain file."""
        mark = "decimal comma" if self.decimal == "," else "decimal point"
        return f"{SEPARATORS[self.separator]}-separated, {mark}, {self.encoding}"


def decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    """The text of a file and the encoding it was read with.

    Raises
    ------
    DataError
        An unknown ``encoding``, bytes that are not text in it, or (without ``encoding``)
        a file that is neither UTF-8 nor UTF-16/32 with a byte-order mark.
    """
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise DataError(
                f"unknown --encoding {show(encoding)}; e.g. utf-8, cp1252, latin-1, utf-16",
                source=source,
            ) from None
        try:
            text = data.decode("utf-8-sig" if codec == "utf-8" else codec)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"not {encoding} text (byte {exc.object[exc.start]:#04x} at offset "
                f"{exc.start}); give the file's encoding with --encoding",
                source=source,
            ) from None
        return text.lstrip("\ufeff"), codec
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).lstrip("\ufeff"), codec.removesuffix("-sig")
            except UnicodeDecodeError:
                raise DataError(
                    f"the file starts with a {codec.removesuffix('-sig').upper()} byte-order "
                    "mark but is not valid text in it; give its encoding with --encoding",
                    source=source,
                ) from None
    head = data[:4096]
    if head.count(0) * 4 >= len(head) > 0:  # UTF-16 of ASCII text: every other byte NUL
        raise DataError(
            "the file holds NUL bytes: UTF-16 text without a byte-order mark? give "
            "--encoding utf-16-le (or utf-16-be), or save it as UTF-8",
            source=source,
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        hint = (
            "if it was saved as Windows or Latin-1 text, give --encoding cp1252 "
            "(or latin-1), or save it as UTF-8"
        )
        raise DataError(
            f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); {hint}",
            source=source,
        ) from None


def separator(name: str | None) -> str | None:
    """The separator character of ``--separator`` (comma, semicolon, tab or the character)."""
    if name is None:
        return None
    if name not in SEPARATOR_NAMES:
        raise DataError(f"--separator must be comma, semicolon or tab, got {show(name)}")
    return SEPARATOR_NAMES[name]


def sniff(text: str, sep: str | None, decimal: str | None, source: str) -> Dialect:
    """The dialect of CSV ``text``: the given separator/decimal mark, else detected.

    Raises
    ------
    DataError
        An ambiguous header, a decimal comma with comma-separated columns, or an unknown
        decimal mark.
    """
    if decimal is not None and decimal not in DECIMALS:
        raise DataError(f"--decimal must be '.' or ',', got {show(decimal)}", source=source)
    if sep is None:
        header = _first_line(text)
        counts = {s: _fields(header, s) for s in SEPARATORS}
        best = max(counts.values())
        winners = [s for s, n in counts.items() if n == best]
        if best > 1 and len(winners) > 1:
            both = " and ".join(SEPARATORS[s] + "s" for s in winners)
            raise DataError(
                f"the header line is split into {best} columns by {both} alike; choose the "
                "separator with --separator comma|semicolon|tab",
                source=source,
            )
        sep = winners[0] if best > 1 else ","
    if decimal is None:
        decimal = "," if sep == ";" else "."
    if decimal == "," and sep == ",":
        raise DataError(
            "--decimal , needs another separator than the comma (semicolon or tab)",
            source=source,
        )
    return Dialect(sep, decimal)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _fields(line: str, sep: str) -> int:
    try:
        return len(next(csv.reader(io.StringIO(line), delimiter=sep), []))
    except csv.Error:
        return 1


def decimal_cell(text: str) -> str:
    """A cell of a decimal-comma file as a plain number's text (``0,5`` -> ``0.5``).

    Raises
    ------
    ValueError
        A number written with a point (``1.234``, ``0.5``): a thousands separator or a decimal
        point this file does not use, ambiguous either way.
    """
    core = trim(text)
    if _COMMA_NUMBER.fullmatch(core):
        return core.replace(",", ".")
    if _POINT_NUMBER.fullmatch(core):
        raise ValueError(
            f"{show(core)} has a point in a file with decimal commas: a thousands separator or "
            "a decimal point? write it without thousands separators and with a decimal comma "
            "(or give --decimal . if the file uses points)"
        )
    return text
