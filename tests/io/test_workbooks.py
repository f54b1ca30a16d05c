"""Workbooks (.xlsx, .ods) read as the text their cells show, with the numbers of the same
data in a plain CSV.

No public workbook of meta-analysis counts was found, so the workbooks here are written by the
test with other tools than bayesmeta's reader: openpyxl for .xlsx (the formula's cached value
patched into the sheet XML, as a spreadsheet saves it), odfpy for .ods. The data are the shipped
BCG trials (examples/bcg.csv), the reference is ``classic`` on that CSV.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import pytest

from bayesmeta.errors import DataError
from bayesmeta.frequentist.classic import classic
from bayesmeta.io.inputs import load
from bayesmeta.io.table import TableFile
from tests.conftest import EXAMPLES, fails_cleanly

BCG = EXAMPLES / "bcg.csv"


def bcg_rows() -> list[list[object]]:
    """The BCG table with numbers as numbers (as a spreadsheet stores them)."""
    rows = list(csv.reader(BCG.open()))
    out: list[list[object]] = [rows[0]]
    for row in rows[1:]:
        out.append([row[0], *(int(v) for v in row[1:6]), row[6], int(row[7])])
    return out


def numbers(result: object) -> dict:
    out = result.to_dict()
    return {k: out[k] for k in ("effect_sizes", "frequentist")}


def review_xlsx(path: Path) -> Path:
    """A review's workbook: a notes sheet first, then the data under a merged title row,
    with a count stored as 4.0, one calculated as 12.000000000000002, one as a formula with
    its cached value, a number formatted as text and formatted but empty cells after the
    table (trailing columns and rows)."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes["A1"] = "Extraction notes: see the Data sheet"
    sheet = book.create_sheet("Data")
    sheet["A1"] = "Table 1. BCG vaccine trials (Colditz 1994)"
    sheet.merge_cells("A1:H1")
    for r, row in enumerate(bcg_rows(), start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    sheet["B3"] = 4.0  # Aronson: treatment events 4, stored as a float
    sheet["C3"] = 123  # Aronson treatment total: 123.00000000000001 patched in below
    sheet["E3"] = "=100+39"  # Aronson control total 139; its cached value patched in below
    sheet["D4"] = "29"  # Ferguson & Simes control events as text
    sheet["J30"].number_format = "0.00"  # formatted empty cells beyond the table
    sheet["J30"].font = openpyxl.styles.Font(bold=True)
    book.save(path)
    # as a spreadsheet saves them: the formula with its cached value, the calculated count
    # with its binary artefact (openpyxl itself writes a float's shortest text)
    cells = {
        "E3": "<f>100+39</f><v>139</v>",
        "C3": "<v>123.00000000000001</v>",
        "B3": "<v>4.0</v>",
    }
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = "xl/worksheets/sheet2.xml"
    xml = parts[name].decode()
    for ref, content in cells.items():
        xml, n = re.subn(rf'(<c r="{ref}"[^>]*?)(?:/>|>.*?</c>)', rf"\1>{content}</c>", xml)
        assert n == 1, ref
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for part, data in parts.items():
            z.writestr(part, data)
    return path


def test_xlsx_title_row_second_sheet_and_cells_as_shown(tmp_path) -> None:
    path = review_xlsx(tmp_path / "review.xlsx")
    data = load(path)
    assert data.k == 13
    assert (data.treatment_events[0], data.treatment_total[0], data.control_total[0]) == (
        4,
        123,
        139,
    )
    assert data.control_events[1] == 29
    assert data.warnings[:2] == (
        f"{path}: read sheet 'Data' (2 of 2), the first with the columns needed",
        f"{path} [sheet Data]: the header is row 2; skipped 1 row above it: "
        "Table 1. BCG vaccine trials (Colditz 1994)",
    )
    assert list(data.covariates.columns) == ["ablat", "alloc", "year"]
    assert numbers(classic(data)) == numbers(classic(load(BCG)))
    assert exact_fit(path) == exact_fit(BCG)


def exact_fit(path: Path) -> dict:
    """The posterior of the exact normal-normal fit of ``path`` (the cheap ``fit``)."""
    from bayesmeta.workflows.request import AnalysisRequest, execute, plan

    request = AnalysisRequest(data=path, model="normal-normal", engine="exact")
    return execute(plan(request)).to_dict()["posterior"]


def test_sheet_by_name_or_number_and_unknown_sheets(tmp_path) -> None:
    path = review_xlsx(tmp_path / "review.xlsx")
    assert load(TableFile(path, sheet="Data")).k == 13
    assert load(TableFile(path, sheet="2")).k == 13
    with pytest.raises(DataError, match=r"\[sheet Notes\]: does not look like a table of studies"):
        load(TableFile(path, sheet="Notes"))  # a sheet of notes, not quoted
    with pytest.raises(DataError, match=r"no such sheet; the workbook has 'Notes', 'Data'"):
        load(TableFile(path, sheet="3"))
    line = fails_cleanly(["classic", str(path), "--sheet", "Summary"])
    assert "--sheet 'Summary': no such sheet" in line
    line = fails_cleanly(["classic", str(BCG), "--sheet", "1"])
    assert "--sheet does not apply: the file is not a workbook" in line


def test_count_cells_that_do_not_show_a_whole_number_are_refused(tmp_path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    rows = bcg_rows()
    rows[1][1] = 4.5
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "half.xlsx")
    with pytest.raises(DataError, match=r"row 1 \('Aronson 1948'\).*whole number.*'4.5'"):
        load(tmp_path / "half.xlsx")


def test_ods_written_by_odfpy_gives_the_csv_numbers(tmp_path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="BCG")
    title = TableRow()
    cell = TableCell(valuetype="string", numbercolumnsspanned=8)
    cell.addElement(P(text="BCG trials"))
    title.addElement(cell)
    table.addElement(title)
    for row in bcg_rows():
        tr = TableRow()
        for value in row:
            if isinstance(value, int):
                tc = TableCell(valuetype="float", value=value)
            else:
                tc = TableCell(valuetype="string")
            tc.addElement(P(text=str(value)))
            tr.addElement(tc)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    path = tmp_path / "bcg.ods"
    doc.save(str(path))
    data = load(path)
    assert data.warnings[0] == f"{path}: the header is row 2; skipped 1 row above it: BCG trials"
    assert numbers(classic(data)) == numbers(classic(load(BCG)))


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods"])
def test_a_file_that_is_not_a_workbook_is_one_line(tmp_path, suffix: str) -> None:
    fake = tmp_path / f"fake{suffix}"
    fake.write_text("study,events,total\n")
    assert f"cannot read the file as a {suffix} workbook" in fails_cleanly(["classic", str(fake)])


def test_reported_effects_in_column_b_below_blank_rows(tmp_path) -> None:
    """The header's row number counts the sheet's rows; the empty column A is not a column."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"] = "Hazard ratios of death"
    rows = [["study", "hr", "ci_lower", "ci_upper"], ["A", 0.5, 0.3, 0.9], ["B", 0.8, 0.6, 1.1]]
    for r, row in enumerate(rows, start=5):
        for c, value in enumerate(row, start=2):
            sheet.cell(row=r, column=c, value=value)
    book.save(tmp_path / "hr.xlsx")
    plain = tmp_path / "hr.csv"
    plain.write_text("study,hr,ci_lower,ci_upper\nA,0.5,0.3,0.9\nB,0.8,0.6,1.1\n")
    data = load(tmp_path / "hr.xlsx")
    assert data.warnings[0].endswith(
        "the header is row 5; skipped 1 row above it: Hazard ratios of death"
    )
    assert list(data.covariates.columns) == []
    assert numbers(classic(data)) == numbers(classic(load(plain)))


@pytest.mark.parametrize("suffix", [".xlsb", ".numbers"])
def test_workbook_formats_not_read_say_how_to_save_them(tmp_path, suffix: str) -> None:
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"PK\x03\x04binary")
    line = fails_cleanly(["classic", str(path)])
    assert f"{suffix} workbooks are not read; save the sheet as .xlsx, .ods or .csv" in line
