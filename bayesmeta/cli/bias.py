"""``bayesmeta bias``: the Bayesian publication-bias ensemble (RoBMA-PSMA's 36 models)."""

from __future__ import annotations

from typing import Annotated

import typer

from bayesmeta.cli.common import (
    ColumnsOpt,
    DataArg,
    DecimalOpt,
    EncodingOpt,
    ExampleOpt,
    ForceOpt,
    JsonOpt,
    MeasureOpt,
    OutcomeOpt,
    QuietOpt,
    SeparatorOpt,
    SheetOpt,
    SplitOpt,
    check_output,
    console,
    load_data,
    reading,
    user_errors,
    write_json,
)


@user_errors
def bias(
    data: DataArg = None,
    example: ExampleOpt = None,
    columns: ColumnsOpt = None,
    measure: MeasureOpt = None,
    effect_direction: Annotated[
        str,
        typer.Option(
            help="Expected direction of the effect (auto|positive|negative): the one-sided "
            "p-values of the weight functions and the sign of PET/PEESE (RoBMA's "
            "effect_direction, whose default is positive); auto: the direction of the "
            "common-effect estimate."
        ),
    ] = "auto",
    priors: Annotated[
        str,
        typer.Option(
            help="Prior preset: default (the package's mu and tau priors) or robma "
            "(RoBMA-PSMA's: mu ~ N(0, 1), tau ~ InvGamma(1, 0.15), PET ~ Cauchy+(0, 1), "
            "PEESE ~ Cauchy+(0, 5))."
        ),
    ] = "default",
    prior_mu: Annotated[
        str | None, typer.Option(help="Prior of mu, e.g. 'normal(0, 1)' (overrides the preset).")
    ] = None,
    prior_tau: Annotated[
        str | None,
        typer.Option(help="Prior of tau, e.g. 'inverse-gamma(1, 0.15)' (overrides the preset)."),
    ] = None,
    prior_effect: Annotated[float, typer.Option(help="Prior probability of an effect.")] = 0.5,
    prior_heterogeneity: Annotated[
        float, typer.Option(help="Prior probability of heterogeneity (random effects).")
    ] = 0.5,
    prior_bias: Annotated[
        float,
        typer.Option(
            help="Prior probability of publication bias, split among the six weight functions "
            "(1/12 each), PET (1/4) and PEESE (1/4) as RoBMA-PSMA."
        ),
    ] = 0.5,
    models: Annotated[bool, typer.Option("--models", help="Show every model.")] = False,
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
    """Bayesian publication-bias ensemble: {effect, none} x {random, common} x {no bias, six
    selection models, PET, PEESE}, averaged by marginal likelihoods computed by quadrature
    (no sampling): inclusion Bayes factors and the bias-adjusted effect."""
    from bayesmeta.io.inputs import counts_measure
    from bayesmeta.report.bias import render_bias
    from bayesmeta.workflows.bias import bias as run_bias

    check_output(json_out, data, example, force)
    read = reading(locals())
    dataset = load_data(data, example, columns, split_shared_control, read, measure)
    result = run_bias(
        dataset,
        priors=priors,
        prior_mu=prior_mu,
        prior_tau=prior_tau,
        effect_direction=effect_direction,
        prior_effect=prior_effect,
        prior_heterogeneity=prior_heterogeneity,
        prior_bias=prior_bias,
        measure=counts_measure(dataset, measure.upper() if measure else None),
    )
    render_bias(result, console(), models=models)
    write_json(json_out, result.to_dict(), force)
