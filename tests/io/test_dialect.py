"""CSV dialects: European spreadsheets' CSVs read right, and nothing read silently wrong.

The European files are written byte by byte here (a BOM, CRLF line ends, semicolons, decimal
commas), as Excel saves "CSV (semicolon delimited)" in a German locale; the reference is the
same data in the plain comma-separated CSV.
"""

from __future__ import annotations

import codecs

import pytest

from bayesmeta.errors import DataError
from bayesmeta.frequentist.classic import classic
from bayesmeta.io.inputs import load
from bayesmeta.io.table import TableFile
from tests.conftest import EXAMPLES, fails_cleanly
from tests.io.test_workbooks import exact_fit

BCG = EXAMPLES / "bcg.csv"
STEURER = EXAMPLES / "steurer2006_hr.csv"


def numbers(result: object) -> dict:
    out = result.to_dict()
    return {k: out[k] for k in ("effect_sizes", "frequentist")}


def european(path, text: str, *, bom: bytes = codecs.BOM_UTF8, encoding: str = "utf-8") -> str:
    """``text`` (a plain CSV) as a semicolon CSV with decimal commas, CRLF and a BOM."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    lines = []
    for row in rows:
        cells = [c.replace(".", ",") if _is_decimal(c) else c for c in row]
        lines.append(";".join(f'"{c}"' if ";" in c or "," in c else c for c in cells))
    path.write_bytes(bom + "\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def _is_decimal(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return "." in cell


def test_semicolon_decimal_comma_bom_crlf_gives_the_plain_csv_numbers(tmp_path) -> None:
    counts = european(tmp_path / "bcg_de.csv", BCG.read_text())
    assert counts.read_bytes().startswith(codecs.BOM_UTF8 + b"study;")
    data = load(counts)
    assert data.warnings[0] == f"{counts}: read as semicolon-separated, decimal comma, utf-8"
    assert numbers(classic(data)) == numbers(classic(load(BCG)))
    assert exact_fit(counts) == exact_fit(BCG)
    # reported effects: hazard ratios with CIs written with decimal commas ("0,89")
    reported = european(tmp_path / "steurer_de.csv", STEURER.read_text())
    assert b"0,8" in reported.read_bytes() or b"1,0" in reported.read_bytes()
    assert numbers(classic(load(reported))) == numbers(classic(load(STEURER)))


def test_tab_separated_and_utf16_with_bom_are_read(tmp_path) -> None:
    text = BCG.read_text().replace(",", "\t")
    tab = tmp_path / "bcg.tsv"
    tab.write_text(text)
    assert numbers(classic(load(tab))) == numbers(classic(load(BCG)))
    utf16 = tmp_path / "bcg16.csv"
    utf16.write_bytes(BCG.read_text().encode("utf-16"))  # with its BOM, as Excel's "Unicode"
    assert numbers(classic(load(utf16))) == numbers(classic(load(BCG)))
    tab_decimal = tmp_path / "reported.tsv"
    tab_decimal.write_text("study\tlog_or\tse\nA\t-0,5\t0,2\nB\t0,25\t0,3\n")
    assert list(load(TableFile(tab_decimal, decimal=",")).yi) == [-0.5, 0.25]


def test_quoted_names_with_separators_are_read_right(tmp_path) -> None:
    path = tmp_path / "names.csv"
    path.write_text('study;events;total\n"Smith; Jones, 2005";1;10\n"Lee, 2010";2;10\n')
    assert load(path).study == ("Smith; Jones, 2005", "Lee, 2010")


@pytest.mark.parametrize("cell", ["1.234", "1.234,5", "0.5", "12.000"])
def test_a_point_in_a_decimal_comma_file_is_an_error(tmp_path, cell: str) -> None:
    path = tmp_path / "points.csv"
    path.write_text(f"study;log_or;se\nA;{cell};0,2\nB;0,1;0,3\n")
    with pytest.raises(DataError, match=r"row 1, column 'log_or': .*point in a file with decimal"):
        load(path)
    points = tmp_path / "points_only.csv"
    points.write_text("study;log_or;se\nA;1.234;0.2\nB;0.1;0.3\n")
    assert list(load(TableFile(points, decimal=".")).yi) == [1.234, 0.1]


def test_thousands_commas_in_a_comma_file_are_errors(tmp_path) -> None:
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('study,events,total\nA,1,"1,234"\nB,2,10\n')
    with pytest.raises(DataError, match=r"row 1 \('A'\), column 'total'.*whole number"):
        load(quoted)
    unquoted = tmp_path / "unquoted.csv"
    unquoted.write_text("study,events,total\nA,1,1,234\nB,2,10\n")
    with pytest.raises(DataError, match="4 fields but the header has 3"):
        load(unquoted)


def test_other_encodings_are_refused_naming_the_option_or_read_with_it(tmp_path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("study;events;total\r\nM\xfcller;1;10\r\nB;2;10\r\n".encode("cp1252"))
    line = fails_cleanly(["classic", str(path)])
    assert "not UTF-8 text (byte 0xfc at offset 21)" in line and "--encoding cp1252" in line
    assert load(TableFile(path, encoding="cp1252")).study == ("Müller", "B")
    no_bom = tmp_path / "utf16le.csv"
    no_bom.write_bytes("study,events,total\nA,1,10\nB,2,10\n".encode("utf-16-le"))
    assert "UTF-16 text without a byte-order mark?" in fails_cleanly(["classic", str(no_bom)])
    assert load(TableFile(no_bom, encoding="utf-16-le")).k == 2
    assert "unknown --encoding 'klingon'" in fails_cleanly(
        ["classic", str(path), "--encoding", "klingon"]
    )


def test_ambiguous_or_contradictory_dialects_are_one_line_errors(tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("study,events;total\nA,1;10\nB,2;10\n")
    assert "--separator comma|semicolon|tab" in fails_cleanly(["classic", str(path)])
    plain = tmp_path / "plain.csv"
    plain.write_text("study,events,total\nA,1,10\nB,2,10\n")
    line = fails_cleanly(["classic", str(plain), "--decimal", ","])
    assert "--decimal , needs another separator than the comma" in line
    assert "--separator must be comma" in fails_cleanly(["classic", str(plain), "--separator", "|"])
