"""``bayesmeta robustness``: the prior robustness map (P(benefit) and the Bayes factors over a
grid of prior scales)."""

from __future__ import annotations

from pathlib import Path
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
)
from bayesmeta.errors import OptionError
from bayesmeta.workflows.robustness import MU_SCALES, POINTS, TAU_SCALES, THRESHOLD


def _range(text: str | None, default: tuple[float, float], option: str) -> tuple[float, float]:
    if text is None:
        return default
    parts = text.split(":")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise OptionError(
            f"{option} {text!r}: write LOW:HIGH, e.g. {default[0]:g}:{default[1]:g}"
        ) from None
    return lo, hi


@user_errors
@model_options
def robustness(
    options: ModelOptions,
    tau_scales: Annotated[
        str | None,
        typer.Option(
            help="Range LOW:HIGH of the scale s of the tau prior half-normal(s), log spaced "
            f"[default: {TAU_SCALES[0]:g}:{TAU_SCALES[1]:g}]."
        ),
    ] = None,
    mu_scales: Annotated[
        str | None,
        typer.Option(
            help="Range LOW:HIGH of the SD of the mu prior normal(m, SD), log spaced; m is "
            f"the analysis' prior mean [default: {MU_SCALES[0]:g}:{MU_SCALES[1]:g}]."
        ),
    ] = None,
    points: Annotated[
        int, typer.Option(min=2, max=400, help="Scales per axis (points x points cells).")
    ] = POINTS,
    threshold: Annotated[
        float,
        typer.Option(help="P(benefit) at which the conclusion flips (the map's line)."),
    ] = THRESHOLD,
    benefit_higher: Annotated[
        bool,
        typer.Option(
            "--benefit-higher",
            help="Benefit is mu > 0 (wanted events) rather than mu < 0 (fewer harmful events).",
        ),
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Compare two corner cells (and the analysis' priors, if a cell) with direct "
            "exact fits, and report the largest difference.",
        ),
    ] = True,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the grid as CSV (one row per cell).")
    ] = None,
    figure: Annotated[
        Path | None,
        typer.Option("--figure", help="Draw the heat maps (.png, .svg or .pdf)."),
    ] = None,
    json_out: JsonOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Map P(benefit) and the Bayes factors for the effect and for heterogeneity over a grid of
    prior scales (tau ~ half-normal(s), mu ~ normal(m, SD)), with the line where each
    conclusion flips. For the models an exact engine integrates (see --engine)."""
    from bayesmeta.io.output import check_outputs, outputs_together, write_atomic
    from bayesmeta.workflows.request import input_path, plan
    from bayesmeta.workflows.robustness import robustness_map

    request = options.request()
    outputs = (json_out, csv_out, figure)
    check_outputs(outputs, inputs=(input_path(request), options.spec_file), overwrite=force)
    if figure is not None:
        from bayesmeta.report.figures import format_of

        format_of(figure)
    if csv_out is not None and csv_out.suffix.lower() != ".csv":
        raise OptionError(f"--csv {csv_out}: give a file name ending in .csv")
    if request.common_effect:
        raise OptionError("the robustness map varies the prior of tau; drop --common-effect")
    taus = _range(tau_scales, TAU_SCALES, "--tau-scales")
    mus = _range(mu_scales, MU_SCALES, "--mu-scales")
    rmap = robustness_map(
        plan(request).spec,
        tau_scales=taus,
        mu_scales=mus,
        points=points,
        threshold=threshold,
        benefit="higher" if benefit_higher else "lower",
        check=check,
    )
    out = console()
    for line in rmap.summary_lines():
        out.print(line, highlight=False)
    with outputs_together():
        if json_out is not None:
            from bayesmeta.io.output import write_json

            write_json(json_out, rmap.to_dict(), overwrite=force)
        if csv_out is not None:
            import pandas as pd

            table = pd.DataFrame(rmap.rows())
            write_atomic(csv_out, lambda tmp: table.to_csv(tmp, index=False), overwrite=force)
        if figure is not None:
            from bayesmeta.report.figures import save
            from bayesmeta.report.figures.robustness import robustness_map as draw

            drawn = draw(rmap)
            write_atomic(figure, lambda tmp: save(drawn, tmp, format_of(figure)), overwrite=force)
    for path in outputs:
        if path is not None:
            typer.echo(f"wrote {path}")
