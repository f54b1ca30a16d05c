"""``bayesmeta report`` (a self-contained HTML or Markdown report) and ``bayesmeta plot KIND``
(one figure), with the model options of ``fit``.

Both check every output before any fitting (not an input, not existing unless ``--force``,
folder present), then plan the request as ``fit`` does, run what is needed
(:func:`bayesmeta.workflows.report.analyses`) and write atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.cli.common import (
    EXIT_NOT_CONVERGED,
    BaselineRiskOpt,
    BenefitThresholdOpt,
    DesirableEventsOpt,
    FavoursOpt,
    ForceOpt,
    MeasureOpt,
    ModelOptions,
    QuietOpt,
    absolute_options,
    default_favours,
    model_options,
    user_errors,
)
from bayesmeta.errors import BayesmetaError

OutReport = Annotated[
    Path,
    typer.Option(
        "--out",
        help="report.html (one self-contained file) or report.md (figures as PNG files beside "
        "it, named report-forest.png ...).",
        show_default=False,
    ),
]
OutFigure = Annotated[
    Path, typer.Option("--out", help="Figure file: .png, .svg or .pdf.", show_default=False)
]


def _with_measure(options: ModelOptions, measure: str | None, absolute: dict) -> Any:
    """The request of ``options`` with ``--measure`` and the absolute-effect options.

    Raises
    ------
    BayesmetaError
        Those options beside a specification file (it must say them: [model] measure,
        [absolute]).
    """
    from dataclasses import replace

    request = options.request()
    given = {k: v for k, v in absolute.items() if v}
    if measure is not None:
        given["measure"] = measure.upper()
    if given and options.spec_file is not None:
        raise BayesmetaError(
            f"{options.spec_file} is a specification file: set the measure in [model] and "
            "the baseline risks in [absolute] instead of on the command line"
        )
    return replace(request, **given)


@user_errors
@model_options
def report(
    options: ModelOptions,
    out: OutReport,
    sensitivity: Annotated[
        bool,
        typer.Option(
            "--sensitivity/--no-sensitivity",
            help="Refit under the tau priors of `bayesmeta sensitivity` (one fit per prior).",
        ),
    ] = True,
    influence: Annotated[
        bool,
        typer.Option(
            "--influence/--no-influence",
            help="Refit without each study in turn (one fit per study).",
        ),
    ] = True,
    average: Annotated[
        bool,
        typer.Option(
            "--average/--no-average",
            help="Model averaging over {effect, no effect} x {random, common} by exact "
            "marginal likelihoods (where the exact engines integrate the model).",
        ),
    ] = True,
    robustness: Annotated[
        bool,
        typer.Option(
            "--robustness/--no-robustness",
            help="The prior robustness map of `bayesmeta robustness` (where the exact "
            "engines integrate the model).",
        ),
    ] = True,
    bias: Annotated[
        bool,
        typer.Option(
            "--bias/--no-bias",
            help="Also the Bayesian publication-bias ensemble of `bayesmeta bias` (36 models, "
            "a few seconds): a section with its figure.",
        ),
    ] = False,
    favours: FavoursOpt = None,
    measure: MeasureOpt = None,
    baseline_risk: BaselineRiskOpt = None,
    benefit_threshold: BenefitThresholdOpt = None,
    desirable_events: DesirableEventsOpt = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a self-contained report of one analysis (HTML, or Markdown with figures).

    Data, forest plot, posterior, absolute effects and summary of findings (with
    --baseline-risk), frequentist, heterogeneity, prior sensitivity, model averaging and prior
    robustness map (where the exact engines apply), influence, small-study effects (with --bias
    also the Bayesian publication-bias ensemble), model checks, diagnostics, methods,
    ROBUST/BARG checklist and provenance. DATA may also be an
    analysis specification (SPEC.toml) as `bayesmeta run` reads.
    """
    from bayesmeta.io.output import check_outputs
    from bayesmeta.report.document import output_files, write_report
    from bayesmeta.report.figures import Style
    from bayesmeta.workflows.report import analyses
    from bayesmeta.workflows.request import input_path, plan

    request = _with_measure(
        options,
        measure,
        absolute_options(baseline_risk, benefit_threshold, desirable_events),
    )
    style = Style.parse_favours(favours, default_favours(request))
    inputs = [input_path(request), options.spec_file]
    check_outputs(output_files(out), inputs=inputs, overwrite=force)
    parts = ("fit", *(("sensitivity",) if sensitivity else ()))
    parts += ("influence",) if influence else ()
    parts += ("average",) if average else ()
    parts += ("robustness",) if robustness else ()
    parts += ("bias",) if bias else ()
    contents = analyses(plan(request), parts=parts, command="report", spec=options.spec_file)
    for path in write_report(contents, out, overwrite=force, style=style):
        typer.echo(f"wrote {path}")
    if not contents.result.converged:
        typer.echo("warning: the fit did not converge; the report says so at the top", err=True)
        raise typer.Exit(EXIT_NOT_CONVERGED)


@user_errors
@model_options
def plot(
    kind: Annotated[
        str,
        typer.Argument(
            help="forest | funnel | contour_funnel | posterior | tau | trace | rank | "
            "sensitivity | average | robustness | bias | prior_predictive | influence | "
            "baujat | gosh.",
            show_default=False,
        ),
    ],
    options: ModelOptions,
    out: OutFigure,
    favours: FavoursOpt = None,
    measure: MeasureOpt = None,
    baseline_risk: BaselineRiskOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw one figure of an analysis (PNG, SVG with text as text, or PDF).

    The forest plot on --measure RR or RD shows the posterior risk ratio or difference at
    each control-group risk of --baseline-risk (NUTS binomial-normal: the studies' own)."""
    from bayesmeta.io.output import check_outputs, write_atomic
    from bayesmeta.report.figures import Style, format_of, save
    from bayesmeta.report.figures.kinds import kind as find_kind
    from bayesmeta.workflows.report import analyses
    from bayesmeta.workflows.request import input_path, plan

    chosen = find_kind(kind)
    fmt = format_of(out)
    request = _with_measure(options, measure, absolute_options(baseline_risk, None, False))
    style = Style.parse_favours(favours, default_favours(request))
    check_outputs([out], inputs=[input_path(request), options.spec_file], overwrite=force)
    contents = analyses(plan(request), parts=chosen.parts, command=f"plot {kind}")
    figure = chosen.draw(contents, style)
    write_atomic(out, lambda tmp: save(figure, tmp, fmt), overwrite=force)
    typer.echo(f"wrote {out}")
    if contents.result is not None and not contents.result.converged:
        typer.echo("warning: the fit did not converge; see `bayesmeta fit`", err=True)
        raise typer.Exit(EXIT_NOT_CONVERGED)
