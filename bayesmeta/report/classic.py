"""Terminal report of ``bayesmeta classic``: every frequentist estimator, small-study tests and
the leave-one-out and cumulative analyses. No PyMC here."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bayesmeta.frequentist.classic import ClassicResult, Sequential
from bayesmeta.frequentist.methods import need_counts
from bayesmeta.frequentist.results import AsymmetryTest, Skipped
from bayesmeta.model.description import scale_of_data
from bayesmeta.model.likelihoods import native
from bayesmeta.model.scales import Scale
from bayesmeta.report.format import interval, num, percent
from bayesmeta.report.terminal import frequentist_table

SMALL_STUDY_TESTS = ("egger", "harbord", "peters")


def _sequence_table(title: str, sequence: Sequential, scale: Scale, level: float) -> Table:
    show = scale.show
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col in ("Study", scale.label, f"{percent(level)} CI", "tau^2", "I^2 %"):
        table.add_column(col, justify="left" if col == "Study" else "right")
    for study, r in sequence.fits.items():
        table.add_row(
            study,
            num(show(r.estimate)),
            interval(*(show(v) for v in r.ci)),
            num(r.tau2, 3),
            num(r.i2, 1),
        )
    return table


def render_classic(result: ClassicResult, console: Console) -> None:
    """Print the frequentist tables, small-study tests and sensitivity analyses."""
    data, es = result.data, result.effect_sizes
    scale = scale_of_data(data)
    head = f"bayesmeta classic: {data.k} studies"
    block = native(data).data_block(data)
    if "k_zero_cell" in block:
        head += f", {block['k_zero_cell']} with a zero cell"
    console.print(head)
    for warning in data.warnings:
        console.print(Text(f"Warning: {warning}", style="bold yellow"))
    if es.corrected:
        console.print(f"0.5 added to every cell of: {', '.join(es.corrected)}")
    if es.dropped:
        console.print(f"dropped from inverse-variance methods: {', '.join(es.dropped)}")
    missing = need_counts(data)
    if missing:
        console.print(
            f"Need 2x2 counts, so not computed for reported effects: {', '.join(missing)}"
        )
    console.print()
    console.print(frequentist_table(result.estimates, scale))
    for test in SMALL_STUDY_TESTS:
        block = result.estimates.get(test)
        name = f"{test.capitalize()} test for small-study effects"
        if isinstance(block, AsymmetryTest):
            console.print(f"{name}: t = {block.z:.3f}, p = {block.p:.4f}")
        elif isinstance(block, Skipped):
            console.print(f"{name}: not estimable ({block.reason})")
    if result.leave_one_out is not None:
        loo = result.leave_one_out
        console.print()
        console.print(
            _sequence_table(f"Leave one out ({loo.method}), omitting", loo, scale, result.level)
        )
    if result.cumulative is not None:
        cum = result.cumulative
        console.print()
        console.print(
            _sequence_table(
                f"Cumulative by {cum.by} ({cum.method}), adding", cum, scale, result.level
            )
        )
