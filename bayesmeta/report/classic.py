"""The ``classic`` command's result: every frequentist estimator, plus sensitivity analyses.

No PyMC here: this path starts and finishes in well under a second.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.pooled import classic, cumulative, leave_one_out
from bayesmeta.io.counts import StudyData, TwoArmData
from bayesmeta.report.terminal import _interval, _num, frequentist_table, scale_transform


def classic_result(
    data: StudyData,
    *,
    methods: list[str] | None = None,
    leave_one_out_method: str | None = None,
    cumulative_by: str | None = None,
) -> dict[str, Any]:
    """JSON-ready frequentist analysis of ``data`` (blocks named as in ``docs/json.md``).

    ``leave_one_out_method`` (e.g. ``"DL"``) adds a leave-one-study-out block;
    ``cumulative_by`` (a covariate column, e.g. ``"year"``) adds a cumulative meta-analysis
    in that order, with the same tau^2 method (DL by default).
    """
    from bayesmeta import __version__

    measure = "OR" if isinstance(data, TwoArmData) else "PLO"
    es = effect_sizes(data, measure=measure)
    blocks = classic(data, methods=methods)
    out: dict[str, Any] = {
        "bayesmeta_version": __version__,
        "data": {
            "source": data.source,
            "design": data.design,
            "k": data.k,
            "k_zero_cell": int(data.zero_cell.sum()),
        },
        "effect_sizes": es.to_dict(),
        "frequentist": {
            k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in blocks.items()
        },
    }
    if isinstance(data, TwoArmData):
        out["data"]["k_double_zero"] = int(data.double_zero.sum())
    method = leave_one_out_method or "DL"
    if leave_one_out_method:
        fits = leave_one_out(es, method=method)
        out["leave_one_out"] = {
            "method": method,
            "omitted": {s: r.to_dict() for s, r in fits.items()},
        }
    if cumulative_by:
        if cumulative_by not in data.covariates.columns:
            raise BayesmetaError(
                f"--cumulative: no column {cumulative_by!r}; covariates: "
                f"{', '.join(map(str, data.covariates.columns)) or 'none'}"
            )
        keyed = dict(zip(data.study, data.covariates[cumulative_by].tolist(), strict=True))
        order = sorted(es.study, key=lambda s: keyed[s])  # stable: ties keep file order
        fits = cumulative(es, order, method=method)
        out["cumulative"] = {
            "by": cumulative_by,
            "method": method,
            "added": {s: r.to_dict() for s, r in fits.items()},
        }
    return out


def _scale(data: StudyData) -> str:
    return "log_odds_ratio" if isinstance(data, TwoArmData) else "logit_proportion"


def _sequence_table(title: str, rows: dict[str, dict[str, Any]], data: StudyData) -> Table:
    fn, label = scale_transform(_scale(data))
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col in ("Study", label, "95% CI", "tau^2", "I^2 %"):
        table.add_column(col, justify="left" if col == "Study" else "right")
    for study, r in rows.items():
        table.add_row(
            study,
            _num(fn(r["estimate"])),
            _interval(*(fn(v) for v in r["ci95"])),
            _num(r.get("tau2"), 3),
            _num(r.get("i2"), 1),
        )
    return table


def render_classic(result: dict[str, Any], data: StudyData, console: Console) -> None:
    """Print the frequentist tables, small-study tests and sensitivity analyses."""
    info, es = result["data"], result["effect_sizes"]
    console.print(f"bayesmeta classic: {info['k']} studies, {info['k_zero_cell']} with a zero cell")
    if es.get("corrected"):
        console.print(f"0.5 added to every cell of: {', '.join(es['corrected'])}")
    if es.get("dropped"):
        console.print(f"dropped from inverse-variance methods: {', '.join(es['dropped'])}")
    console.print()
    console.print(frequentist_table(result["frequentist"], _scale(data)))
    for test in ("egger", "harbord", "peters"):
        block = result["frequentist"].get(test)
        if not isinstance(block, dict):
            continue
        name = f"{test.capitalize()} test for small-study effects"
        if "z" in block:
            console.print(f"{name}: t = {block['z']:.3f}, p = {block['p']:.4f}")
        elif "skipped" in block:
            console.print(f"{name}: not estimable ({block['skipped']})")
    if "leave_one_out" in result:
        console.print()
        loo = result["leave_one_out"]
        console.print(
            _sequence_table(f"Leave one out ({loo['method']}), omitting", loo["omitted"], data)
        )
    if "cumulative" in result:
        console.print()
        cum = result["cumulative"]
        console.print(
            _sequence_table(
                f"Cumulative by {cum['by']} ({cum['method']}), adding", cum["added"], data
            )
        )
