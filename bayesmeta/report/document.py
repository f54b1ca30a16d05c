"""The report as a document: its sections as tables of text, its figures, and the HTML and
Markdown files rendered from Jinja2 templates (``bayesmeta/report/templates``).

:func:`sections` turns :class:`~bayesmeta.workflows.report.Analyses` into what the templates
print (every number formatted here, none computed); :func:`render_html` gives one
self-contained page (figures as PNG data URIs, no external resources, so it reads offline and
when e-mailed), :func:`render_markdown` the Markdown text and its figures as PNG files to put
beside it. :func:`write_report` writes either, atomically. The whole analysis is embedded in
the HTML as JSON (``<script type="application/json" id="analysis">``): the same values
``bayesmeta fit --json`` writes, plus the sensitivity, influence and provenance blocks.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.bias import BIAS_METHODS
from bayesmeta.frequentist.methods import METHODS
from bayesmeta.frequentist.results import AsymmetryTest, PooledEstimate, Skipped
from bayesmeta.io.cells import is_missing
from bayesmeta.model.description import reference_direction
from bayesmeta.model.likelihoods import native
from bayesmeta.report import methods as words
from bayesmeta.report.figures import Style, save
from bayesmeta.report.figures.kinds import KINDS
from bayesmeta.report.format import interval, num, p_value, percent, probability
from bayesmeta.report.table import Table, environment
from bayesmeta.report.table import markdown_cell as markdown_cell  # where other modules find it
from bayesmeta.report.table import table as _table
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.presentation import NotRun
from bayesmeta.workflows.report import Analyses

FORMATS = (".html", ".md")
REPORT_DPI = 150
# the figures of a report, in the order they appear
REPORT_FIGURES = ("forest", "posterior", "tau", "sensitivity", "average", "robustness")
REPORT_FIGURES += ("influence", "funnel")
REPORT_FIGURES += ("contour_funnel", "bias")
REPORT_FIGURES += ("trace", "rank")
REPORT_FIGURES += ("prior_predictive",)


@dataclass(frozen=True)
class RenderedFigure:
    """One figure of the report: its name, caption and PNG bytes, or why there is none."""

    name: str
    caption: str
    png: bytes | None = None
    reason: str | None = None

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI (empty without a figure)."""
        if self.png is None:
            return ""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _text_table(columns: list[str], rows: list[list[str]]) -> Table:
    """A table whose every column is text."""
    return Table(columns, rows, [False] * len(columns))


def _shown(result: AnalysisResult, s: Summary, digits: int = 2) -> str:
    """``0.47 [0.33, 0.70]`` on the shown scale."""
    show = result.scale.show
    lo, hi = s.interval
    return f"{num(float(show(s.median)), digits)} {interval(show(lo), show(hi), digits)}"


def _probability(text: str) -> str:
    """``"= 0.0051"``, or a bound as ``"< 0.0001"``, to follow ``p`` or ``P(OR < 1)``."""
    if text[0] in "<>":
        return f"{text[0]} {text[1:].strip()}"
    return f"= {text}"


def summary_lines(result: AnalysisResult) -> list[str]:
    """The key results in a few sentences, for the top of the report."""
    post, scale, level = result.posterior, result.scale, percent(result.level)
    lines = []
    if post.mu is not None:
        label = f"Pooled {scale.label}" if post.pooled is not None else "Pooled effect (mu)"
        lines.append(
            f"{label}: {_shown(result, post.mu)} (posterior median, {level} CrI); "
            f"{scale.below} {_probability(probability(post.prob_mu_below_0))}."
        )
        if not result.common_effect:
            lines.append(
                f"Effect in a new study: {_shown(result, post.theta_new)} "
                f"({level} prediction interval)."
            )
    for name, group in (post.subgroups or {}).items():
        lines.append(
            f"{result.moderators.subgroup} = {name}: {_shown(result, group.mu)}; "
            f"{scale.below} {_probability(probability(group.prob_mu_below_0))}."
        )
    if post.tau is not None:
        lo, hi = post.tau.interval
        lines.append(f"Heterogeneity: tau {post.tau.median:.2f} [{lo:.2f}, {hi:.2f}].")
    return lines


