"""What the commands share: one-line errors, the console, common options, writing outputs."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.errors import BayesmetaError

EXIT_USER_ERROR = 2
EXIT_NOT_CONVERGED = 3


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


def console() -> Any:
    """Rich console that prints text literally (no markup, emoji codes or highlighting, so
    study names such as ``[/]`` show as written); 110 columns when not writing to a terminal,
    so tables do not wrap."""
    from rich.console import Console

    literal = {"markup": False, "emoji": False, "highlight": False}
    return Console(**literal) if sys.stdout.isatty() else Console(width=110, **literal)


def load_data(
    path: Path | None, example: str | None, columns: str | None, split: bool = False
) -> Any:
    """The data of a command's DATA argument or ``--example``."""
    from bayesmeta.workflows.request import AnalysisRequest, load_data

    request = AnalysisRequest(
        data=path, example=example, columns=parse_columns(columns), split_shared_control=split
    )
    return load_data(request)


def check_output(path: Path | None, data: Path | None, example: str | None, force: bool) -> None:
    """Check the one output of a command reading DATA or ``--example`` before any work."""
    from bayesmeta.io.output import check_outputs
    from bayesmeta.workflows.request import AnalysisRequest, input_path

    source = input_path(AnalysisRequest(data=data, example=example))
    check_outputs([path], inputs=[source], overwrite=force)


def write_json(path: Path | None, payload: dict[str, Any], force: bool) -> None:
    """Write ``payload`` to ``path`` (if given) and say so."""
    if path is not None:
        from bayesmeta.io.output import write_json as write

        write(path, payload, overwrite=force)
        typer.echo(f"wrote {path}")


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
SplitOpt = Annotated[
    bool,
    typer.Option(
        "--split-shared-control",
        help="Divide a control arm that several comparisons of a multi-arm trial share "
        "between them (Cochrane Handbook 23.3.4).",
    ),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the results as JSON.")]
PriorMuOpt = Annotated[
    str | None, typer.Option(help="Prior of the pooled effect mu, e.g. 'normal(0, 2.82)'.")
]
PriorTauOpt = Annotated[
    str | None, typer.Option(help="Prior of the heterogeneity SD tau, e.g. 'half-normal(0.5)'.")
]
PriorBaselineOpt = Annotated[
    str | None,
    typer.Option(help="Prior of each study's control-arm log odds, e.g. 'normal(0, 10)'."),
]
CommonOpt = Annotated[
    bool, typer.Option("--common-effect", help="Fit tau = 0 (common-effect model).")
]
ChainsOpt = Annotated[int, typer.Option(min=1)]
DrawsOpt = Annotated[int, typer.Option(min=100, help="Draws per chain after tuning.")]
TuneOpt = Annotated[int, typer.Option(min=100, help="Tuning steps per chain.")]
