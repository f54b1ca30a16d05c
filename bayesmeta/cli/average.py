"""``bayesmeta average``: Bayesian model averaging over {effect, no effect} x {random, common}."""

from __future__ import annotations

from typing import Annotated

import typer

from bayesmeta.cli.common import (
    ForceOpt,
    JsonOpt,
    ModelOptions,
    QuietOpt,
    console,
    model_options,
    user_errors,
    write_json,
)
from bayesmeta.errors import OptionError

ORDER = ("effect_random", "effect_common", "null_random", "null_common")


def _probabilities(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise OptionError(f"--prior-probs {text!r}: write four numbers, e.g. 1,1,1,1") from None
    if len(values) != 4:
        raise OptionError(
            f"--prior-probs {text!r}: four numbers, for {', '.join(ORDER)} (got {len(values)})"
        )
    return dict(zip(ORDER, values, strict=True))


@user_errors
@model_options
def average(
    options: ModelOptions,
    prior_probs: Annotated[
        str | None,
        typer.Option(
            help="Prior model probabilities for effect+random, effect+common, no effect+random, "
            "no effect+common (e.g. 1,1,1,1; normalised; default equal)."
        ),
    ] = None,
    json_out: JsonOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Average the four models {effect, no effect} x {random, common effect} by their exact
    marginal likelihoods: posterior model probabilities, inclusion Bayes factors, averaged mu
    and tau. DATA may be a SPEC.toml (its data, model and priors)."""
    from bayesmeta.io.output import check_outputs
    from bayesmeta.report.terminal import render_average
    from bayesmeta.workflows.average import model_average
    from bayesmeta.workflows.request import input_path, plan

    request = options.request()
    check_outputs((json_out,), inputs=(input_path(request), options.spec_file), overwrite=force)
    probs = _probabilities(prior_probs)
    planned = plan(request)
    result = model_average(planned.spec, probs, request.ci_level)
    render_average(result, console())
    write_json(json_out, result.to_dict(), force)
