"""``bayesmeta sof``: a GRADE-style summary-of-findings table of one or more outcomes.

Thin like the rest of the CLI: check the output, build one request per outcome
(:func:`bayesmeta.workflows.sof.outcome_requests`), plan and fit them
(:func:`bayesmeta.workflows.sof.summary_of_findings`), render the table
(:mod:`bayesmeta.report.sof_files`) and write it atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bayesmeta.cli.common import (
    EXIT_NOT_CONVERGED,
    BaselineRiskOpt,
    BenefitThresholdOpt,
    ChainsOpt,
    DesirableEventsOpt,
    DrawsOpt,
    ForceOpt,
    PriorMuOpt,
    PriorTauOpt,
    QuietOpt,
    TuneOpt,
    absolute_options,
    user_errors,
)
from bayesmeta.errors import BayesmetaError


@user_errors
def sof(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="One outcome per data file (named by its stem) or analysis specification "
            "(SPEC.toml); a batch list (TOML with files / [meta_analyses]), a folder of CSVs "
            "or a RevMan review gives one outcome per meta-analysis.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(help="The table: .md, .html (one self-contained page) or .csv."),
    ],
    baseline_risk: BaselineRiskOpt = None,
    benefit_threshold: BenefitThresholdOpt = None,
    desirable_events: DesirableEventsOpt = False,
    measure: Annotated[
        str | None,
        typer.Option(
            help="Relative effect shown: OR (the posterior odds ratio, the default) or RR "
            "(the posterior risk ratio at each control risk).",
        ),
    ] = None,
    title: Annotated[str, typer.Option(help="Title of the table.")] = "Summary of findings",
    model: Annotated[str, typer.Option(help="As `bayesmeta fit --model`.")] = "auto",
    engine: Annotated[str, typer.Option(help="As `bayesmeta fit --engine`.")] = "auto",
    prior_mu: PriorMuOpt = None,
    prior_tau: PriorTauOpt = None,
    chains: ChainsOpt = 4,
    draws: DrawsOpt = 2000,
    tune: TuneOpt = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every outcome's sampler.")] = 1,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a summary-of-findings table: per outcome the participants (studies), relative
    effect, risks with control and treatment per 1,000, probability of a clinically relevant
    benefit, and an empty certainty column for the reviewer (GRADE domains listed).

    Each outcome is fitted as `bayesmeta fit` with the same options (a specification with its
    own); its row equals that outcome's `fit --baseline-risk`.
    """
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.io.output import check_outputs, write_atomic
    from bayesmeta.report.sof_files import check_format, render
    from bayesmeta.workflows.batch import check_not_an_input_folder
    from bayesmeta.workflows.request import AnalysisRequest
    from bayesmeta.workflows.sof import outcome_requests, summary_of_findings

    check_format(out)
    measure = measure.upper() if measure else None
    if measure not in (None, "OR", "RR"):
        raise BayesmetaError(f"--measure {measure}: a summary of findings shows OR or RR")
    check_not_an_input_folder([out], sources)
    check_outputs([out], inputs=list(sources), overwrite=force)
    priors = {k: v for k, v in (("mu", prior_mu), ("tau", prior_tau)) if v is not None}
    template = AnalysisRequest(
        model=model,
        engine=engine,
        priors=priors,
        settings=SamplerSettings(chains=chains, draws=draws, tune=tune, seed=seed),
        measure=measure,
        **absolute_options(baseline_risk, benefit_threshold, desirable_events),
    )
    table, results = summary_of_findings(outcome_requests(sources, template))
    text = render(table, out, title)
    write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=force)
    typer.echo(f"wrote {out}")
    failed = [name for name, result in results if not result.converged]
    if failed:
        typer.echo(
            f"warning: the fit of {', '.join(failed)} did not converge; see `bayesmeta fit`",
            err=True,
        )
        raise typer.Exit(EXIT_NOT_CONVERGED)