def data_table(result: AnalysisResult) -> Table:
    """The input, one row per study: counts (or reported estimates) and covariates."""
    data = result.data
    columns, cells = native(data).data_rows(
        data, result.scale.show, result.scale.name.replace("_", " ")
    )
    rows = [[num(c, 3) if isinstance(c, float) else c for c in row] for row in cells]
    for name in data.covariates.columns:
        columns.append(str(name))
        for row, value in zip(rows, data.covariates[name].tolist(), strict=True):
            row.append(_cell(value))
    return _table(columns, rows)


def _cell(value: Any) -> str:
    """A covariate as the file wrote it: blank when missing, a whole number without ``.0``
    (a numeric column with a blank cell holds floats)."""
    if is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _summary_row(name: str, s: Summary, digits: int = 3) -> list[str]:
    return [
        name,
        num(s.median, digits),
        num(s.mean, digits),
        num(s.sd, digits),
        interval(*s.interval, digits),
    ]


def posterior_table(result: AnalysisResult) -> Table:
    """Pooled effect, tau, new-study effect and P(OR < 1), as ``fit`` prints them."""
    post, scale, level = result.posterior, result.scale, percent(result.level)
    rows = []
    where = " at covariate means" if post.coefficients else ""
    if post.mu is not None:
        if post.pooled is not None:
            rows.append(_summary_row(f"Pooled {scale.label}{where}", post.pooled))
        rows.append(_summary_row(f"Pooled mu ({scale.name}){where}", post.mu))
    for name, group in (post.subgroups or {}).items():
        if group.pooled is not None:
            rows.append(_summary_row(f"Pooled {scale.label}, {name}", group.pooled))
        rows.append(_summary_row(f"Pooled mu, {name}", group.mu))
    if post.tau is not None:
        rows.append(_summary_row("Heterogeneity SD, tau", post.tau))
    for name, group in (post.subgroups or {}).items():
        if group.tau is not None:
            rows.append(_summary_row(f"tau, {name}", group.tau))
    if post.theta_new is not None:
        if post.predictive is not None:
            rows.append(_summary_row(f"{scale.label} in a new study", post.predictive))
        rows.append(_summary_row("theta_new (new study)", post.theta_new))
    if post.prob_mu_below_0 is not None:
        rows.append([scale.below, probability(post.prob_mu_below_0), "", "", ""])
        above = scale.below.replace("<", ">")
        rows.append([above, probability(1 - post.prob_mu_below_0), "", "", ""])
    for name, group in (post.subgroups or {}).items():
        rows.append([f"{scale.below}, {name}", probability(group.prob_mu_below_0), "", "", ""])
    for name, s in (post.coefficients or {}).items():
        rows.append(_summary_row(f"Coefficient {name}", s, 4))
    return _table(["Quantity", "Median", "Mean", "SD", f"{level} CrI"], rows)


def frequentist_table(contents: Analyses) -> Table:
    """The frequentist estimates shown, on the shown scale of their measure (``--measure``;
    else the model's), as ``fit`` prints them."""
    result = contents.result
    show, label = result.frequentist_scale.show, result.frequentist_scale.label
    level = percent(result.level)
    rows = []
    for key in contents.methods:
        estimate = result.frequentist.get(key)
        name = METHODS[key].label
        if isinstance(estimate, Skipped):
            rows.append([name, f"not estimable: {estimate.reason}", "", "", "", "", ""])
        elif isinstance(estimate, PooledEstimate):
            rows.append(
                [
                    name,
                    num(float(show(estimate.estimate))),
                    interval(*(show(v) for v in estimate.ci)),
                    "zero-width CI" if estimate.degenerate else p_value(estimate.p),
                    num(estimate.tau2, 3),
                    num(estimate.i2, 1),
                    interval(*(show(v) for v in estimate.pi)) if estimate.pi else "-",
                ]
            )
    columns = ["Method", label, f"{level} CI", "p", "tau^2", "I^2 %", f"{level} PI"]
    return _table(columns, rows)


