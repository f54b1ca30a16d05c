"""The ``bayesmeta batch`` and ``bayesmeta simulate`` commands.

Thin like the rest of the CLI: parse options, call :mod:`bayesmeta.workflows.batch` or
:mod:`bayesmeta.workflows.simulate`, write the tables. The JSON-lines progress file sits beside
``--out`` (``RESULTS.jsonl`` for ``RESULTS.csv``); a rerun resumes from it, and ``--force``
starts over.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bayesmeta.cli.common import (
    EXIT_ALL_FAILED,
    EXIT_NOT_CONVERGED,
    ChainsOpt,
    CommonOpt,
    DrawsOpt,
    ForceOpt,
    PriorBaselineOpt,
    PriorMuOpt,
    PriorTauOpt,
    QuietOpt,
    SheetOpt,
    TuneOpt,
    for_this_command,
    user_errors,
)
from bayesmeta.errors import BayesmetaError

if TYPE_CHECKING:
    from bayesmeta.workflows.batch import BatchOptions

SeedOpt = Annotated[
    int,
    typer.Option(help="Base seed; each meta-analysis gets a seed derived from it and its name."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (tcp://host:8786); default: local processes."),
]
WorkersOpt = Annotated[
    int | None, typer.Option(min=1, help="Local worker processes (default: all cores).")
]
BatchEngineOpt = Annotated[
    str,
    typer.Option(
        help="nuts | exact (quadrature, no Monte Carlo error: the binomial and normal-normal "
        "models without moderators) | auto (exact for normal-normal, else nuts)."
    ),
]


def _options(
    prior_mu: str | None,
    prior_tau: str | None,
    prior_baseline: str | None,
    common_effect: bool,
    chains: int,
    draws: int,
    tune: int,
    seed: int,
    engine: str = "nuts",
    measure: str | None = None,
) -> BatchOptions:
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.workflows.batch import BatchOptions

    return BatchOptions.from_strings(
        prior_mu=prior_mu,
        prior_tau=prior_tau,
        prior_baseline=prior_baseline,
        common_effect=common_effect,
        settings=SamplerSettings(chains=chains, draws=draws, tune=tune, seed=seed),
        engine=engine,
        measure=measure,
    )


def _prepare(tables: list[Path], force: bool, inputs: list[Path]) -> Path:
    """Check every output path before any fitting; return the progress file of the first table.

    Each results table must end in ``.csv`` and neither it nor its Parquet copy may exist
    unless ``force`` (which also drops the progress file); none may be an input or lie in a
    folder of input CSVs (the next run would read it). The progress file sits beside the
    first table (``RESULTS.jsonl`` for ``RESULTS.csv``).
    """
    from bayesmeta.io.output import check_outputs
    from bayesmeta.workflows.batch import check_not_an_input_folder, progress_path, table_paths

    progress = progress_path(tables[0])
    outputs = [path for table in tables for path in table_paths(table)]
    check_not_an_input_folder([*outputs, progress], inputs)
    check_outputs(outputs, inputs=inputs, overwrite=force)
    check_outputs([progress], inputs=inputs, overwrite=True)
    return progress


def _check_table_name(out: Path) -> None:
    """``--out`` must name a file (``--out ''`` and ``--out /`` name none)."""
    if not out.name or out.is_dir():
        raise BayesmetaError(
            f"--out {str(out)!r} is a folder, not a file name; give e.g. results.csv"
        )


def _check_scheduler(scheduler: str | None) -> None:
    """Refuse a malformed ``--scheduler`` before any work."""
    if scheduler is not None:
        from bayesmeta.workflows.batch import check_scheduler

        check_scheduler(scheduler)


def _start(progress: Path, force: bool) -> None:
    """With ``force`` drop the progress file (start over), else say it is resumed. Called
    holding the output's lock, so another batch's progress file is never touched."""
    if force:
        progress.unlink(missing_ok=True)
    elif progress.exists():
        typer.echo(f"resuming from {progress}", err=True)


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show warnings (a damaged progress line) as one ``warning:`` line each on stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")

        def show(message: Any, *args: Any, **kwargs: Any) -> None:
            typer.echo(f"warning: {message}", err=True)

        warnings.showwarning = show
        yield


def _all_failed(table: Any, what: str) -> None:
    """Exit with :data:`EXIT_ALL_FAILED` (4) if not one row of ``table`` was fitted."""
    if len(table) and not (table["status"] == "ok").any():
        typer.echo(f"error: every {what} failed; see the reason column", err=True)
        raise typer.Exit(EXIT_ALL_FAILED)


def _some_failed(table: Any) -> None:
    """Exit with :data:`EXIT_NOT_CONVERGED` (3) if a meta-analysis failed or did not converge
    (the table is written; the reason column says why), so scripts notice."""
    ok = table["status"] == "ok"
    converged = table["converged"].fillna(False).astype(bool) if "converged" in table else ok
    unconverged = table[ok & ~converged]
    for row in unconverged.itertuples():
        typer.echo(f"not converged: {row.name}: {row.reason}", err=True)
    if not (ok & converged).all():
        raise typer.Exit(EXIT_NOT_CONVERGED)


@user_errors
def batch(
    source: Annotated[
        Path,
        typer.Argument(
            help="Long CSV or workbook (one row per study), a folder of CSVs, a TOML list of "
            "CSVs, or a RevMan 5 review (.rm5: one meta-analysis per outcome).",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Results table (CSV; Parquet beside it).")],
    group_column: Annotated[
        str, typer.Option(help="Column of the long CSV that names the meta-analysis.")
    ] = "meta_analysis",
    sheet: SheetOpt = None,
    prior_mu: PriorMuOpt = None,
    prior_tau: PriorTauOpt = None,
    prior_baseline: PriorBaselineOpt = None,
    common_effect: CommonOpt = False,
    engine: BatchEngineOpt = "nuts",
    measure: Annotated[
        str | None,
        typer.Option(
            help="Frequentist columns of two-arm counts on OR (the default), RR (log risk "
            "ratio) or RD (risk difference); the posterior columns stay on the log odds ratio.",
        ),
    ] = None,
    chains: ChainsOpt = 4,
    draws: DrawsOpt = 2000,
    tune: TuneOpt = 1000,
    seed: SeedOpt = 1,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit many meta-analyses, one result row each; rerun to resume an interrupted batch."""
    from bayesmeta.workflows.batch import (
        input_files,
        output_lock,
        read_jobs,
        run_batch,
        write_table,
    )

    _check_table_name(out)
    _check_scheduler(scheduler)
    options = _options(
        prior_mu,
        prior_tau,
        prior_baseline,
        common_effect,
        chains,
        draws,
        tune,
        seed,
        engine,
        measure,
    )
    jobs = read_jobs(source, group_column=group_column, sheet=sheet)
    progress = _prepare([out], force, input_files(source, jobs))
    with output_lock(out), _warnings_as_lines():
        _start(progress, force)
        table = run_batch(jobs, options, progress, workers=workers, scheduler=scheduler)
        for path in write_table(table, out, overwrite=force):
            typer.echo(f"wrote {path}")
        failed = table[table["status"] != "ok"]
        typer.echo(f"{len(table) - len(failed)} fitted, {len(failed)} failed")
        for row in failed.itertuples():
            typer.echo(f"failed: {row.name}: {for_this_command(row.reason)}", err=True)
        _all_failed(table, "meta-analysis")
        _some_failed(table)


