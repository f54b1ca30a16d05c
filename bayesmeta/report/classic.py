"""Terminal report of ``bayesmeta classic``: every frequentist estimator, small-study tests and
the leave-one-out and cumulative analyses. No PyMC here."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from bayesmeta.frequentist.bias import (
    BIAS_METHODS,
    FailSafeN,
    LimitRegression,
    PublicationBias,
    RankTest,
    SelectionModel,
    TrimFill,
)
from bayesmeta.frequentist.classic import ClassicResult, Sequential
from bayesmeta.frequentist.methods import METHODS
from bayesmeta.frequentist.results import AsymmetryTest, Skipped
from bayesmeta.io.counts import TwoArmData
from bayesmeta.model.likelihoods import native
from bayesmeta.model.scales import Scale, scale_of_measure
from bayesmeta.report.format import interval, num, percent
from bayesmeta.report.table import Table, print_table
from bayesmeta.report.table import table as table_model
from bayesmeta.report.terminal import (
    frequentist_rows,
    regression_tables,
    subgroup_tables,
    titled_table,
)

SMALL_STUDY_TESTS = ("egger", "harbord", "peters")
_MEASURE_NAMES = {"OR": "odds ratio", "RR": "risk ratio", "RD": "risk difference"}


def _sequence_table(title: str, sequence: Sequential, scale: Scale, level: float) -> Table:
    show = scale.show
    table = table_model(
        ["Study", scale.label, f"{percent(level)} CI", "tau^2", "I^2 %"], [], title=title
    )
    for study, r in sequence.fits.items():
        if isinstance(r, Skipped):
            table.add_row(study, f"not estimable: {r.reason}", "", "", "")
            continue
        table.add_row(
            study,
            num(show(r.estimate), scale.digits),
            interval(*(show(v) for v in r.ci), scale.digits),
            num(r.tau2, 3 if scale.digits <= 3 else 6),
            num(r.i2, 1),
        )
    return table


def bias_row(result: object, show) -> tuple[str, str, str]:
    """Adjusted estimate, its interval and the test or count of one bias analysis."""
    if isinstance(result, TrimFill):
        f = result.fit
        detail = f"{result.k0} filled on the {result.side}"
        if result.p_k0 is not None:
            detail += f" (p = {result.p_k0:.4f})"
        return num(show(f.estimate)), interval(*(show(v) for v in f.ci)), detail
    if isinstance(result, LimitRegression):
        detail = f"slope p = {result.slope_p:.4f}, df = {result.df}"
        return num(show(result.estimate)), interval(*(show(v) for v in result.ci)), detail
    if isinstance(result, SelectionModel):
        ci = interval(*(show(v) for v in result.ci)) if result.ci is not None else "-"
        deltas = ", ".join(f"{d:.3g}" for d in result.delta)
        detail = (
            f"LRT = {result.lrt:.2f} (df {result.lrt_df}), p = {result.lrt_p:.4f}; delta {deltas}"
        )
        return num(show(result.estimate)), ci, detail
    if isinstance(result, RankTest):
        kind = "exact" if result.exact else "normal approx."
        return "", "", f"Kendall's tau = {result.tau:.3f}, p = {result.p:.4f} ({kind})"
    if isinstance(result, FailSafeN):
        extra = f", target {result.target:.3g}" if result.target is not None else ""
        return "", "", f"N = {result.n}{extra}"
    assert isinstance(result, Skipped)
    return "", "", f"not estimable ({result.reason})"


def bias_table(bias: PublicationBias, scale: Scale, level: float) -> Table:
    """The publication-bias analyses as one table (adjusted estimate, interval, detail)."""
    settings = bias.settings
    why = ", the direction of the common-effect estimate" if settings.from_data else ""
    title = (
        f"Publication bias (selection assumed to favour {settings.effect_direction} "
        f"effects{why}; steps {', '.join(f'{s:g}' for s in settings.steps)})"
    )
    columns = ["Method", scale.label, f"{percent(level)} CI", "Detail"]
    table = Table(columns, [], [False, True, True, False], title)
    for name, result in bias.results.items():
        table.add_row(BIAS_METHODS[name].label, *bias_row(result, scale.show))
    return table


def influence_table(result: ClassicResult) -> Table:
    """metafor's ``influence()`` columns per study, ``*`` for an influential one."""
    inf = result.influence
    table = titled_table(
        f"Influence diagnostics ({inf.method}{', Hartung-Knapp' if inf.test == 'knha' else ''})",
        ("Study", "", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat",
         "weight %", *(f"dfbeta {n}" for n in inf.names)),
    )  # fmt: skip
    for i, study in enumerate(inf.study):
        table.add_row(
            study,
            "*" if inf.influential[i] else "",
            *(num(getattr(inf, key)[i], 3)
              for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat")),
            num(inf.weight[i], 1),
            *(num(inf.dfbetas[i, j], 3) for j in range(len(inf.names))),
        )  # fmt: skip
    return table


def render_classic(result: ClassicResult, console: Console) -> None:
    """Print the frequentist tables, small-study tests and sensitivity analyses."""
    data, es = result.data, result.effect_sizes
    scale = scale_of_measure(es.measure)
    head = f"bayesmeta classic: {data.k} studies"
    block = native(data).data_block(data)
    if "k_zero_cell" in block:
        head += f", {block['k_zero_cell']} with a zero cell"
    console.print(head)
    for warning in data.warnings:
        console.print(Text(f"Warning: {warning}", style="bold yellow"))
    if isinstance(data, TwoArmData):
        console.print(f"Measure: {_MEASURE_NAMES[es.measure]} ({es.measure})")
    elif note := native(data).measure_note(data):
        console.print(f"Measure: {note}")
    if es.corrected:
        console.print(f"0.5 added to every cell of: {', '.join(es.corrected)}")
    if es.dropped:
        console.print(f"dropped from inverse-variance methods: {', '.join(es.dropped)}")
    if missing := result.need_counts:
        why = "Need 2x2 counts, so not computed for reported effects"
        if "k_reported" in block:  # counts beside reported estimates (a mixed table)
            why = (
                f"Need 2x2 counts from every study ({block['k_reported']} report an estimate "
                "only), so not computed"
            )
        console.print(f"{why}: {', '.join(missing)}")
    console.print()
    print_table(frequentist_rows(result.estimates, scale), console)
    for test in SMALL_STUDY_TESTS:
        block = result.estimates.get(test)
        name = f"{test.capitalize()} test for small-study effects"
        if isinstance(block, AsymmetryTest):
            console.print(f"{name}: t = {block.z:.3f}, p = {block.p:.4f}")
        elif isinstance(block, Skipped):
            console.print(f"{name}: not estimable ({block.reason})")
    if result.publication_bias is not None:
        console.print()
        print_table(bias_table(result.publication_bias, scale, result.level), console)
    if result.leave_one_out is not None:
        loo = result.leave_one_out
        console.print()
        print_table(
            _sequence_table(f"Leave one out ({loo.method}), omitting", loo, scale, result.level),
            console,
        )
    if result.cumulative is not None:
        cum = result.cumulative
        console.print()
        print_table(
            _sequence_table(
                f"Cumulative by {cum.by} ({cum.method}), adding", cum, scale, result.level
            ),
            console,
        )
    shown = result.shown
    if result.meta_regression is not None:
        for table in regression_tables(result.meta_regression, shown, result.level):
            console.print()
            print_table(table, console)
    if result.subgroups is not None:
        for table in subgroup_tables(result.subgroups, shown, scale, result.level):
            console.print()
            print_table(table, console)
    if result.influence is not None:
        console.print()
        print_table(influence_table(result), console)
    if result.blups is not None:
        b = result.blups
        console.print()
        table = titled_table(
            f"BLUPs of the study effects ({METHODS[b.method].label})",
            ("Study", scale.label, f"{percent(result.level)} PI", "SE (model scale)"),
        )
        for i, study in enumerate(b.study):
            pi = interval(*(scale.show(v) for v in b.pi[i]))
            table.add_row(study, num(scale.show(b.pred[i])), pi, num(b.se[i], 4))
        print_table(table, console)