def heterogeneity_table(contents: Analyses) -> Table:
    """tau, I^2, Q and the prediction intervals, Bayesian beside frequentist."""
    result = contents.result
    post, level = result.posterior, percent(result.level)
    rows = []
    if post.tau is not None:
        rows.append(["tau (posterior median, CrI)", f"{num(post.tau.median, 3)} "
                     f"{interval(*post.tau.interval, 3)}", "Bayesian"])  # fmt: skip
    if post.theta_new is not None and not result.common_effect:
        rows.append([f"{level} prediction interval (new study)",
                     _shown(result, post.theta_new), "Bayesian"])  # fmt: skip
    method = contents.presentation.heterogeneity_method
    estimate = result.frequentist.get(method) if method else None
    if isinstance(estimate, PooledEstimate):
        name = METHODS[method].label
        if estimate.tau2_ci is not None:
            rows.append(["tau^2 (Q-profile CI)", f"{num(estimate.tau2, 3)} "
                         f"{interval(*estimate.tau2_ci, 3)}", name])  # fmt: skip
        if estimate.tau2 is not None:
            rows.append(["tau = sqrt(tau^2)", num(math.sqrt(estimate.tau2), 3), name])
        if estimate.i2 is not None:
            rows.append(["I^2", f"{num(estimate.i2, 1)}%", name])
        if estimate.h2 is not None:
            rows.append(["H^2", num(estimate.h2, 2), name])
        if estimate.q is not None:
            rows.append(["Cochran's Q (df), p", f"{num(estimate.q, 2)} ({estimate.k - 1}), "
                         f"p {_probability(p_value(estimate.q_p))}", name])  # fmt: skip
        if estimate.pi is not None:
            show = result.frequentist_scale.show
            rows.append([f"{level} prediction interval (new study)",
                         interval(*(show(v) for v in estimate.pi)), name])  # fmt: skip
    return _table(["Quantity", "Value", "From"], rows, first_text=1)


def sensitivity_table(rows: list[Any], primary: object) -> Table:
    """One row per tau prior: the pooled effect and tau under it."""
    scale = rows[0].scale
    level = percent(rows[0].mu.level)
    out = []
    for row in rows:
        show = scale.show
        mark = " (analysis)" if row.prior == primary else ""
        out.append(
            [
                f"{row.prior}{mark}",
                num(float(show(row.mu.median)), 3),
                interval(*(show(v) for v in row.mu.interval), 3),
                probability(row.prob_mu_below_0),
                num(row.tau.median, 3),
                interval(*row.tau.interval, 3),
                "yes" if row.converged else "NO",
            ]
        )
    columns = ["Prior for tau", f"{scale.label} median", f"{level} CrI", scale.below]
    columns += ["tau median", f"tau {level} CrI", "Converged"]
    return _table(columns, out)


def average_table(contents: Analyses) -> Table:
    """The four models: prior and posterior probability, log marginal likelihood and the
    pooled effect (shown scale), then the model-averaged effect."""
    from bayesmeta.report.figures.robustness import MODEL_LABELS

    avg, result = contents.average, contents.result
    level = percent(avg.mu.level)

    def effect(s: Summary | None) -> str:
        return _shown(result, s) if s is not None else "no effect (fixed)"

    rows = [
        [
            MODEL_LABELS[m],
            num(avg.prior_probabilities[m], 3),
            num(avg.log_ml[m], 3),
            f"{avg.posterior_probabilities[m]:.4g}",
            effect(avg.models[m]["mu"]),
        ]
        for m in MODEL_LABELS
    ]
    rows.append(["model-averaged", "", "", "", effect(avg.mu)])
    cols = ["Model", "Prior prob.", "log p(y | model)", "Posterior prob."]
    return _table([*cols, f"{result.scale.label} [{level} CrI]"], rows)


def average_lines(contents: Analyses) -> list[str]:
    """The inclusion Bayes factors and what the averaged effect is."""
    avg = contents.average

    def bf(x: float) -> str:
        return f"{math.exp(x):.4g}" if x < 709 else f"e^{x:.1f}"

    return [
        f"Inclusion Bayes factor for the effect: {bf(avg.log_inclusion_bf_effect)}; for "
        f"heterogeneity: {bf(avg.log_inclusion_bf_heterogeneity)} (posterior odds of the "
        "models with it over those without, divided by the prior odds).",
        "The model-averaged effect mixes the effect models' posteriors with a point mass at no "
        "effect of the no-effect models' probability (Gronau et al. 2021).",
    ]


