"""The ``bayesmeta`` command line (Typer): thin commands over the library.

Each command parses its options, calls one library function and renders the result. User
mistakes raise :class:`~bayesmeta.errors.BayesmetaError`, printed as one line with exit code 2.
Heavy libraries are imported inside the commands that need them, so ``--help`` is fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.errors import BayesmetaError

app = typer.Typer(
    help="Bayesian meta-analysis of clinical studies, beside metafor's frequentist answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_USER_ERROR = 2
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a BayesmetaError into a one-line message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BayesmetaError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None

    return wrapper


def parse_columns(text: str | None) -> dict[str, str]:
    """``"treatment_events=tpos, control_events=cpos"`` -> mapping of role to column."""
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise BayesmetaError(
                f"--columns expects ROLE=COLUMN pairs separated by commas, got {part!r}"
            )
        out[role.strip()] = column.strip()
    return out


def _data(
    path: Path | None, example: str | None, columns: str | None, ci_level: float = 0.95
) -> Any:
    from bayesmeta.io.examples import example as find_example
    from bayesmeta.io.inputs import load_any

    if (path is None) == (example is None):
        raise BayesmetaError("give either a DATA.csv path or --example NAME")
    source = find_example(example).path if example else path
    return load_any(source, columns=parse_columns(columns), ci_level=ci_level)


def _console() -> Any:
    """Rich console; 110 columns when not writing to a terminal, so tables do not wrap."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=110)


DataArg = Annotated[
    Path | None, typer.Argument(help="CSV with one row per study.", show_default=False)
]
ExampleOpt = Annotated[
    str | None, typer.Option(help="Use a shipped example dataset (see `bayesmeta examples`).")
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(help="Map your column names: 'treatment_events=tpos,control_total=n_c'."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]


@app.command()
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
    prior_mu: Annotated[
        str | None, typer.Option(help="Prior of the pooled effect mu, e.g. 'normal(0, 2.82)'.")
    ] = None,
    prior_tau: Annotated[
        str | None, typer.Option(help="Prior of the heterogeneity SD tau, e.g. 'half-normal(0.5)'.")
    ] = None,
    prior_baseline: Annotated[
        str | None,
        typer.Option(help="Prior of each study's control-arm log odds, e.g. 'normal(0, 10)'."),
    ] = None,
    common_effect: Annotated[
        bool, typer.Option("--common-effect", help="Fit tau = 0 (common-effect model).")
    ] = False,
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
    chains: Annotated[int, typer.Option(min=1)] = 4,
    draws: Annotated[int, typer.Option(min=100, help="Draws per chain after tuning.")] = 2000,
    tune: Annotated[int, typer.Option(min=100, help="Tuning steps per chain.")] = 1000,
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
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON.")
    ] = None,
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
    from bayesmeta.io.output import check_writable
    from bayesmeta.model.moderators import moderators
    from bayesmeta.model.priors import PriorSet, parse_prior
    from bayesmeta.workflows.analyze import (
        analyze,
        available_methods,
        default_methods,
        default_priors,
        resolve_engine,
        resolve_model,
    )

    for out in (json_out, save_posterior, plot):
        if out is not None:
            check_writable(out, overwrite=force)
    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        raise BayesmetaError(
            f"--plot {plot}: use a .png, .pdf or .svg file name (got {plot.suffix or 'none'})"
        )
    dataset = _data(data, example, columns, ci_level)
    chosen = resolve_model(dataset, model)
    chosen_engine = resolve_engine(chosen, engine)
    if save_posterior is not None and chosen_engine == "exact":
        raise BayesmetaError("--save-posterior needs draws: use --engine nuts")
    base = default_priors(chosen, dataset)
    priors = PriorSet(
        mu=parse_prior(prior_mu) if prior_mu else base.mu,
        tau=parse_prior(prior_tau) if prior_tau else base.tau,
        baseline=parse_prior(prior_baseline) if prior_baseline else base.baseline,
    )
    mods = moderators(
        dataset.covariates,
        names=covariate or (),
        subgroup=subgroup,
        separate_tau=separate_tau,
        prior_beta=parse_prior(prior_beta),
    )
    settings = SamplerSettings(
        chains=chains, draws=draws, tune=tune, seed=seed, target_accept=target_accept
    )
    shown = tuple(m.strip() for m in methods.split(",")) if methods else default_methods(dataset)
    _validate_methods(shown, available_methods(dataset))
    result = analyze(
        dataset,
        model=chosen,
        engine=chosen_engine,
        priors=priors,
        settings=settings,
        common_effect=common_effect,
        moderators=mods,
        compare=compare,
        hdi=hdi,
    )
    from bayesmeta.report.terminal import render

    render(result, _console(), methods=shown)
    _write_outputs(result, json_out, save_posterior, plot, force)
    if not result.converged:
        raise typer.Exit(3)


def _validate_methods(shown: tuple[str, ...], available: tuple[str, ...]) -> None:
    unknown = [m for m in shown if m not in available]
    if unknown:
        raise BayesmetaError(
            f"unknown frequentist method(s) {', '.join(unknown)}; "
            f"choose from {', '.join(available)}"
        )


def _write_outputs(
    result: Any, json_out: Path | None, posterior: Path | None, plot: Path | None, force: bool
) -> None:
    from bayesmeta.io.output import write_atomic, write_json

    if json_out is not None:
        write_json(json_out, result.to_dict(), overwrite=force)
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
            lambda tmp: forest_plot(result, tmp, fmt=plot.suffix.lstrip(".").lower()),
            overwrite=force,
        )
        typer.echo(f"wrote {plot}")


@app.command()
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
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Frequentist meta-analysis only (every estimator, matched to metafor); no PyMC."""
    from bayesmeta.io.output import check_writable, write_json
    from bayesmeta.report.classic import classic_result, render_classic

    if json_out is not None:
        check_writable(json_out, overwrite=force)
    dataset = _data(data, example, columns)
    result = classic_result(dataset, leave_one_out_method=leave_one_out, cumulative_by=cumulative)
    render_classic(result, dataset, _console())
    if json_out is not None:
        write_json(json_out, result, overwrite=force)
        typer.echo(f"wrote {json_out}")


@app.command()
def examples() -> None:
    """List the shipped example datasets with their citations."""
    from bayesmeta.io.examples import examples as all_examples

    for ex in all_examples().values():
        typer.echo(f"{ex.name:16} {ex.design:10} {ex.title}\n{'':16} {ex.citation}")


# The other commands register themselves on `app` when imported.
from bayesmeta.cli import batch, models  # noqa: E402, F401
