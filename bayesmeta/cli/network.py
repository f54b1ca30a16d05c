"""``bayesmeta network``: Bayesian network meta-analysis of arm-level binary data (TSD2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bayesmeta.cli.common import (
    EXIT_NOT_CONVERGED,
    ChainsOpt,
    ColumnsOpt,
    CommonOpt,
    DrawsOpt,
    ExampleOpt,
    ForceOpt,
    JsonOpt,
    QuietOpt,
    TuneOpt,
    console,
    parse_columns,
    user_errors,
    write_json,
)
from bayesmeta.errors import OptionError

NetworkDataArg = Annotated[
    Path | None,
    typer.Argument(
        help="Data file, one row per arm: study, treatment, events, total (CSV or workbook).",
        show_default=False,
    ),
]


@user_errors
def network(
    data: NetworkDataArg = None,
    example: ExampleOpt = None,
    columns: ColumnsOpt = None,
    reference: Annotated[
        str | None,
        typer.Option(help="Reference treatment (default: the most connected)."),
    ] = None,
    priors: Annotated[
        str,
        typer.Option(
            help="Prior set: default (d ~ normal(0, 2.82), tau ~ half-normal(0.5), baselines "
            "normal(0, 10)) or tsd2 (NICE DSU TSD2: normal(0, 100), uniform(0, 5), "
            "normal(0, 100))."
        ),
    ] = "default",
    prior_d: Annotated[
        str | None, typer.Option(help="Prior of each basic parameter d_k (log OR vs reference).")
    ] = None,
    prior_tau: Annotated[
        str | None, typer.Option(help="Prior of the heterogeneity SD tau.")
    ] = None,
    prior_baseline: Annotated[
        str | None, typer.Option(help="Prior of each study's baseline-arm log odds.")
    ] = None,
    higher_is_better: Annotated[
        bool,
        typer.Option(
            "--higher-is-better/--lower-is-better",
            help="The events are wanted (rank 1 = highest odds), or harmful (the default: "
            "rank 1 = lowest odds).",
        ),
    ] = False,
    common_effect: CommonOpt = False,
    ume: Annotated[
        bool,
        typer.Option(
            "--ume",
            help="Also fit the unrelated mean effects model (one free log OR per observed "
            "comparison, no consistency) and compare its residual deviance and DIC with the "
            "consistency model's (an inconsistency check, NICE DSU TSD4).",
        ),
    ] = False,
    ci_level: Annotated[float, typer.Option(min=0.5, max=0.999, help="Interval level.")] = 0.95,
    chains: ChainsOpt = 4,
    draws: DrawsOpt = 2000,
    tune: TuneOpt = 1000,
    seed: Annotated[int, typer.Option(min=0)] = 1,
    json_out: JsonOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Network meta-analysis (NICE DSU TSD2, binomial-logit model): league table of all odds
    ratios, rank probabilities, SUCRA and P(best), heterogeneity and DIC."""
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.io.examples import example as find_example
    from bayesmeta.io.network import load_network
    from bayesmeta.io.output import check_outputs
    from bayesmeta.model.priors import PriorSet
    from bayesmeta.report.network import render_network
    from bayesmeta.workflows.network import network as run_network
    from bayesmeta.workflows.network import network_priors

    if (data is None) == (example is None):
        raise OptionError("give a data file or --example NAME (one of them)")
    source = data if data is not None else find_example(example).path
    check_outputs([json_out], inputs=[source], overwrite=force)
    loaded = load_network(source, reference=reference, columns=parse_columns(columns))
    chosen = network_priors(priors)
    overrides = {"mu": prior_d, "tau": prior_tau, "baseline": prior_baseline}
    chosen = PriorSet.of(chosen, **overrides)
    settings = SamplerSettings(chains=chains, draws=draws, tune=tune, seed=seed)
    result = run_network(
        loaded,
        priors=chosen,
        common_effect=common_effect,
        higher_is_better=higher_is_better,
        settings=settings,
        ci_level=ci_level,
        fit_ume=ume,
    )
    render_network(result, console())
    write_json(json_out, result.to_dict(), force)
    if not result.converged:
        raise typer.Exit(EXIT_NOT_CONVERGED)