def influence_table(contents: Analyses) -> Table:
    """The pooled effect and tau without each study, Bayesian and frequentist."""
    infl = contents.influence
    show = infl.scale.show
    level = percent(infl.full_bayesian.mu.level)

    def row(label: str, bayes: Any, freq: PooledEstimate | None) -> list[str]:
        lo, hi = bayes.mu.interval
        cells = [
            label,
            f"{num(float(show(bayes.mu.median)))} {interval(show(lo), show(hi))}",
            f"{num(bayes.tau.median, 3)} {interval(*bayes.tau.interval, 3)}"
            if bayes.tau is not None
            else "-",
        ]
        if freq is None:
            return [*cells, "-", "-"]
        freq_text = f"{num(float(show(freq.estimate)))} {interval(*(show(v) for v in freq.ci))}"
        return [*cells, freq_text, num(math.sqrt(freq.tau2 or 0.0), 3)]

    rows = [row("None (all studies)", infl.full_bayesian, infl.full_frequentist)]
    rows += [row(s, infl.bayesian[s], infl.frequentist.get(s)) for s in infl.studies]
    label = infl.scale.label
    columns = ["Omitted study", f"Bayesian {label} [{level} CrI]", f"tau [{level} CrI]"]
    columns += [f"{infl.method} {label} [{level} CI]", f"{infl.method} tau"]
    return _table(columns, rows)


def publication_bias_table(contents: Analyses) -> tuple[Table | None, str]:
    """The publication-bias analyses (trim-and-fill, PET/PEESE, selection models, rank test,
    fail-safe N) with the note on what they assume, or None and why not (single-arm data).

    The selection models assume selection favours effects in the direction of the
    common-effect estimate (stated in the note)."""
    from bayesmeta.report.classic import bias_row

    bias = contents.presentation.publication_bias
    if isinstance(bias, NotRun):
        return None, bias.reason
    direction = bias.settings.effect_direction
    why = " (the direction of the common-effect estimate)" if bias.settings.from_data else ""
    show = contents.result.scale.show
    rows = [[BIAS_METHODS[name].label, *bias_row(r, show)] for name, r in bias.results.items()]
    level = percent(contents.result.level)
    note = (
        f"Selection models: one-sided p-values, selection assumed to favour {direction} effects"
        f"{why}, step at p = 0.025 (3PSM). Each method "
        "adjusts for a different mechanism; agreement between them, not any one, is the evidence."
    )
    columns = ["Bias method", f"Adjusted {contents.result.scale.label}", f"{level} CI", "Detail"]
    return _table(columns, rows), note


def bias_ensemble_table(contents: Analyses) -> tuple[Table | None, str | None]:
    """The Bayesian publication-bias ensemble (computed in the analysis): each component's
    probabilities and inclusion Bayes factor, and a note with the averaged effects; None and
    why not (or None, None when it was not asked for)."""
    ens = contents.bias
    if isinstance(ens, NotRun):
        return None, None if ens.reason == "not asked for" else f"Bias ensemble: {ens.reason}."
    rows = []
    for key, label in (("effect", "Effect"), ("heterogeneity", "Heterogeneity"),
                       ("bias", "Publication bias")):  # fmt: skip
        prior, post = ens.component_probabilities(key)
        lbf = ens.log_inclusion_bf[key]
        bf = f"{math.exp(lbf):.3g}" if abs(lbf) < 700 else f"e^{lbf:.1f}"
        rows.append([label, num(prior, 3), num(post, 3), bf])
    show = contents.result.scale.show if contents.result is not None else (lambda v: v)
    level = percent(ens.level)

    def effect(s: Summary) -> str:
        lo, hi = s.interval
        return f"{num(show(s.median), 2)} ({level} CrI {interval(show(lo), show(hi), 2)})"

    note = (
        f"RoBMA-PSMA's 36 models ({ens.priors.name} priors; half of the prior probability on "
        f"no bias), selection assumed to favour {ens.direction} effects, each study's normal "
        f"approximation; marginal likelihoods by quadrature (largest estimated error of a log "
        f"marginal likelihood {ens.max_log_ml_error:.1e}). Model-averaged effect adjusted for "
        f"bias {effect(ens.mu)}; unadjusted (the models without bias) {effect(ens.unadjusted)}."
    )
    columns = ["Component", "Prior probability", "Posterior probability", "Inclusion BF"]
    return _table(columns, rows), note


