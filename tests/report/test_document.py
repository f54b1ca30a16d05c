"""The report document: sections, numbers, escaping, checklist links, self-containment.

Exact-engine analyses (no Monte Carlo error, fast) of the shipped examples; numbers are checked
against the analysis they report and, for the frequentist blocks, against metafor
(``tests/reference/NAME.metafor.json``, R 4.2.2, metafor 3.8-1).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bayesmeta.errors import BayesmetaError
from bayesmeta.report import document
from bayesmeta.report.methods import REFERENCES, checklist, cite, justification
from bayesmeta.workflows.report import analyses
from bayesmeta.workflows.request import AnalysisRequest, plan
from tests.conftest import EXAMPLES, reference
from tests.report.conftest import FAST

SECTIONS = (
    "summary",
    "data",
    "forest",
    "posterior",
    "frequentist",
    "heterogeneity",
    "sensitivity",
    "influence",
    "small-study",
    "diagnostics",
    "model-checks",
    "methods",
    "checklist",
    "provenance",
    "references",
)


class Page(HTMLParser):
    """Element ids, tables (as rows of cell text), external references and the JSON block."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.external: list[str] = []
        self.images: list[str] = []
        self.json = ""
        self._cell: list[str] | None = None
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for key in ("src", "href"):
            value = a.get(key) or ""
            if re.match(r"(https?:)?//", value):
                self.external.append(value)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "link":
            self.external.append(a.get("href", "link"))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self._in_json = a.get("type") == "application/json"
            if a.get("src"):
                self.external.append(a["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        if tag == "script":
            self._in_json = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_json:
            self.json += data


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def table_with(page: Page, header: str) -> list[list[str]]:
    return next(t for t in page.tables if t and t[0] and t[0][0] == header)


@pytest.fixture(scope="module")
def bcg_report(bcg_exact_report):
    contents = bcg_exact_report
    return contents, document.render_html(contents)


def test_every_section_is_on_the_page(bcg_report):
    _, html = bcg_report
    page = parse(html)
    assert [i for i in page.ids if i in SECTIONS] == list(SECTIONS)
    # the figures that apply are embedded; trace and rank have no chains (exact engine)
    assert {"figure-forest", "figure-posterior", "figure-tau", "figure-sensitivity"} <= set(
        page.ids
    )
    assert "figure-funnel" in page.ids and "figure-trace" not in page.ids
    assert "Not run: not asked for." in html  # influence
    assert "no chains to check" in html


def test_page_is_self_contained(bcg_report):
    _, html = bcg_report
    page = parse(html)
    assert page.external == []
    assert page.images and all(s.startswith("data:image/png;base64,") for s in page.images)
    assert "<link" not in html and "@import" not in html and "url(" not in html


def test_numbers_are_those_of_the_analysis(bcg_report):
    contents, html = bcg_report
    page = parse(html)
    doc = json.loads(page.json)
    expected = json.loads(json.dumps(contents.result.to_dict()))
    assert doc["analysis"] == expected
    assert doc["provenance"]["seed"] == FAST.seed
    post = expected["posterior"]
    rows = {r[0]: r for r in table_with(page, "Quantity")}
    assert rows["Pooled OR"][1] == f"{post['odds_ratio']['median']:.3f}"
    lo, hi = post["odds_ratio"]["ci95"]
    assert rows["Pooled OR"][4] == f"[{lo:.3f}, {hi:.3f}]"
    assert rows["Heterogeneity SD, tau"][1] == f"{post['tau']['median']:.3f}"
    assert rows["P(OR < 1)"][1] == (
        "> 0.9999" if post["prob_mu_below_0"] > 0.9999 else f"{post['prob_mu_below_0']:.4f}"
    )
    metafor = reference("bcg", "metafor")
    freq = {r[0]: r for r in table_with(page, "Method")}
    assert freq["REML"][5] == f"{metafor['re_reml']['I2']:.1f}"
    assert freq["Mantel-Haenszel (common)"][1] == f"{2.718281828459045 ** metafor['mh']['est']:.2f}"


def test_sensitivity_table_starts_with_the_analysis_prior(bcg_report):
    contents, html = bcg_report
    rows = table_with(parse(html), "Prior for tau")
    assert rows[1][0] == "half-normal(0.5) (analysis)"
    assert [r[0] for r in rows[2:]] == [
        "half-normal(1)",
        "half-cauchy(0.5)",
        "turner(all-cause mortality, pharmacological vs. placebo / control)",
    ]
    first = contents.sensitivity[0]
    # the analysis' prior refitted: the same exact posterior as the analysis
    assert first.mu.median == pytest.approx(contents.result.posterior.mu.median, rel=1e-12)


def test_checklist_items_point_to_sections_on_the_page(bcg_report):
    contents, html = bcg_report
    items = checklist(contents)
    robust = [i for i in items if i.guideline == "ROBUST"]
    assert [i.item[0] for i in robust] == list("1234567")
    assert {i.guideline for i in items} == {"ROBUST", "BARG"}
    ids = set(parse(html).ids)
    assert all(i.section in ids for i in items)
    by_item = {i.item: i for i in items}
    assert by_item["3. Sensitivity analysis of the prior"].status == "reported"
    assert by_item["2B. MCMC chain convergence"].status == "n/a"  # exact engine
    assert "mu ~ normal(0, 2.82)" in by_item["1. Prior distribution specified"].answer
    # the model checks the package computes fill the BARG items (issue 20)
    assert "not reported" not in {i.status for i in items}
    prior, ppc = by_item["1E. Prior predictive check"], by_item["3. Posterior predictive check"]
    assert prior.status == ppc.status == "reported"
    assert prior.section == ppc.section == "model-checks"
    assert "95% of a study's odds ratio between" in prior.answer
    assert "posterior predictive p-values of the 13 studies" in ppc.answer


def test_model_checks_section_shows_each_study_and_the_prior_predictive(bcg_report):
    contents, html = bcg_report
    checks = contents.result.checks
    page = parse(html)
    table = next(t for t in page.tables if t and t[0][:4] == [
        "Study", "Observed", "P(rep < obs)", "p (two-sided)"])  # fmt: skip
    assert len(table) == 1 + contents.result.data.k
    first = checks.posterior_predictive.studies[0]
    assert table[1][2] == f"{first.p_lower:.3f}"
    assert checks.prior_predictive.line() in html.replace("&#39;", "'")


def test_methods_name_model_priors_software_and_cite_them(bcg_report):
    _, html = bcg_report
    assert "normal-normal random-effects meta-analysis" in html
    assert "mu ~ normal(0, 2.82): weakly informative" in html
    assert "exactly by numerical integration" in html
    from importlib.metadata import version

    assert f"scipy {version('scipy')}" in html
    for key in ("gunhan2020", "viechtbauer2010", "sung2005", "kruschke2021"):
        assert REFERENCES[key] in html


def test_prior_justifications():
    from bayesmeta.model.priors import parse_prior

    assert justification("tau", parse_prior("half-normal(0.5)"))[1] == (
        "spiegelhalter2004",
        "friede2017",
        "rover2021",
    )
    turner = parse_prior("turner(all-cause mortality, pharmacological vs placebo)")
    assert justification("tau", turner)[1] == ("turner2015",)
    assert "chosen by the analyst" in justification("mu", parse_prior("normal(0, 5)"))[0]
    assert cite("egger1997", "sterne2011") == "(Egger 1997; Sterne 2011)"


def test_study_names_are_printed_literally(tmp_path):
    """Real bcg counts; one study label made of markup characters."""
    rows = (EXAMPLES / "bcg.csv").read_text().splitlines()
    name = 'Aronson <b>1948</b> & "Co" | *x*'
    rows[1] = rows[1].replace('"Aronson 1948"', '"' + name.replace('"', '""') + '"')
    path = tmp_path / "bcg.csv"
    path.write_text("\n".join(rows) + "\n")
    request = AnalysisRequest(data=path, model="normal-normal", settings=FAST)
    contents = analyses(plan(request), parts=("fit",))
    html = document.render_html(contents)
    assert "<b>1948</b>" not in html
    assert "Aronson &lt;b&gt;1948&lt;/b&gt; &amp; &#34;Co&#34; | *x*" in html
    assert table_with(parse(html), "Study")[1][0] == name  # the parsed cell is the name
    text, _ = document.render_markdown(contents, tmp_path / "r.md")
    assert '| Aronson \\<b\\>1948\\</b\\> & "Co" \\| \\*x\\* |' in text


def test_markdown_report_references_its_figure_files(bcg_report, tmp_path):
    contents, _ = bcg_report
    out = tmp_path / "r.md"
    text, files = document.render_markdown(contents, out)
    assert {p.name for p in files} == {
        "r-forest.png",
        "r-posterior.png",
        "r-tau.png",
        "r-sensitivity.png",
        "r-funnel.png",
        "r-contour_funnel.png",
        "r-prior_predictive.png",
    }
    for path, data in files.items():
        assert f"]({path.name})" in text
        assert data.startswith(b"\x89PNG")
    for heading in ("## Data", "## Forest plot", "## Prior sensitivity", "## Provenance"):
        assert heading in text
    assert "[Prior sensitivity](#prior-sensitivity)" in text


def test_output_files_and_refused_suffix(tmp_path):
    assert document.output_files(tmp_path / "r.html") == [tmp_path / "r.html"]
    md = document.output_files(tmp_path / "r.md")
    assert md[0] == tmp_path / "r.md" and tmp_path / "r-forest.png" in md
    with pytest.raises(BayesmetaError, match=r"\.html .* or \.md"):
        document.output_files(tmp_path / "r.pdf")


def test_write_report_checks_every_file_first(bcg_report, tmp_path):
    contents, _ = bcg_report
    out = tmp_path / "r.md"
    (tmp_path / "r-funnel.png").write_bytes(b"keep")
    with pytest.raises(BayesmetaError, match=r"r-funnel\.png exists"):
        document.write_report(contents, out)
    assert not out.exists() and not (tmp_path / "r-forest.png").exists()
    assert (tmp_path / "r-funnel.png").read_bytes() == b"keep"
    written = document.write_report(contents, out, overwrite=True)
    assert out in written and all(Path(p).exists() for p in written)


def test_small_study_section_has_the_publication_bias_analyses(bcg_report):
    """The table's trim-and-fill and PET rows are metafor's (tests/reference/metafor_bias.json:
    trimfill(rma(yi, vi, method = "REML")) and lm(yi ~ sqrt(vi), weights = 1 / vi) on bcg);
    the contour-enhanced funnel is embedded."""
    import math

    _, html = bcg_report
    page = parse(html)
    ref = json.loads((Path(__file__).parents[1] / "reference" / "metafor_bias.json").read_text())
    ref = ref["bcg"]
    table = table_with(page, "Bias method")
    rows = {row[0]: row for row in table}
    tf = ref["trimfill_REML_L0"]
    assert rows["Trim-and-fill (REML, L0)"][1] == f"{math.exp(tf['est']):.2f}"
    assert rows["Trim-and-fill (REML, L0)"][3].startswith(f"{tf['k0']} filled on the {tf['side']}")
    assert rows["PET (WLS on the SE)"][1] == f"{math.exp(ref['pet']['b0']):.2f}"
    assert "selection assumed to favour negative effects" in html
    assert "figure-contour_funnel" in page.ids


def test_influence_section_has_metafors_case_diagnostics(bcg_exact_report, bcg_exact_influence):
    """With the leave-one-out analysis run, the section also has metafor's influence() of the
    same random-effects model (tests/reference/metafor_issue20.json, bcg, REML)."""
    import dataclasses
    import json

    from bayesmeta.workflows.presentation import case_diagnostics
    from tests.conftest import REFERENCE

    _, infl = bcg_exact_influence
    shown = dataclasses.replace(
        bcg_exact_report.presentation,
        case_diagnostics=case_diagnostics(bcg_exact_report.data, infl.method, 0.95),
    )
    contents = dataclasses.replace(bcg_exact_report, influence=infl, presentation=shown)
    page = parse(document.render_html(contents))
    table = next(t for t in page.tables if t and t[0][:2] == ["Study", "Influential"])
    ref = json.loads((REFERENCE / "metafor_issue20.json").read_text())["influence"]["bcg"]
    assert infl.method == "REML"
    cook = [float(row[4]) for row in table[1:]]
    assert cook == pytest.approx(ref["REML_z"]["cook_d"], abs=5e-4)  # printed to 3 decimals
    assert [row[1] == "*" for row in table[1:]] == ref["REML_z"]["inf"]
