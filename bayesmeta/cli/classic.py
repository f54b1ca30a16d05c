"""``bayesmeta classic`` (every frequentist estimator, no PyMC) and ``bayesmeta examples``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bayesmeta.cli.common import (
    ColumnsOpt,
    CovariateOpt,
    DataArg,
    DecimalOpt,
    EncodingOpt,
    ExampleOpt,
    ForceOpt,
    JsonOpt,
    MeasureOpt,
    OutcomeOpt,
    PmTolOpt,
    QuietOpt,
    SeparatorOpt,
    SheetOpt,
    SplitOpt,
    SubgroupOpt,
    check_output,
    console,
    load_data,
    non_empty,
    reading,
    user_errors,
    write_json,
)
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.rootfind import R_TOL


@user_errors
def classic(
    data: DataArg = None,
    example: ExampleOpt = None,
    columns: ColumnsOpt = None,
    measure: MeasureOpt = None,
    leave_one_out: Annotated[
        str | None,
        typer.Option(
            help="Leave-one-study-out with this method: a tau^2 method (e.g. DL), EE, MH or "
            "PETO; also the method of --cumulative."
        ),
    ] = None,
    cumulative: Annotated[
        str | None,
        typer.Option(help="Cumulative meta-analysis ordered by this column (e.g. year)."),
    ] = None,
    publication_bias: Annotated[
        bool,
        typer.Option(
            "--publication-bias",
            help="Also trim-and-fill, PET/PEESE, selection models, rank test, fail-safe N.",
        ),
    ] = False,
    effect_direction: Annotated[
        str,
        typer.Option(
            help="Direction of the effects selection favours (auto|positive|negative): "
            "one-sided p-values of the selection models; auto: the direction of the "
            "common-effect estimate (metafor's selmodel assumes positive)."
        ),
    ] = "auto",
    selection_steps: Annotated[
        str,
        typer.Option(help="Cut points of the step-function selection model, e.g. 0.025,0.5."),
    ] = "0.025",
    covariate: CovariateOpt = None,
    subgroup: SubgroupOpt = None,
    pm_tol: PmTolOpt = R_TOL,
    influence: Annotated[
        str | None,
        typer.Option(
            help="Influence diagnostics (metafor influence) of the model with this tau^2 "
            "method (e.g. REML), on the covariates when given; with Baujat coordinates."
        ),
    ] = None,
    blup: Annotated[
        str | None,
        typer.Option(help="BLUPs of the study effects (metafor blup) with this tau^2 method."),
    ] = None,
    split_shared_control: SplitOpt = False,
    sheet: SheetOpt = None,
    separator: SeparatorOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    outcome: OutcomeOpt = None,
    json_out: JsonOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Frequentist meta-analysis only (every estimator, matched to metafor); no PyMC."""
    from bayesmeta.frequentist.classic import classic as run_classic
    from bayesmeta.io.inputs import counts_measure
    from bayesmeta.report.classic import render_classic

    leave_one_out = non_empty(leave_one_out, "--leave-one-out", "DL")
    cumulative = non_empty(cumulative, "--cumulative", "year")
    check_output(json_out, data, example, force)
    read = reading(locals())
    dataset = load_data(data, example, columns, split_shared_control, read, measure)
    result = run_classic(
        dataset,
        leave_one_out_method=leave_one_out,
        cumulative_by=cumulative,
        covariates=tuple(covariate or ()),
        subgroup=subgroup,
        pm_tol=pm_tol,
        influence_method=influence,
        blup_method=blup,
        measure=counts_measure(dataset, measure.upper() if measure else None),
        bias=publication_bias,
        effect_direction=effect_direction,
        selection_steps=_steps(selection_steps),
    )
    render_classic(result, console())
    write_json(json_out, result.to_dict(), force)


def _steps(text: str) -> tuple[float, ...]:
    """``"0.025,0.5"`` as cut points; a one-line error for anything else."""
    from bayesmeta.errors import OptionError

    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise OptionError(
            f"--selection-steps must be comma-separated p-values such as 0.025,0.5, got {text!r}"
        ) from None


def examples() -> None:
    """List the shipped example datasets with their citations."""
    from bayesmeta.io.examples import examples as all_examples

    for ex in all_examples().values():
        typer.echo(f"{ex.name:16} {ex.design:10} {ex.title}\n{'':16} {ex.citation}")


@user_errors
def outcomes(
    review: Annotated[
        Path, typer.Argument(help="RevMan 5 review file (.rm5).", show_default=False)
    ],
) -> None:
    """List the comparisons and outcomes of a RevMan 5 review, numbered as RevMan numbers
    them (choose one with --outcome 1.2), with their data type, measure and studies."""
    from bayesmeta.io.revman import listing, read_review

    if review.suffix.lower() != ".rm5":
        raise BayesmetaError(f"{review}: not a RevMan 5 review file (.rm5)")
    read = read_review(review)
    typer.echo(f"{review}: {read.title}")
    for line in listing(read):
        typer.echo(line)