@user_errors
def simulate(
    grid: Annotated[
        Path, typer.Argument(help="TOML grid of [[scenario]] tables.", show_default=False)
    ],
    out: Annotated[Path, typer.Option(help="Summary table (CSV) of bias, RMSE, coverage.")],
    prior_mu: PriorMuOpt = None,
    prior_tau: PriorTauOpt = None,
    prior_baseline: PriorBaselineOpt = None,
    chains: ChainsOpt = 4,
    draws: DrawsOpt = 2000,
    tune: TuneOpt = 1000,
    seed: SeedOpt = 1,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Simulate meta-analyses from stated truths and score the Bayesian and frequentist fits."""
    from rich.console import Console
    from rich.table import Table

    from bayesmeta.workflows.batch import output_lock, write_table
    from bayesmeta.workflows.simulate import read_scenarios, run_simulation

    _check_table_name(out)
    _check_scheduler(scheduler)
    options = _options(prior_mu, prior_tau, prior_baseline, False, chains, draws, tune, seed)
    replicates_out = out.with_suffix(".replicates.csv")
    scenarios = read_scenarios(grid)
    progress = _prepare([replicates_out, out], force, [grid])
    with output_lock(out), _warnings_as_lines():
        _start(progress, force)
        rows, summary = run_simulation(
            scenarios, options, progress, workers=workers, scheduler=scheduler
        )
        table = Table(*summary.columns, title=f"{grid.name}: mu over {len(rows)} replicates")
        for record in summary.itertuples(index=False):
            table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in record))
        Console().print(table)
        for path in write_table(rows, replicates_out, overwrite=force):
            typer.echo(f"wrote {path}")
        for path in write_table(summary, out, overwrite=force):
            typer.echo(f"wrote {path}")
        _all_failed(rows, "replicate")
