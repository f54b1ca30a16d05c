"""``bayesmeta fit`` and ``bayesmeta run``: one analysis, from options or a TOML file.

Both build an :class:`~bayesmeta.workflows.request.AnalysisRequest`, check every output
location, plan (read and check everything) and execute it, then render the report and write the
outputs: one path.
"""

from __future__ import annotations

from dataclasses import replace
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
    JsonOpt,
    MeasureOpt,
    ModelOptions,
    QuietOpt,
    absolute_options,
    console,
    default_favours,
    model_options,
    user_errors,
)
from bayesmeta.errors import BayesmetaError

PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _analyse(
    request: Any,
    *,
    json_out: Path | None = None,
    posterior: Path | None = None,
    plot: Path | None = None,
    favours: str | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
    inputs: tuple[Path, ...] = (),
) -> Any:
    """Check the outputs, plan, fit, render and write: the path ``fit`` and ``run`` share."""
    from bayesmeta.io.output import check_outputs
    from bayesmeta.workflows.request import execute, input_path, plan

    check_outputs(
        (json_out, posterior, plot), inputs=(input_path(request), *inputs), overwrite=force
    )
    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        raise BayesmetaError(
            f"--plot {plot}: use a .png, .pdf or .svg file name (got {plot.suffix or 'none'})"
        )
    if favours is not None and plot is None:
        raise BayesmetaError("--favours labels the forest plot: give --plot as well")
    forest_plot = None
    if plot is not None:
        from bayesmeta.report.figures import Style

        style = Style.parse_favours(favours, default_favours(request))
        forest_plot = (plot, style.favours)
    planned = plan(request)
    if forest_plot is not None:  # each study is a row: refuse before fitting, not after
        from bayesmeta.report.figures.forest import check_rows

        check_rows(planned.spec.data.k)
    if posterior is not None and planned.engine == "exact":
        raise BayesmetaError("--save-posterior needs draws: use --engine nuts")
    result = execute(planned)
    from bayesmeta.report.terminal import render

    render(result, console(), methods=planned.methods)
    _write_outputs(result, planned.methods, json_out, posterior, forest_plot, force, extra or {})
    return result


def _write_outputs(
    result: Any,
    methods: tuple[str, ...],
    json_out: Path | None,
    posterior: Path | None,
    forest_plot: tuple[Path, tuple[str, str]] | None,
    force: bool,
    extra: dict[str, Any],
) -> None:
    from bayesmeta.io.output import write_atomic, write_json

    if json_out is not None:
        write_json(json_out, {**result.to_dict(), **extra}, overwrite=force)
        typer.echo(f"wrote {json_out}")
    if posterior is not None:
        write_atomic(
            posterior,
            lambda tmp: result.fit.idata.to_netcdf(tmp, engine="h5netcdf"),
            overwrite=force,
        )
        typer.echo(f"wrote {posterior}")
    if forest_plot is not None:
        from bayesmeta.plots import forest
        from bayesmeta.report.figures import format_of, save

        plot, favours = forest_plot
        figure = forest(result, methods=methods, favours=favours)
        write_atomic(plot, lambda tmp: save(figure, tmp, format_of(plot)), overwrite=force)
        typer.echo(f"wrote {plot}")


@user_errors
@model_options
def fit(
    options: ModelOptions,
    json_out: JsonOpt = None,
    save_posterior: Annotated[
        Path | None, typer.Option(help="Save the posterior draws (NetCDF; NUTS only).")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a forest plot (PNG, PDF or SVG).")
    ] = None,
    favours: FavoursOpt = None,
    measure: MeasureOpt = None,
    baseline_risk: BaselineRiskOpt = None,
    benefit_threshold: BenefitThresholdOpt = None,
    desirable_events: DesirableEventsOpt = False,
    checks: Annotated[
        bool,
        typer.Option(
            "--checks",
            help="Model checks: each study's posterior predictive p-value (exact for the "
            "normal-normal engine), LOO-PIT and Pareto k (NUTS) and the prior predictive "
            "summary (JSON 'checks').",
        ),
    ] = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit a Bayesian random-effects meta-analysis and compare it with the frequentist one."""
    if options.spec_file is not None:
        raise BayesmetaError(f"{options.spec_file}: run a specification with `bayesmeta run`")
    measure = measure.upper() if measure else None
    request = replace(
        options.request(),
        measure=measure,
        **absolute_options(baseline_risk, benefit_threshold, desirable_events),
        checks=checks,
    )
    result = _analyse(
        request,
        json_out=json_out,
        posterior=save_posterior,
        plot=plot,
        favours=favours,
        force=force,
    )
    if not result.converged:
        raise typer.Exit(EXIT_NOT_CONVERGED)


@user_errors
def run(
    spec: Annotated[Path, typer.Argument(help="Analysis specification (TOML).")],
    out_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the result JSON (default: beside the TOML file)."),
    ] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit the analysis a TOML specification describes and write its result JSON."""
    from bayesmeta.io.spec import load_spec
    from bayesmeta.workflows.request import AnalysisRequest

    loaded = load_spec(spec)
    request = AnalysisRequest.from_spec(loaded)
    result = _analyse(
        request,
        json_out=loaded.output_path(out_dir),
        force=force,
        extra={"spec": {"path": str(loaded.path), "sha256": loaded.sha256}},
        inputs=(loaded.path,),
    )
    if not result.converged:
        typer.echo("warning: the fit did not converge; see diagnostics.problems", err=True)
        raise typer.Exit(EXIT_NOT_CONVERGED)
