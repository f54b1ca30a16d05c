"""The analyses of a summary-of-findings table: one per outcome, from several data files, a
batch list or analysis specifications.

:func:`outcome_requests` turns the sources ``bayesmeta sof`` is given into one
:class:`~bayesmeta.workflows.request.AnalysisRequest` per outcome: a data file is one outcome
(named by its file stem) with the command's options; an analysis specification (``.toml``
with a ``[data]`` section) is one outcome with its own settings; a batch list (a ``.toml``
with ``files`` / ``[meta_analyses]``, a folder of CSVs, or a RevMan review) is one outcome per
meta-analysis. :func:`summary_of_findings` plans every outcome before fitting any (a mistake in
the last file stops the run before the first fit) and fits each exactly as ``bayesmeta fit``
does with the same options, so each row equals that outcome's ``fit --baseline-risk``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.io.spec import load_spec
from bayesmeta.io.table import TableFile
from bayesmeta.summaries import sof
from bayesmeta.summaries.absolute import STUDIES
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.request import AnalysisRequest, execute, plan


def _is_batch_list(path: Path) -> bool:
    from bayesmeta.workflows.batch import read_toml

    return bool({"files", "meta_analyses"} & set(read_toml(path)))


def outcome_requests(
    sources: Sequence[Path], template: AnalysisRequest
) -> list[tuple[str, AnalysisRequest]]:
    """One (outcome name, request) per outcome of ``sources`` (module docstring); data files
    and batch lists take ``template``'s options with their own data.

    Raises
    ------
    BayesmetaError
        A source that cannot be read, or two outcomes of the same name.
    """
    from bayesmeta.workflows.batch import read_jobs

    out: list[tuple[str, AnalysisRequest]] = []
    for source in sources:
        path = Path(source)
        suffix = path.suffix.lower()
        if suffix == ".toml" and not _is_batch_list(path):
            request = AnalysisRequest.from_spec(load_spec(path))
            if not request.baseline_risks:
                request = replace(
                    request, baseline_risks=template.baseline_risks, benefit=template.benefit
                )
            out.append((path.stem, request))
        elif path.is_dir() or suffix in (".toml", ".rm5"):
            for job in read_jobs(path):
                reading = dict(template.reading)
                if isinstance(job.source, TableFile):
                    reading["outcome"] = str(job.source.outcome)
                    data = job.source.path
                else:
                    data = job.source
                out.append((job.name, replace(template, data=data, reading=reading)))
        else:
            out.append((path.stem, replace(template, data=path)))
    names = [name for name, _ in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BayesmetaError(f"outcome name(s) {', '.join(twice)} appear twice; rename a file")
    return out


def summary_of_findings(
    outcomes: Sequence[tuple[str, AnalysisRequest]],
) -> tuple[sof.SummaryOfFindings, list[tuple[str, AnalysisResult]]]:
    """The table of the outcomes, and each outcome's analysis result (name, result).

    Raises
    ------
    BayesmetaError
        The first problem of any outcome (named), before any fitting.
    """
    planned = []
    for name, request in outcomes:
        if not request.baseline_risks:
            raise BayesmetaError(f"{name}: a summary of findings needs --baseline-risk")
        try:
            planned.append((name, plan(request)))
        except BayesmetaError as exc:
            raise BayesmetaError(f"{name}: {exc}") from None
    results = [(name, execute(p)) for name, p in planned]
    return table_of(results), results


def _shown(result: AnalysisResult, s: Summary) -> Summary:
    """The posterior of mu on the shown scale (the odds ratio): quantiles map, the mean and
    SD are not shown in the table (NaN)."""
    show = result.scale.show
    return Summary(
        mean=float("nan"),
        median=float(show(s.median)),
        sd=float("nan"),
        interval=(float(show(s.interval[0])), float(show(s.interval[1]))),
        level=s.level,
    )


def rows_of(result: AnalysisResult, outcome: str) -> tuple[sof.SofRow, ...]:
    """The summary-of-findings rows of one analysis: one per control-group risk it has.

    Raises
    ------
    OptionError
        The analysis has no absolute effects (no ``--baseline-risk``) or no pooled effect.
    """
    if result.absolute is None or result.posterior.mu is None:
        raise OptionError(
            f"{outcome}: a summary of findings needs absolute effects: give --baseline-risk"
        )
    n, sized = sof.participants(result.data)
    rows = []
    for e in result.absolute.effects:
        if e.of != "pooled":
            continue
        if result.measure == "RR":
            label, relative = "RR", e.risk_ratio
        else:
            label, relative = "OR", _shown(result, result.posterior.mu)
        rows.append(
            sof.SofRow(
                outcome=outcome,
                studies=result.data.k,
                participants=n,
                sized=sized,
                relative_label=label,
                relative=relative,
                effect=e,
                harmful=result.absolute.benefit is None or result.absolute.benefit.fewer,
            )
        )
    return tuple(rows)


def table_of(outcomes: Sequence[tuple[str, AnalysisResult]]) -> sof.SummaryOfFindings:
    """The table of several outcomes (name, analysis), in the order given.

    Raises
    ------
    OptionError
        An outcome without absolute effects; outcomes at different interval levels or with
        different benefit thresholds.
    """
    if not outcomes:
        raise OptionError("a summary of findings needs at least one outcome")
    levels = {r.level for _, r in outcomes}
    benefits = {r.absolute.benefit if r.absolute else None for _, r in outcomes}
    if len(levels) > 1 or len(benefits) > 1:
        raise OptionError(
            "the outcomes of one summary of findings need the same --ci-level and benefit threshold"
        )
    rows = tuple(row for name, result in outcomes for row in rows_of(result, name))
    level, benefit = levels.pop(), benefits.pop()
    pct = f"{level * 100:g}%"
    notes = [
        f"Posterior medians with {pct} equal-tailed credible intervals of each outcome's "
        "Bayesian meta-analysis on the log odds ratio scale; the risk with treatment and the "
        "difference per 1,000 are the posterior of expit(logit(control risk) + mu), mu the "
        "pooled log odds ratio.",
    ]
    if any(r.relative_label == "RR" for r in rows):
        notes.append("RR: the posterior risk ratio at the control risk of the row.")
    if any(r.effect.baseline_risk == STUDIES for r in rows):
        notes.append(
            "Control risk 'studies': the posterior predictive control risk of the model's "
            "study baselines (a study drawn at random from those analysed); its median is "
            "shown."
        )
    if benefit is not None:
        notes.append(
            f"P(benefit): the posterior probability of {benefit.describe()} with treatment."
        )
    notes.append(
        "NNTB / NNTH: the number needed to treat for one event fewer / more, 1,000 over the "
        "median difference per 1,000."
    )
    notes.append(sof.CERTAINTY_NOTE + ".")
    return sof.SummaryOfFindings(rows, level, benefit, tuple(notes))
