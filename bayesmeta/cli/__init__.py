"""The ``bayesmeta`` command line (Typer): thin commands over the library.

Each command parses its options, calls one library function and renders the result. User
mistakes raise :class:`~bayesmeta.errors.BayesmetaError`, printed as one line with exit code 2.
Heavy libraries are imported inside the commands that need them, so ``--help`` is fast.
"""

import sys
from typing import Any

import typer

# Typer (0.29) vendors click as typer._click; its usage errors are typer.TyperException.
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from bayesmeta.cli import (
    average,
    batch,
    bias,
    classic,
    fit,
    network,
    priors,
    report,
    robustness,
    sof,
)
from bayesmeta.cli.common import EXIT_USER_ERROR, ascii_fallback


class OneLineErrors(TyperGroup):
    """The command group: a usage error (an unknown option, ``--chains 0``) is one
    ``error:`` line with exit code 2, like the package's own errors, not a framed box."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        ascii_fallback()
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except typer.TyperException as exc:
            message = " ".join(exc.format_message().split())
            ctx = getattr(exc, "ctx", None)
            command = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
            typer.echo(f"error: {message}{command}", err=True)
            code = EXIT_USER_ERROR if isinstance(exc, UsageError) else exc.exit_code
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    help="Bayesian meta-analysis of clinical studies, beside metafor's frequentist answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (
    fit.fit,
    fit.run,
    average.average,
    network.network,
    robustness.robustness,
    report.report,
    report.plot,
    classic.classic,
    bias.bias,
    classic.examples,
    classic.outcomes,
    priors.priors,
    priors.sensitivity,
    batch.batch,
    batch.simulate,
    sof.sof,
):
    app.command()(command)

__all__ = ["app"]
