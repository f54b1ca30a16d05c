"""``bayesmeta classic`` (every frequentist estimator, no PyMC) and ``bayesmeta examples``."""

from __future__ import annotations

from typing import Annotated

import typer

from bayesmeta.cli.common import (
    ColumnsOpt,
    DataArg,
    ExampleOpt,
    ForceOpt,
    JsonOpt,
    QuietOpt,
    SplitOpt,
    check_output,
    console,
    load_data,
    non_empty,
    user_errors,
    write_json,
)


@user_errors
def classic(
    data: DataArg = None,
    example: ExampleOpt = None,
    columns: ColumnsOpt = None,
    leave_one_out: Annotated[
        str | None, typer.Option(help="Leave-one-study-out with this tau^2 method (e.g. DL).")
    ] = None,
    cumulative: Annotated[
        str | None,
        typer.Option(help="Cumulative meta-analysis ordered by this column (e.g. year)."),
    ] = None,
    split_shared_control: SplitOpt = False,
    json_out: JsonOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Frequentist meta-analysis only (every estimator, matched to metafor); no PyMC."""
    from bayesmeta.frequentist.classic import classic as run_classic
    from bayesmeta.report.classic import render_classic

    leave_one_out = non_empty(leave_one_out, "--leave-one-out", "DL")
    cumulative = non_empty(cumulative, "--cumulative", "year")
    check_output(json_out, data, example, force)
    dataset = load_data(data, example, columns, split_shared_control)
    result = run_classic(dataset, leave_one_out_method=leave_one_out, cumulative_by=cumulative)
    render_classic(result, console())
    write_json(json_out, result.to_dict(), force)


def examples() -> None:
    """List the shipped example datasets with their citations."""
    from bayesmeta.io.examples import examples as all_examples

    for ex in all_examples().values():
        typer.echo(f"{ex.name:16} {ex.design:10} {ex.title}\n{'':16} {ex.citation}")
