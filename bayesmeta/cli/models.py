"""Commands ``priors``, ``sensitivity`` and ``run``, registered on the ``bayesmeta`` Typer app.

``priors`` tabulates the prior families and what the default priors imply for tau;
``sensitivity`` refits one meta-analysis under several tau priors
(:func:`bayesmeta.workflows.sensitivity.prior_sensitivity`); ``run`` fits a TOML specification
(:mod:`bayesmeta.io.spec`). Imported at the end of :mod:`bayesmeta.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.cli import (
    ColumnsOpt,
    DataArg,
    ExampleOpt,
    ForceOpt,
    _console,
    _data,
    app,
    user_errors,
)

EXIT_NOT_CONVERGED = 3
QUANTILES = (0.025, 0.5, 0.975)


def _quantiles(prior: Any) -> list[str]:
    """2.5%, 50% and 97.5% quantiles of ``prior``, three decimals."""
    return [f"{q:.3f}" for q in prior.ppf(list(QUANTILES))]


@app.command()
def priors() -> None:
    """List the prior families, the default priors and what they imply for tau."""
    from rich.table import Table

    from bayesmeta.model.priors import FAMILIES
    from bayesmeta.model.turner import (
        COMPARISONS,
        CONTROL,
        MARGINAL,
        NON_PHARMA,
        PHARMA,
        TABLE_IV,
        turner_prior,
    )
    from bayesmeta.workflows.analyze import MODELS, default_priors
    from bayesmeta.workflows.sensitivity import default_tau_priors

    console = _console()
    families = Table(title="Prior families", title_justify="left", box=None)
    families.add_column("family")
    families.add_column("parameters")
    families.add_column("support")
    for name, (params, support) in FAMILIES.items():
        families.add_row(name, ", ".join(params), support)
    families.add_row("turner", "OUTCOME, A vs B (Turner et al. 2015)", "positive (log-normal)")
    console.print(families)

    defaults = Table(title="Default priors", title_justify="left", box=None)
    for column in ("model", "parameter", "prior", "2.5%", "median", "97.5%"):
        defaults.add_column(
            column, justify="right" if "%" in column or column == "median" else "left"
        )
    for model in MODELS:
        chosen = default_priors(model)
        for parameter in ("mu", "tau", "baseline"):
            if parameter == "baseline" and model != "binomial-normal":
                continue  # only the binomial-normal model has study baselines
            prior = getattr(chosen, parameter)
            defaults.add_row(model, parameter, str(prior), *_quantiles(prior))
    console.print(defaults)

    compared = Table(
        title="Tau priors compared by `bayesmeta sensitivity` "
        "(exponential(2) replaces Turner's for single-arm data)",
        title_justify="left",
        box=None,
    )
    for column in ("prior", "2.5%", "median", "97.5%"):
        compared.add_column(column, justify="left" if column == "prior" else "right")
    for prior in [*default_tau_priors(two_arm=True), default_tau_priors(two_arm=False)[-1]]:
        compared.add_row(str(prior), *_quantiles(prior))
    console.print(compared)

    turner = Table(
        title="Turner et al. (2015) tau priors for log odds ratios: median (95% range); "
        "use as --prior-tau 'turner(OUTCOME, A vs B)'",
        title_justify="left",
        box=None,
    )
    turner.add_column("outcome")
    for comparison in COMPARISONS:
        turner.add_column(_abbreviate(comparison), justify="right")

    def cell(prior: Any) -> str:
        lo, med, hi = prior.ppf(list(QUANTILES))
        return f"{med:.2f} ({lo:.2f}-{hi:.2f})"

    for outcome in TABLE_IV:
        turner.add_row(outcome, *(cell(turner_prior(outcome, c)) for c in COMPARISONS))
    any_prior = turner_prior("any")
    turner.add_row("any (turner(any))", cell(any_prior), *([""] * (len(COMPARISONS) - 1)))
    console.print(turner)
    typer.echo(
        f"P: {PHARMA}; NP: {NON_PHARMA}; C: {CONTROL}. "
        f"turner(any) is log tau^2 ~ N({MARGINAL[0]}, {MARGINAL[1]}^2) (p. 993)."
    )


def _abbreviate(comparison: str) -> str:
    """``"pharmacological vs. placebo / control"`` -> ``"P vs C"``."""
    from bayesmeta.model.turner import CONTROL, NON_PHARMA, PHARMA

    short = {PHARMA: "P", NON_PHARMA: "NP", CONTROL: "C"}
    return " vs ".join(short[side] for side in comparison.split(" vs. "))


def _rows_table(rows: list[dict[str, Any]]) -> Any:
    """One rich table row per tau prior (see :func:`prior_sensitivity`)."""
    from rich.table import Table

    effect = rows[0]["measure"]
    prob = {"OR": "P(OR < 1)", "proportion": "P(p < 0.5)"}.get(effect, "P(mu < 0)")
    table = Table(
        title="Prior sensitivity: pooled effect and tau under each prior for tau",
        title_justify="left",
        box=None,
    )
    table.add_column("tau prior")
    for column in (f"{effect} median", "95% CrI", prob, "tau median", "tau 95% CrI", "converged"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["prior"],
            f"{row['median']:.3f}",
            f"{row['ci95'][0]:.3f} to {row['ci95'][1]:.3f}",
            f"{row['prob_mu_below_0']:.3f}",
            f"{row['tau_median']:.3f}",
            f"{row['tau_ci95'][0]:.3f} to {row['tau_ci95'][1]:.3f}",
            "yes" if row["converged"] else "NO",
        )
    return table


@app.command()
@user_errors
def sensitivity(
    data: DataArg = None,
    example: ExampleOpt = None,
    prior_tau: Annotated[
        list[str] | None,
        typer.Option(
            help="A prior for tau; repeat to compare several (default: half-normal(0.5), "
            "half-normal(1), half-cauchy(0.5), a Turner et al. prior)."
        ),
    ] = None,
    prior_mu: Annotated[
        str | None, typer.Option(help="Prior of the pooled effect mu (default: the model's).")
    ] = None,
    model: Annotated[
        str, typer.Option(help="binomial-normal | proportion | auto (from the columns).")
    ] = "auto",
    chains: Annotated[int, typer.Option(min=1)] = 4,
    draws: Annotated[int, typer.Option(min=100, help="Draws per chain after tuning.")] = 2000,
    tune: Annotated[int, typer.Option(min=100, help="Tuning steps per chain.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed, the same for every fit.")] = 1,
    columns: ColumnsOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the table as JSON.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Refit the meta-analysis under several priors for tau and compare the answers."""
    from bayesmeta import __version__
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.io.output import check_writable, write_json
    from bayesmeta.model.priors import parse_prior
    from bayesmeta.workflows.sensitivity import prior_sensitivity

    if json_out is not None:
        check_writable(json_out, overwrite=force)
    tau_priors = [parse_prior(text) for text in prior_tau] if prior_tau else None
    mu_prior = parse_prior(prior_mu) if prior_mu else None
    dataset = _data(data, example, columns)
    settings = SamplerSettings(chains=chains, draws=draws, tune=tune, seed=seed)
    rows = prior_sensitivity(dataset, tau_priors, settings=settings, mu_prior=mu_prior, model=model)
    _console().print(_rows_table(rows))
    if json_out is not None:
        payload = {
            "bayesmeta_version": __version__,
            "data": {"source": dataset.source, "k": dataset.k},
            "prior_mu": prior_mu,
            "sampler": {"chains": chains, "draws": draws, "tune": tune, "seed": seed},
            "rows": rows,
        }
        write_json(json_out, payload, overwrite=force)
        typer.echo(f"wrote {json_out}")
    if not all(row["converged"] for row in rows):
        typer.echo("warning: some fits did not converge (converged = NO); use more draws", err=True)
        raise typer.Exit(EXIT_NOT_CONVERGED)


@app.command()
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
    from bayesmeta.io.spec import load_spec, run_spec

    loaded = load_spec(spec)
    payload = run_spec(loaded, out_dir=out_dir, force=force)
    from bayesmeta.report.terminal import scale_transform

    post = payload["posterior"]
    fn, name = scale_transform(post["scale"])
    if "mu" in post:
        lo, hi = (float(fn(v)) for v in post["mu"]["ci95"])
        typer.echo(f"{name} {float(fn(post['mu']['median'])):.3f} (95% CrI {lo:.3f} to {hi:.3f})")
    typer.echo(f"wrote {loaded.output_path(out_dir)}")
    if not payload["diagnostics"]["converged"]:
        typer.echo("warning: the fit did not converge; see diagnostics.problems", err=True)
        raise typer.Exit(EXIT_NOT_CONVERGED)
