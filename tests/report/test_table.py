"""One table model (bayesmeta/report/table.py) feeds the terminal, the HTML and the Markdown
report: the same object rendered three ways gives the same cells, aligned alike.

Independent reference: metafor's ``rma(yi, vi, method = "REML")`` on bcg
(``tests/reference/bcg.metafor.json``, R 4.2.2, metafor 3.8-1), the frequentist row shown.
"""

from __future__ import annotations

import html
import io
import math
import re

from rich.console import Console

from bayesmeta.report.format import interval, num
from bayesmeta.report.table import print_table, table, to_html, to_markdown, to_rich
from bayesmeta.report.terminal import frequentist_rows, posterior_rows, study_rows
from tests.conftest import reference


def _terminal(t) -> list[str]:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    print_table(t, console)
    return [line.rstrip() for line in console.file.getvalue().splitlines()]


def _html_rows(page: str) -> list[list[str]]:
    rows = [
        re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>.*?</tr>", page)
    ]
    return [[html.unescape(cell) for cell in row] for row in rows]


def _markdown_rows(md: str) -> list[list[str]]:
    lines = [line for line in md.splitlines() if line.startswith("|") and "---" not in line]
    cells = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines]
    return [[re.sub(r"\\(.)", r"\1", c) for c in row] for row in cells]


def test_the_frequentist_table_is_one_model_for_three_renderers(exact_fits):
    result = exact_fits["bcg"]
    t = frequentist_rows(result.frequentist, result.frequentist_scale, ("random_reml",))
    ref = reference("bcg", "metafor")["re_reml"]
    expected = [
        "REML",
        num(math.exp(ref["est"])),
        interval(math.exp(ref["ci_lb"]), math.exp(ref["ci_ub"])),
    ]
    assert t.rows[0][:3] == expected
    assert t.rows[0][4] == num(ref["tau2"], 3)
    assert _html_rows(to_html(t)) == [t.columns, *t.rows]
    assert _markdown_rows(to_markdown(t)) == [t.columns, *t.rows]
    text = _terminal(t)
    assert text[0] == "Frequentist"
    assert text[2].split()[:2] == ["REML", expected[1]]


def test_alignment_and_notes_reach_every_renderer():
    t = table(["Study", "Value"], [["a", "1.5"], ["bb", "10.25"]], title="T", notes=["* a note"])
    assert t.align == ["left", "right"]
    assert [c.justify for c in to_rich(t).columns] == ["left", "right"]
    html, md = to_html(t), to_markdown(t)
    assert '<th class="num">Value</th>' in html and "<th>Study</th>" in html
    assert "|---|---:|" in md
    assert "<p>* a note</p>" in html and "\\* a note" in md
    lines = _terminal(t)
    assert lines[-1] == "* a note"
    assert to_html(table(["Study"], [["a"]])).endswith("</table>")  # no notes, nothing after
    assert lines[2].endswith(" 1.5") and lines[3].endswith("10.25")  # right-aligned numbers


def test_short_rows_are_padded_so_every_renderer_gets_full_rows(exact_fits):
    t = posterior_rows(exact_fits["bcg"])
    assert {len(row) for row in t.rows} == {len(t.columns)}
    below = next(row for row in t.rows if row[0].startswith("P("))
    assert below[2:] == ["", "", ""]


def test_the_study_table_says_what_its_asterisk_means(exact_fits):
    t = study_rows(exact_fits["li2007"])
    starred = [row for row in t.rows if row[-2].endswith("*")]
    assert starred and t.notes == ["* observed estimate with 0.5 added to each cell (zero cell)"]
    assert not study_rows(exact_fits["bcg"]).notes
