"""``bayesmeta fit`` and ``bayesmeta run``: one analysis, from options or a TOML file.

Both build an :class:`~bayesmeta.workflows.request.AnalysisRequest`, check every output
location, plan (read and check everything) and execute it, then render the report and write the
outputs: one path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.cli.common import (
    EXIT_NOT_CONVERGED,
    ChainsOpt,
    ColumnsOpt,
    CommonOpt,
    DataArg,
    DrawsOpt,
    ExampleOpt,
    ForceOpt,
    JsonOpt,
    PriorBaselineOpt,
    PriorMuOpt,
    PriorTauOpt,
    SplitOpt,
    TuneOpt,
    console,
    parse_columns,
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
    planned = plan(request)
    if posterior is not None and planned.engine == "exact":
        raise BayesmetaError("--save-posterior needs draws: use --engine nuts")
    result = execute(planned)
    from bayesmeta.report.terminal import render

    render(result, console(), methods=planned.methods)
    _write_outputs(result, planned.methods, json_out, posterior, plot, force, extra or {})
    return result


def _write_outputs(
    result: Any,
    methods: tuple[str, ...],
    json_out: Path | None,
    posterior: Path | None,
    plot: Path | None,
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
    if plot is not None:
        from bayesmeta.report.plots import forest_plot

        write_atomic(
            plot,
            lambda tmp: forest_plot(
                result, tmp, fmt=plot.suffix.lstrip(".").lower(), methods=methods
            ),
            overwrite=force,
        )
        typer.echo(f"wrote {plot}")


@user_errors
def fit(
    data: DataArg = None,
    example: ExampleOpt = None,
    model: Annotated[
        str,
        typer.Option(
            help="binomial-normal | proportion | normal-normal | auto (from the columns)."
        ),
    ] = "auto",
    engine: Annotated[
        str, typer.Option(help="nuts | exact (normal-normal only, its default) | auto.")
    ] = "auto",
    prior_mu: PriorMuOpt = None,
    prior_tau: PriorTauOpt = None,
    prior_baseline: PriorBaselineOpt = None,
    common_effect: CommonOpt = False,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Compare random vs common effect (PSIS-LOO, or Bayes factor if exact).",
        ),
    ] = False,
    covariate: Annotated[
        list[str] | None,
        typer.Option(help="Meta-regression on this column (repeat for several)."),
    ] = None,
    subgroup: Annotated[
        str | None, typer.Option(help="Pooled effect per level of this column.")
    ] = None,
    separate_tau: Annotated[
        bool, typer.Option("--separate-tau", help="Each subgroup its own tau.")
    ] = False,
    prior_beta: Annotated[
        str, typer.Option(help="Prior of each meta-regression slope.")
    ] = "normal(0, 10)",
    ci_level: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Level of reported CIs (effect-size input).")
    ] = 0.95,
    chains: ChainsOpt = 4,
    draws: DrawsOpt = 2000,
    tune: TuneOpt = 1000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same numbers.")
    ] = 1,
    target_accept: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.9,
    hdi: Annotated[
        bool, typer.Option("--hdi", help="Also show 95% highest-density intervals.")
    ] = False,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Frequentist methods shown, comma-separated (default: MH, IV, DL, REML, HKSJ)."
        ),
    ] = None,
    columns: ColumnsOpt = None,
    split_shared_control: SplitOpt = False,
    json_out: JsonOpt = None,
    save_posterior: Annotated[
        Path | None, typer.Option(help="Save the posterior draws (NetCDF; NUTS only).")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a forest plot (PNG, PDF or SVG).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Fit a Bayesian random-effects meta-analysis and compare it with the frequentist one."""
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.workflows.request import AnalysisRequest

    given = {"mu": prior_mu, "tau": prior_tau, "baseline": prior_baseline, "beta": prior_beta}
    request = AnalysisRequest(
        data=data,
        example=example,
        columns=parse_columns(columns),
        ci_level=ci_level,
        model=model,
        engine=engine,
        priors={k: v for k, v in given.items() if v is not None},
        common_effect=common_effect,
        covariates=tuple(covariate or ()),
        subgroup=subgroup,
        separate_tau=separate_tau,
        compare=compare,
        hdi=hdi,
        settings=SamplerSettings(
            chains=chains, draws=draws, tune=tune, seed=seed, target_accept=target_accept
        ),
        methods=tuple(m.strip() for m in methods.split(",")) if methods else None,
        split_shared_control=split_shared_control,
    )
    result = _analyse(request, json_out=json_out, posterior=save_posterior, plot=plot, force=force)
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
