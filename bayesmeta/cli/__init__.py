"""The ``bayesmeta`` command line (Typer): thin commands over the library.

Each command parses its options, calls one library function and renders the result. User
mistakes raise :class:`~bayesmeta.errors.BayesmetaError`, printed as one line with exit code 2.
Heavy libraries are imported inside the commands that need them, so ``--help`` is fast.
"""

import typer

from bayesmeta.cli import batch, classic, fit, priors, report

app = typer.Typer(
    help="Bayesian meta-analysis of clinical studies, beside metafor's frequentist answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (
    fit.fit,
    fit.run,
    report.report,
    report.plot,
    classic.classic,
    classic.examples,
    priors.priors,
    priors.sensitivity,
    batch.batch,
    batch.simulate,
):
    app.command()(command)

__all__ = ["app"]