def case_diagnostics_table(contents: Analyses) -> Table | None:
    """metafor's ``influence()`` of the random-effects model of the leave-one-out analysis
    (:func:`bayesmeta.workflows.presentation.case_diagnostics`); None when it was not
    computed."""
    inf = contents.presentation.case_diagnostics
    if isinstance(inf, NotRun):
        return None
    rows = [
        [study, "*" if inf.influential[i] else "",
         *(num(float(getattr(inf, key)[i]), 3)
           for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat")),
         num(float(inf.weight[i]), 1), num(float(inf.dfbetas[i, 0]), 3)]
        for i, study in enumerate(inf.study)
    ]  # fmt: skip
    columns = ["Study", "Influential", "rstudent", "DFFITS", "Cook's D", "cov.r"]
    columns += ["tau^2 del.", "QE del.", "hat", "weight %", "DFBETAS"]
    return _table(columns, rows, first_text=2)


def small_study_table(contents: Analyses) -> Table:
    """Egger's, Harbord's and Peters' tests (t on df, p), or why a test was not computed."""
    rows = []
    for name, test in contents.presentation.small_study.items():
        label = METHODS[name].label
        if isinstance(test, AsymmetryTest):
            rows.append([label, num(test.z, 3), str(test.df), p_value(test.p), str(test.k)])
        elif isinstance(test, Skipped):
            rows.append([label, f"not computed: {test.reason}", "", "", ""])
        else:
            rows.append([label, "applies to two-arm counts only", "", "", ""])
    return _table(["Test", "t", "df", "p", "k"], rows)


def checks_table(result: AnalysisResult) -> Table | None:
    """Each study's posterior predictive p-values (and LOO-PIT, Pareto k from draws), the rows
    the terminal shows (:func:`bayesmeta.report.checks.checks_rows`); None when not run."""
    if result.checks is None:
        return None
    from bayesmeta.report.checks import checks_rows

    shown = checks_rows(result.checks)
    return None if shown is None else _table(*shown)


def checks_lines(result: AnalysisResult) -> list[str]:
    """One sentence per model check (what it found, or why it was not run)."""
    if result.checks is None:
        return []
    from bayesmeta.report.checks import checks_lines as lines

    return lines(result.checks)


def diagnostics_table(result: AnalysisResult) -> Table | None:
    """Sampler settings and convergence checks (None for the exact engine)."""
    d = result.diagnostics
    if d is None or result.fit is None:
        return None
    s = result.fit.settings
    rows = [
        ["Sampler", f"{d.sampler} NUTS"],
        ["Chains x draws (after tuning)", f"{d.chains} x {d.draws}"],
        ["Tuning steps", str(d.tune)],
        ["Target acceptance rate", f"{d.target_accept:g}"],
        ["Seed", str(s.seed)],
        ["Max R-hat (mu, tau, theta, theta_new)", f"{d.rhat_max:.3f}"],
        ["Min bulk ESS", f"{d.ess_bulk_min:.0f}"],
        ["Min tail ESS", f"{d.ess_tail_min:.0f}"],
        ["Divergent transitions", str(d.divergences)],
        ["Refitted with stricter settings", "yes" if d.refitted else "no"],
        ["Time (s)", f"{d.seconds:.1f}"],
        ["Verdict", "converged" if d.converged else f"NOT CONVERGED: {'; '.join(d.problems)}"],
    ]
    return _table(["Check", "Value"], rows)


def provenance_table(contents: Analyses) -> Table:
    """Input files with SHA-256, command line, seed, versions and time."""
    p = contents.provenance
    rows = [
        ["Data file", p.data_path],
        ["Data file SHA-256", p.data_sha256],
        ["Validated data SHA-256", contents.result.data_dict()["sha256"]],
    ]
    if p.spec_path:
        rows += [["Specification", p.spec_path], ["Specification SHA-256", p.spec_sha256 or ""]]
    rows += [
        ["Command", p.command],
        ["Seed", str(p.seed)],
        ["Created (UTC)", p.created],
        *([name, v] for name, v in words.software().items()),
    ]
    return _table(["Item", "Value"], rows, first_text=2)


def render_figures(
    contents: Analyses,
    style: Style | None = None,
    dpi: int = REPORT_DPI,
    figures: tuple[str, ...] = REPORT_FIGURES,
) -> dict[str, RenderedFigure]:
    """Each report figure (or those of ``figures``) as PNG bytes, or the reason it could not
    be drawn."""
    style = style or Style()
    out = {}
    for name in figures:
        kind = KINDS[name]
        try:
            figure = kind.draw(contents, style)
        except BayesmetaError as exc:
            out[name] = RenderedFigure(name, kind.caption, reason=str(exc))
            continue
        buffer = io.BytesIO()
        save(figure, buffer, "png", dpi=dpi)
        out[name] = RenderedFigure(name, kind.caption, png=buffer.getvalue())
    return out


def _not_run(part: object) -> str | None:
    return part.reason if isinstance(part, NotRun) else None


def sections(contents: Analyses, figures: dict[str, RenderedFigure]) -> dict[str, Any]:
    """Everything the templates print, as text (see the module docstring)."""
    from bayesmeta.report.sof import absolute_cells, sof_cells

    result = contents.result
    if result is None:
        raise BayesmetaError("a report needs a fitted model")
    paragraphs = words.methods(contents)
    data = result.data
    k_small = data.k < 10
    design = getattr(data, "design", "reported")
    bias_table, bias_note = publication_bias_table(contents)
    ensemble_table, ensemble_note = bias_ensemble_table(contents)
    return {
        "title": f"Bayesian meta-analysis of {Path(contents.provenance.data_path).name}",
        "model": f"{result.model} model ({result.engine}), {data.k} studies, {design} data",
        "reference": reference_direction(data),
        "converged": result.converged,
        "problems": list(result.diagnostics.problems) if result.diagnostics else [],
        "data_warnings": list(getattr(data, "warnings", ())),
        "summary": summary_lines(result),
        "data": data_table(result),
        "corrected": _corrected_note(result),
        "posterior": posterior_table(result),
        "comparison": _comparison(result),
        "frequentist": frequentist_table(contents),
        "heterogeneity": heterogeneity_table(contents),
        "sensitivity": None
        if _not_run(contents.sensitivity)
        else sensitivity_table(contents.sensitivity, result.priors.tau),
        "sensitivity_reason": _not_run(contents.sensitivity),
        "average": None if _not_run(contents.average) else average_table(contents),
        "average_lines": None if _not_run(contents.average) else average_lines(contents),
        "average_reason": _not_run(contents.average),
        "robustness": None
        if _not_run(contents.robustness)
        else contents.robustness.summary_lines(timing=False),
        "robustness_reason": _not_run(contents.robustness),
        "influence": None if _not_run(contents.influence) else influence_table(contents),
        "influence_reason": _not_run(contents.influence),
        "case_diagnostics": None
        if _not_run(contents.influence)
        else case_diagnostics_table(contents),
        "small_study": small_study_table(contents),
        "publication_bias": bias_table,
        "publication_bias_note": bias_note,
        "bias_ensemble": ensemble_table,
        "bias_ensemble_note": ensemble_note,
        "small_study_note": (
            f"With {data.k} studies (fewer than 10) these tests have little power to detect "
            "small-study effects; a non-significant test does not rule them out "
            "(Sterne et al. 2011)."
            if k_small
            else "Tests of funnel-plot asymmetry; asymmetry has causes other than publication "
            "bias (Sterne et al. 2011)."
        ),
        "diagnostics": diagnostics_table(result),
        "checks": checks_table(result),
        "checks_lines": checks_lines(result),
        "measure_note": _measure_note(result),
        "absolute": _text_table(*absolute_cells(result.absolute, result.level))
        if result.absolute
        else None,
        "sof": _text_table(*sof_cells(contents.sof)) if contents.sof is not None else None,
        "sof_notes": list(contents.sof.notes) if contents.sof is not None else [],
        "methods": paragraphs,
        "checklist": words.checklist(contents),
        "references": words.references(paragraphs),
        "provenance": provenance_table(contents),
        "figures": figures,
        "level": percent(result.level),
    }


def _measure_note(result: AnalysisResult) -> str | None:
    """Which scale the frequentist rows are on when ``--measure`` differs from the model's."""
    if result.measure is None or result.frequentist_scale.name == result.scale.name:
        return None
    from bayesmeta.report.terminal import posterior_measure_note

    return (
        f"The frequentist estimates are on the {result.frequentist_scale.label} scale "
        f"(--measure {result.measure}); the Bayesian model stays on the {result.scale.label} "
        f"scale{posterior_measure_note(result)}."
    )


def _corrected_note(result: AnalysisResult) -> str | None:
    """What the asterisk of a zero-cell study's observed estimate means, if any has one."""
    if not any(o.corrected for o in result.observed.values()):
        return None
    note = "* Observed estimates of studies with a zero cell have 0.5 added to each cell (escalc)"
    return f"{note}; {result.spec.family.corrected_use}"


def _comparison(result: AnalysisResult) -> str | None:
    if result.comparison is None:
        return None
    from bayesmeta.report.terminal import comparison_line

    return comparison_line(result.comparison)


def payload(contents: Analyses) -> dict[str, Any]:
    """The JSON embedded in the HTML: ``fit --json``'s values and the report's own blocks."""
    out: dict[str, Any] = {"analysis": contents.result.to_dict()}
    if isinstance(contents.sensitivity, list):
        out["sensitivity"] = [row.to_dict() for row in contents.sensitivity]
    if not isinstance(contents.influence, NotRun):
        out["influence"] = contents.influence.to_dict()
    if not isinstance(contents.average, NotRun):
        out["average"] = contents.average.to_dict()
    if not isinstance(contents.robustness, NotRun):
        out["robustness"] = contents.robustness.to_dict()
    if contents.sof is not None:
        out["summary_of_findings"] = contents.sof.to_dict()
    out["provenance"] = contents.provenance.to_dict()
    return out


def _environment(kind: str) -> Any:
    return environment().get_template(f"report.{kind}")


def _json_for_script(contents: Analyses) -> Any:
    """The payload as JSON that cannot end the ``<script>`` element it sits in."""
    from markupsafe import Markup

    from bayesmeta.io.output import json_text

    text = json_text(payload(contents))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def render_html(contents: Analyses, figures: dict[str, RenderedFigure] | None = None) -> str:
    """One self-contained HTML page (figures embedded as data URIs)."""
    figures = figures if figures is not None else render_figures(contents)
    context = sections(contents, figures)
    return _environment("html").render(**context, analysis_json=_json_for_script(contents))


def figure_file(out: Path, name: str) -> Path:
    """Where the Markdown report ``out`` keeps figure ``name``: ``report-forest.png``."""
    return out.with_name(f"{out.stem}-{name}.png")


def output_files(out: Path) -> list[Path]:
    """Every file a report written to ``out`` may write (to check them all before fitting).

    Raises
    ------
    BayesmetaError
        ``out`` is neither ``.html`` nor ``.md``.
    """
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise BayesmetaError(
            f"--out {out}: a report is .html (one self-contained file) or .md (with its "
            f"figures beside it), got {out.suffix or 'no suffix'}"
        )
    if suffix == ".html":
        return [out]
    return [out, *(figure_file(out, name) for name in REPORT_FIGURES)]


def render_markdown(
    contents: Analyses, out: Path, figures: dict[str, RenderedFigure] | None = None
) -> tuple[str, dict[Path, bytes]]:
    """The Markdown text of the report and its figures (PNG bytes by file path)."""
    figures = figures if figures is not None else render_figures(contents)
    files = {figure_file(out, name): f.png for name, f in figures.items() if f.png is not None}
    context = sections(contents, figures)
    names = {name: figure_file(out, name).name for name in figures}
    return _environment("md").render(**context, figure_names=names), files


def write_report(
    contents: Analyses, out: Path, *, overwrite: bool = False, style: Style | None = None
) -> list[Path]:
    """Write the report (HTML, or Markdown with its PNG figures) atomically; return the paths.

    Every target is checked (``overwrite``) before the first is written.
    """
    from bayesmeta.io.output import check_writable, write_atomic

    for path in output_files(out):
        check_writable(path, overwrite=overwrite)
    figures = render_figures(contents, style)
    if out.suffix.lower() == ".html":
        text = render_html(contents, figures)
        write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite)
        return [out]
    text, files = render_markdown(contents, out, figures)
    written = []
    for path, data in files.items():
        write_atomic(path, lambda tmp, data=data: tmp.write_bytes(data), overwrite=overwrite)
        written.append(path)
    write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite)
    return [*written, out]
