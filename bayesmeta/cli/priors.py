"""``bayesmeta priors`` (the prior families and defaults) and ``bayesmeta sensitivity``.

``sensitivity`` refits one meta-analysis under several tau priors
(:func:`bayesmeta.workflows.sensitivity.prior_sensitivity`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.cli.common import (
    EXACT,
    EXIT_NOT_CONVERGED,
    ChainsOpt,
    ColumnsOpt,
    DataArg,
    DecimalOpt,
    DrawsOpt,
    EncodingOpt,
    ExampleOpt,
    ForceOpt,
    OutcomeOpt,
    QuietOpt,
    SeparatorOpt,
    SheetOpt,
    TuneOpt,
    check_output,
    console,
    load_data,
    reading,
    user_errors,
    write_json,
)
from bayesmeta.model.likelihoods import NAMES

QUANTILES = (0.025, 0.5, 0.975)


def _quantiles(prior: Any) -> list[str]:
    """2.5%, 50% and 97.5% quantiles of ``prior``, three decimals."""
    return [f"{q:.3f}" for q in prior.ppf(list(QUANTILES))]


def priors() -> None:
    """List the prior families, the default priors and what they imply for tau."""
    from rich.table import Table

    from bayesmeta.model.likelihoods import LIKELIHOODS
    from bayesmeta.model.priors import FAMILIES, default_priors, turner_prior
    from bayesmeta.model.scales import scale_of_measure
    from bayesmeta.model.turner import (
        COMPARISONS,
        CONTROL,
        MARGINAL,
        NON_PHARMA,
        PHARMA,
        TABLE_IV,
    )
    from bayesmeta.workflows.sensitivity import default_tau_priors

    out = console()
    families = Table(title="Prior families", title_justify="left", box=None)
    families.add_column("family")
    families.add_column("parameters")
    families.add_column("support")
    for family in FAMILIES.values():
        improper = "" if family.proper else " (improper: --engine exact, normal-normal only)"
        families.add_row(family.name, ", ".join(family.params), family.support + improper)
    families.add_row("turner", "OUTCOME, A vs B (Turner et al. 2015)", "positive (log-normal)")
    out.print(families)

    defaults = Table(title="Default priors", title_justify="left", box=None)
    for column in ("model", "parameter", "prior", "2.5%", "median", "97.5%"):
        defaults.add_column(
            column, justify="right" if "%" in column or column == "median" else "left"
        )
    for model, lik in LIKELIHOODS.items():
        chosen = default_priors(scale_of_measure(lik.measure).name)
        for parameter in ("mu", "tau", "baseline"):
            if parameter == "baseline" and not lik.baseline:
                continue  # only models with study baselines have their prior
            prior = getattr(chosen, parameter)
            defaults.add_row(model, parameter, str(prior), *_quantiles(prior))
    out.print(defaults)

    compared = Table(
        title="Tau priors compared by `bayesmeta sensitivity` "
        "(exponential(2) replaces Turner's on scales other than log odds ratios)",
        title_justify="left",
        box=None,
    )
    for column in ("prior", "2.5%", "median", "97.5%"):
        compared.add_column(column, justify="left" if column == "prior" else "right")
    for prior in [*default_tau_priors(True), default_tau_priors(False)[-1]]:
        compared.add_row(str(prior), *_quantiles(prior))
    out.print(compared)

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
    out.print(turner)
    typer.echo(
        f"P: {PHARMA}; NP: {NON_PHARMA}; C: {CONTROL}. "
        f"turner(any) is log tau^2 ~ N({MARGINAL[0]}, {MARGINAL[1]}^2) (p. 993)."
    )


def _abbreviate(comparison: str) -> str:
    """``"pharmacological vs. placebo / control"`` -> ``"P vs C"``."""
    from bayesmeta.model.turner import CONTROL, NON_PHARMA, PHARMA

    short = {PHARMA: "P", NON_PHARMA: "NP", CONTROL: "C"}
    return " vs ".join(short[side] for side in comparison.split(" vs. "))


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
        str, typer.Option(help=f"{' | '.join(NAMES)} | auto (from the columns).")
    ] = "auto",
    engine: Annotated[
        str,
        typer.Option(
            help=f"nuts | exact (quadrature: {', '.join(EXACT)}) | auto, for every refit."
        ),
    ] = "auto",
    chains: ChainsOpt = 4,
    draws: DrawsOpt = 2000,
    tune: TuneOpt = 1000,
    seed: Annotated[int, typer.Option(help="Random seed, the same for every fit.")] = 1,
    columns: ColumnsOpt = None,
    sheet: SheetOpt = None,
    separator: SeparatorOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    outcome: OutcomeOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the table as JSON.")
    ] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Refit the meta-analysis under several priors for tau and compare the answers."""
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.io.output import package_version
    from bayesmeta.model.priors import parse_prior
    from bayesmeta.report.terminal import sensitivity_table
    from bayesmeta.workflows.sensitivity import prior_sensitivity

    read = reading(locals())
    check_output(json_out, data, example, force)
    tau_priors = [parse_prior(text) for text in prior_tau] if prior_tau else None
    mu_prior = parse_prior(prior_mu) if prior_mu else None
    dataset = load_data(data, example, columns, read=read)
    settings = SamplerSettings(chains=chains, draws=draws, tune=tune, seed=seed)
    rows = prior_sensitivity(
        dataset, tau_priors, settings=settings, mu_prior=mu_prior, model=model, engine=engine
    )
    console().print(sensitivity_table(rows))
    payload = {
        "bayesmeta_version": package_version(),
        "data": {"source": dataset.source, "k": dataset.k},
        "prior_mu": prior_mu,
        "sampler": {"chains": chains, "draws": draws, "tune": tune, "seed": seed},
        "rows": [row.to_dict() for row in rows],
    }
    write_json(json_out, payload, force)
    if not all(row.converged for row in rows):
        typer.echo("warning: some fits did not converge (converged = NO); use more draws", err=True)
        raise typer.Exit(EXIT_NOT_CONVERGED)
