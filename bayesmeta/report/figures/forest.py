"""Forest plot fit for a journal: study columns, weights, shrinkage, diamonds, heterogeneity.

One row per study with its counts (events/total per arm), its observed effect with the
confidence interval (a square whose area is proportional to the study's weight) and, just
below it, its shrunken (posterior) effect with the credible interval (a circle); then a
diamond spanning the credible interval of the Bayesian pooled effect, a bar for the
prediction interval of a new study, and a diamond for each frequentist pooled estimate shown;
then the heterogeneity: tau with its credible interval, and I^2, Q and its p-value. Weights are
``w_i = 1 / (v_i + tau^2)`` normalised to 100%, with the tau^2 of the frequentist model shown
(REML when it is shown, as metafor's ``weights()`` of ``rma``; see
:func:`bayesmeta.workflows.presentation.weight_method`: the numbers are computed there).
With subgroups, each subgroup has its own heading, studies, Bayesian pooled effect, prediction
interval and frequentist estimate; the weights stay those of the fit to all studies.

On a measure other than the model's (``--measure RR`` or ``RD`` of two-arm counts) the axis is
that measure's: the studies' own estimates are escalc's of it, the diamonds and weights the
frequentist models' on it, and the Bayesian rows the posterior pooled risk ratio or risk
difference (and a new study's) at each control-group risk of the analysis, labelled with it; the
model's shrunken study effects stay log odds ratios and are not drawn. Without control risks the
Bayesian rows are left out with a note (:class:`~bayesmeta.workflows.presentation.ForestNumbers`).

Layout follows R meta's ``forest()`` and RevMan: text columns left and right of the plot,
"Favours treatment" and "Favours control" under the axis (the effect is treatment vs control
and lower means fewer events on treatment; pass other words for other outcomes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayesmeta.effects import ObservedEffect
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.methods import METHODS
from bayesmeta.frequentist.results import PooledEstimate
from bayesmeta.model.likelihoods import native
from bayesmeta.model.scales import Scale, scale_of_measure
from bayesmeta.report.figures import FAVOURS, literal_text
from bayesmeta.report.figures.axes import FONT_SIZE, EffectAxis, add_favours, effect_axis
from bayesmeta.report.format import p_value, percent
from bayesmeta.summaries.absolute import STUDIES
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.presentation import ForestNumbers, PooledOnMeasure

ROW = 0.25  # inches per row
# The most rows drawn: 75 inches, about 27 megapixels at 200 dpi (2,000 studies asked for 240).
MAX_ROWS = 300
PANEL = 3.6  # width of the plot panel, inches
GAP = 0.17  # between columns, inches
MARGIN = 0.15
HEADER = 0.42  # two header lines
FOOTER = 1.05  # ticks, favours labels, axis title and legend
OBSERVED, SHRUNKEN = "black", "#2166ac"
BAYES, PREDICTION, FREQUENTIST = "#b2182b", "#ef8a62", "#bdbdbd"
SQUARE_AREA = (10.0, 120.0)  # marker areas (pt^2) of the lightest and heaviest study


@dataclass(frozen=True)
class Interval:
    """A point estimate with its interval, on the shown scale."""

    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Column:
    """A text column: its key, header (may have two lines), side of the plot and alignment."""

    key: str
    header: str
    side: str
    align: str


@dataclass(frozen=True)
class Row:
    """One row of the plot: ``kind`` is heading, study, bayesian, prediction, frequentist or
    note; ``cells`` holds the text of each column by key; ``rule_above`` draws a thin line
    above it (between the blocks of the table)."""

    kind: str
    label: str
    cells: dict[str, str] = field(default_factory=dict)
    observed: Interval | None = None
    shrunken: Interval | None = None
    weight: float | None = None
    method: str | None = None
    rule_above: bool = False


@dataclass(frozen=True)
class ForestLayout:
    """Everything the forest plot draws, in order: columns, rows and the effect axis."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    axis: EffectAxis
    weight_method: str | None
    reference: float | None


def value_text(x: float) -> str:
    """An effect for a table cell: 2 decimals, 2 significant digits below 0.1, fewer above 10."""
    if not math.isfinite(x):
        return "-"
    a = abs(x)
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 0.1 or a == 0 or abs(float(f"{x:.2g}")) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.2g}"


def interval_text(i: Interval) -> str:
    """``0.47 [0.32, 0.69]``."""
    return f"{value_text(i.estimate)} [{value_text(i.lower)}, {value_text(i.upper)}]"


def _shown(result: AnalysisResult, s: Summary) -> Interval:
    show = result.scale.show
    return Interval(float(show(s.median)), float(show(s.interval[0])), float(show(s.interval[1])))


def _scale(result: AnalysisResult, numbers: ForestNumbers) -> Scale:
    """The scale of the axis: the measure of ``numbers`` when it has one, else the model's."""
    return scale_of_measure(numbers.measure) if numbers.measure else result.scale


def _columns(result: AnalysisResult, numbers: ForestNumbers) -> tuple[Column, ...]:
    weights_by = numbers.weights_by
    label, level = _scale(result, numbers).label, percent(result.level)
    posterior = "Bayesian" if numbers.measure else "Shrunken"
    cols = [Column("study", "Study", "left", "left")]
    cols += [
        Column(key, title, "left", "right")
        for key, title in native(result.data).forest_columns(result.data)
    ]
    cols.append(Column("observed", f"Observed {label}\n[{level} CI]", "right", "right"))
    if not numbers.measure or numbers.bayesian:  # no posterior column without its rows
        cols.append(Column("shrunken", f"{posterior} {label}\n[{level} CrI]", "right", "right"))
    if weights_by is not None:
        short = METHODS[weights_by].label.replace(" (common)", "")
        cols.append(Column("weight", f"Weight\n({short})", "right", "right"))
    return tuple(cols)


def _counts(data: object, index: np.ndarray | slice) -> dict[str, str]:
    """The data cells of the studies at ``index`` (summed over several), by column key."""
    family = native(data)
    keys = [key for key, _ in family.forest_columns(data)]
    return dict(zip(keys, family.forest_cells(data, index), strict=True))


def _observed(result: AnalysisResult, numbers: ForestNumbers) -> dict[str, ObservedEffect]:
    """Each study's own estimate on the axis: escalc's of the measure, or the model's."""
    return numbers.observed if numbers.measure else result.observed


def _study_rows(
    result: AnalysisResult, indices: Sequence[int], numbers: ForestNumbers
) -> list[Row]:
    rows = []
    observed_by = _observed(result, numbers)
    for i in indices:
        name = result.data.study[i]
        obs = observed_by.get(name)
        sh = None if numbers.measure else result.posterior.theta.get(name)
        cells = {"study": str(name), **_counts(result.data, np.array([i]))}
        observed = shrunken = None
        if obs is not None:
            show = _scale(result, numbers).show
            observed = Interval(*(float(show(v)) for v in (obs.estimate, *obs.interval)))
            cells["observed"] = interval_text(observed) + ("*" if obs.corrected else "")
        else:
            cells["observed"] = "not estimable"
        if sh is not None:
            shrunken = _shown(result, sh)
            cells["shrunken"] = interval_text(shrunken)
        elif not numbers.measure:
            cells["shrunken"] = "not in model"
        weight = numbers.weights.get(name)
        if weight is not None:
            cells["weight"] = f"{weight:.1f}%"
        rows.append(Row("study", str(name), cells, observed, shrunken, weight))
    return rows


def _bayesian_rows(
    result: AnalysisResult, mu: Summary, new: Summary, counts: dict[str, str], suffix: str = ""
) -> list[Row]:
    kind = "common effect" if result.common_effect else "random effects"
    where = " at covariate means" if result.posterior.coefficients else ""
    pooled, predicted = _shown(result, mu), _shown(result, new)
    label = f"Bayesian {kind}{where}{suffix}"
    return [
        Row("bayesian", label, {"study": label, **counts, "shrunken": interval_text(pooled)},
            shrunken=pooled),
        Row("prediction", "Prediction interval (new study)",
            {"study": "Prediction interval (new study)", "shrunken": interval_text(predicted)},
            shrunken=predicted),
    ]  # fmt: skip


def _measure_rows(
    result: AnalysisResult, numbers: ForestNumbers, counts: dict[str, str]
) -> list[Row]:
    """The Bayesian rows on the measure of ``numbers``: pooled and new-study effects at each
    control-group risk, or the note saying why there are none."""
    if not numbers.bayesian:
        note = numbers.bayesian_note or ""
        return [Row("note", note, {"study": note})]
    show = _scale(result, numbers).show
    kind = "common effect" if result.common_effect else "random effects"
    rows = []
    for b in numbers.bayesian:
        pooled, predicted = (
            Interval(*(float(show(v)) for v in x)) for x in (b.pooled, b.new_study)
        )
        label = f"Bayesian {kind}, {_at(b)}"
        rows += [
            Row("bayesian", label, {"study": label, **counts, "shrunken": interval_text(pooled)},
                shrunken=pooled),
            Row("prediction", "Prediction interval (new study)",
                {"study": "Prediction interval (new study)",
                 "shrunken": interval_text(predicted)}, shrunken=predicted),
        ]  # fmt: skip
    return rows


def _at(b: PooledOnMeasure) -> str:
    """``at control risk 0.05``, ``at the studies' control risks``."""
    return "at the studies' control risks" if b.baseline == STUDIES else (
        f"at control risk {b.baseline}")  # fmt: skip


def _frequentist_row(
    result: AnalysisResult,
    numbers: ForestNumbers,
    name: str,
    estimate: PooledEstimate,
    weight: bool,
) -> Row:
    show = _scale(result, numbers).show
    value = Interval(*(float(show(v)) for v in (estimate.estimate, *estimate.ci)))
    label = METHODS[name].label
    cells = {"study": label, "observed": interval_text(value)}
    if weight:
        cells["weight"] = "100%"
    return Row("frequentist", label, cells, observed=value, method=name)


def _heterogeneity(
    result: AnalysisResult,
    tau: Summary | None,
    estimate: PooledEstimate | None,
    method: str | None,
    on_measure: bool = False,
) -> list[Row]:
    """Two note lines: the posterior of tau, then I^2, Q, df and p of the weighting model."""
    level = percent(result.level)
    if result.common_effect:
        bayes = "Heterogeneity: τ = 0 (common-effect model)"
    elif tau is not None:
        lo, hi = tau.interval
        bayes = f"Heterogeneity: τ = {tau.median:.2f} [{lo:.2f}, {hi:.2f}] (median, {level} CrI)"
        if on_measure:
            bayes += f" on the model's {result.scale.name.replace('_', ' ')} scale"
    else:
        bayes = "Heterogeneity: τ per subgroup (above)"
    rows = [Row("note", bayes, {"study": bayes})]
    if estimate is not None and estimate.q is not None:
        df = estimate.k - 1
        p = p_value(estimate.q_p)
        p = p.replace("<", "< ") if p.startswith("<") else f"= {p}"
        short = METHODS[method].label if method else ""
        text = f"I² = {estimate.i2:.1f}%, Q = {estimate.q:.2f}, df = {df}, p {p} ({short})"
        rows.append(Row("note", text, {"study": text}))
    return rows


def forest_layout(result: AnalysisResult, numbers: ForestNumbers) -> ForestLayout:
    """The rows and columns of the forest plot of ``result`` (see the module docstring),
    with the frequentist diamonds, weights and subgroup estimates of ``numbers``
    (:func:`bayesmeta.workflows.presentation.forest_numbers`)."""
    methods = numbers.methods
    shown = [m for m in methods if isinstance(result.frequentist.get(m), PooledEstimate)]
    weights_by = numbers.weights_by
    post, data = result.posterior, result.data
    rows: list[Row] = []
    everything = np.arange(data.k)
    if post.subgroups:
        rows += _subgroup_rows(result, numbers)
    else:
        rows += _study_rows(result, everything, numbers)
        if numbers.measure:
            rows += _measure_rows(result, numbers, _counts(data, everything))
        else:
            rows += _bayesian_rows(result, post.mu, post.theta_new, _counts(data, everything))
    suffix = " (all studies)" if post.subgroups else ""
    for i, name in enumerate(shown):
        row = _frequentist_row(result, numbers, name, result.frequentist[name], name == weights_by)
        label = row.label + suffix
        first_overall = bool(post.subgroups) and i == 0
        rows.append(replace(row, label=label, cells={**row.cells, "study": label},
                            rule_above=first_overall))  # fmt: skip
    estimate = result.frequentist.get(weights_by) if weights_by else None
    rows += _heterogeneity(result, post.tau, estimate, weights_by, bool(numbers.measure))
    rows = [
        replace(row, rule_above=True) if i > 0 and _new_block(rows[i - 1], row) else row
        for i, row in enumerate(rows)
    ]
    if any(o.corrected for o in _observed(result, numbers).values()):
        note = native(data).corrected_note
        rows.append(Row("note", note, {"study": note}))
    scale = _scale(result, numbers)
    axis = _axis(result, scale, rows)
    reference = _reference(result, numbers, scale)
    return ForestLayout(_columns(result, numbers), tuple(rows), axis, weights_by, reference)


def _reference(result: AnalysisResult, numbers: ForestNumbers, scale: Scale) -> float | None:
    """The dashed line at the Bayesian pooled median (the first control risk's on a measure;
    none with subgroups or without Bayesian rows)."""
    if result.posterior.subgroups:
        return None
    if numbers.measure:
        return float(scale.show(numbers.bayesian[0].pooled[0])) if numbers.bayesian else None
    return float(scale.show(result.posterior.mu.median))


def _new_block(before: Row, row: Row) -> bool:
    """A rule above each subgroup heading and after the studies (of each subgroup)."""
    return row.kind == "heading" or (before.kind == "study" and row.kind != "study")


def _subgroup_rows(result: AnalysisResult, numbers: ForestNumbers) -> list[Row]:
    mods, post = result.moderators, result.posterior
    rows: list[Row] = []
    for g, level in enumerate(mods.levels):
        members = np.flatnonzero(mods.group == g)
        heading = f"{mods.subgroup} = {level}"
        rows.append(Row("heading", heading, {"study": heading}))
        rows += _study_rows(result, members, numbers)
        group = post.subgroups[level]
        if not numbers.measure:
            rows += _bayesian_rows(
                result, group.mu, group.theta_new, _counts(result.data, members), f", {level}"
            )
        estimate = numbers.subgroups.get(level)
        if numbers.weights_by is not None and estimate is not None:
            row = _frequentist_row(result, numbers, numbers.weights_by, estimate, False)
            label = f"{row.label}, {level}"
            rows.append(replace(row, label=label, cells={**row.cells, "study": label}))
        if group.tau is not None:
            lo, hi = group.tau.interval
            text = f"τ = {group.tau.median:.2f} [{lo:.2f}, {hi:.2f}]"
            rows.append(Row("note", text, {"study": text}))
    if numbers.measure and not numbers.bayesian:
        note = numbers.bayesian_note or ""
        rows.append(Row("note", note, {"study": note}))
    return rows


def _axis(result: AnalysisResult, scale: Scale, rows: Sequence[Row]) -> EffectAxis:
    """Pooled and shrunken intervals and observed estimates must fit; observed confidence
    limits may widen the axis up to 1/100 ... 100."""
    must, wide = [], []
    for row in rows:
        if row.shrunken is not None:
            must += [row.shrunken.estimate, row.shrunken.lower, row.shrunken.upper]
        if row.observed is not None:
            must.append(row.observed.estimate)
            target = wide if row.kind == "study" else must
            target += [row.observed.lower, row.observed.upper]
    return effect_axis(scale, must, result.data, wide=wide)


@cache
def _renderer() -> object:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(10, 10, 72)  # 72 dpi: one pixel is one point


def text_width(text: str, *, bold: bool = False, size: float = FONT_SIZE) -> float:
    """Width of ``text`` (its longest line) in inches, in the plot's font."""
    from matplotlib.font_manager import FontProperties

    font = FontProperties(size=size, weight="bold" if bold else "normal")
    widths = [
        _renderer().get_text_width_height_descent(line, font, ismath=False)[0]
        for line in text.split("\n")
    ]
    return max(widths) / 72


def forest(
    result: AnalysisResult,
    numbers: ForestNumbers,
    *,
    favours: tuple[str, str] = FAVOURS,
    title: str | None = None,
) -> Figure:
    """Forest plot of ``result`` (module docstring); returns the figure, writes nothing.

    Parameters
    ----------
    result
        An analysis (:func:`bayesmeta.workflows.analyze.analyze`).
    numbers
        Its frequentist diamonds, weights and subgroup estimates
        (:func:`bayesmeta.workflows.presentation.forest_numbers`).
    favours
        Labels under the axis, left and right of the line of no effect.
    title
        Optional title above the columns.
    """
    return draw(forest_layout(result, numbers), favours=favours, title=title)


def check_rows(rows: int) -> None:
    """Refuse a forest plot of more than :data:`MAX_ROWS` rows, before anything is drawn.

    Raises
    ------
    BayesmetaError
        Naming the rows, the size the image would have and what to do instead.
    """
    if rows > MAX_ROWS:
        inches = HEADER + rows * ROW + FOOTER
        raise BayesmetaError(
            f"a forest plot of {rows:,} rows would be {inches:,.0f} inches tall (at most "
            f"{MAX_ROWS} rows are drawn); plot the studies in parts, e.g. one file per subgroup"
        )


@literal_text
def draw(
    layout: ForestLayout,
    *,
    favours: tuple[str, str] = FAVOURS,
    title: str | None = None,
) -> Figure:
    """Draw a :class:`ForestLayout`.

    Raises
    ------
    BayesmetaError
        More than :data:`MAX_ROWS` rows (studies, pooled estimates, headings).
    """
    from matplotlib.figure import Figure

    check_rows(len(layout.rows))

    widths = _column_widths(layout)
    notes = max((text_width(r.label) for r in layout.rows if r.kind == "note"), default=0.0)
    left = [c for c in layout.columns if c.side == "left"]
    right = [c for c in layout.columns if c.side == "right"]
    left_width = sum(widths[c.key] + GAP for c in left)
    if notes > left_width - GAP:  # widen the study column so the notes stay left of the panel
        widths["study"] += notes - (left_width - GAP)
        left_width = notes + GAP
    width = MARGIN + left_width + PANEL + GAP + sum(widths[c.key] + GAP for c in right) + MARGIN
    n = len(layout.rows)
    top = HEADER + (0.3 if title else 0.0)
    height = top + n * ROW + FOOTER
    fig = Figure(figsize=(width, height))
    panel_left = MARGIN + left_width
    ax = fig.add_axes(
        (panel_left / width, FOOTER / height, PANEL / width, n * ROW / height), gid="forest-panel"
    )
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks([])
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)
    layout.axis.apply(ax)
    if layout.reference is not None:
        ax.axvline(layout.reference, color=BAYES, lw=0.7, ls=(0, (2, 2)), zorder=1)
    _draw_rows(ax, layout)
    _draw_text(fig, layout, widths, width, height, panel_left)
    favours_axis(ax, layout.axis, favours)
    _legend(fig, layout)
    if title:
        fig.text(MARGIN / width, 1 - 0.12 / height, title, fontsize=FONT_SIZE + 2, va="top",
                 weight="bold")  # fmt: skip
    return fig


def favours_axis(ax: Axes, axis: EffectAxis, labels: tuple[str, str]) -> None:
    """The favours labels under the axis (none on a proportion axis)."""
    add_favours(ax, axis, *labels)
    ax.xaxis.labelpad = 20 if axis.null is not None else 4


def _column_widths(layout: ForestLayout) -> dict[str, float]:
    widths = {}
    for col in layout.columns:
        texts = [text_width(col.header, bold=True)]
        texts += [
            text_width(r.cells[col.key], bold=r.kind == "heading")
            for r in layout.rows
            if col.key in r.cells and r.kind != "note"
        ]
        widths[col.key] = max(texts)
    return widths


def _draw_text(
    fig: Figure,
    layout: ForestLayout,
    widths: dict[str, float],
    width: float,
    height: float,
    panel_left: float,
) -> None:
    """Column headers, cells and rules, placed in inches and converted to figure fractions."""
    from matplotlib.lines import Line2D

    n = len(layout.rows)
    x = MARGIN
    anchors: dict[str, float] = {}
    for col in layout.columns:
        if col.side == "right" and x < panel_left + PANEL:
            x = panel_left + PANEL + GAP
        anchors[col.key] = x if col.align == "left" else x + widths[col.key]
        x += widths[col.key] + GAP

    def fy(y_row: float) -> float:  # row coordinate -> figure fraction
        return (FOOTER + (n - 0.5 - y_row) * ROW) / height

    header_y = fy(-0.5) + 0.06 / height
    for col in layout.columns:
        fig.text(anchors[col.key] / width, header_y, col.header, ha=col.align, va="bottom",
                 fontsize=FONT_SIZE, weight="bold", gid="header", linespacing=1.15)  # fmt: skip
    for i, row in enumerate(layout.rows):
        for col in layout.columns:
            text = row.cells.get(col.key)
            if text is None or (row.kind == "note" and col.key != "study"):
                continue
            bold = row.kind in ("heading", "bayesian") and col.key == "study"
            fig.text(
                anchors[col.key] / width,
                fy(i),
                text,
                ha=col.align,
                va="center",
                fontsize=FONT_SIZE,
                weight="bold" if bold else "normal",
                style="italic" if row.kind == "note" else "normal",
                gid=f"cell:{col.key}" if row.kind != "note" else "note",
            )
    rule = {"color": "0.25", "lw": 0.8, "transform": fig.transFigure}
    span = (MARGIN / width, 1 - MARGIN / width)
    fig.add_artist(Line2D(span, (header_y - 0.03 / height,) * 2, gid="rule", **rule))
    for i, row in enumerate(layout.rows):
        if row.rule_above:
            y = fy(i - 0.5)
            fig.add_artist(Line2D(span, (y, y), gid="rule", **{**rule, "lw": 0.5}))


def _draw_rows(ax: Axes, layout: ForestLayout) -> None:
    axis = layout.axis
    weights = [r.weight for r in layout.rows if r.weight is not None]
    heaviest = max(weights, default=1.0)
    squares = []
    for y, row in enumerate(layout.rows):
        if row.kind == "study":
            if row.observed is not None:
                _whisker(ax, axis, row.observed, y - 0.17, OBSERVED, 1.0)
                small, big = SQUARE_AREA
                area = small + (big - small) * (row.weight or 0.0) / heaviest
                squares.append((axis.clip(row.observed.estimate), y - 0.17, area))
            if row.shrunken is not None:
                _whisker(ax, axis, row.shrunken, y + 0.17, SHRUNKEN, 0.9)
                ax.scatter([axis.clip(row.shrunken.estimate)], [y + 0.17], s=14, marker="o",
                           color=SHRUNKEN, zorder=3, gid="shrunken", linewidths=0)  # fmt: skip
        elif row.kind == "bayesian":
            _diamond(ax, axis, row.shrunken, y, BAYES, "diamond:bayesian")
        elif row.kind == "prediction":
            _prediction(ax, axis, row.shrunken, y)
        elif row.kind == "frequentist":
            _diamond(ax, axis, row.observed, y, FREQUENTIST, f"diamond:{row.method}")
    if squares:
        xs, ys, areas = zip(*squares, strict=True)
        ax.scatter(xs, ys, s=areas, marker="s", color=OBSERVED, zorder=3, gid="observed",
                   linewidths=0)  # fmt: skip


def _whisker(ax: Axes, axis: EffectAxis, i: Interval, y: float, colour: str, lw: float) -> None:
    """An interval line; an end beyond the axis limits gets an arrow head at the limit."""
    lo, hi = axis.clip(i.lower), axis.clip(i.upper)
    ax.plot([lo, hi], [y, y], color=colour, lw=lw, zorder=2, solid_capstyle="butt")
    for value, clipped, marker in ((i.lower, lo, "<"), (i.upper, hi, ">")):
        if value != clipped:
            ax.plot([clipped], [y], marker=marker, color=colour, ms=4, zorder=2, gid="clipped")


def _diamond(ax: Axes, axis: EffectAxis, i: Interval, y: float, colour: str, gid: str) -> None:
    from matplotlib.patches import Polygon

    lo, mid, hi = axis.clip(i.lower), axis.clip(i.estimate), axis.clip(i.upper)
    points = [(lo, y), (mid, y - 0.34), (hi, y), (mid, y + 0.34)]
    ax.add_patch(Polygon(points, closed=True, facecolor=colour, edgecolor="black", lw=0.6,
                         zorder=3, gid=gid))  # fmt: skip


def _prediction(ax: Axes, axis: EffectAxis, i: Interval, y: float) -> None:
    from matplotlib.patches import Rectangle

    lo, hi = axis.clip(i.lower), axis.clip(i.upper)
    ax.add_patch(Rectangle((lo, y - 0.11), hi - lo, 0.22, facecolor=PREDICTION,
                           edgecolor="black", lw=0.5, zorder=3, gid="prediction"))  # fmt: skip


def _legend(fig: Figure, layout: ForestLayout) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    kinds = {r.kind for r in layout.rows}
    handles = [
        Line2D([], [], marker="s", color=OBSERVED, ls="-", lw=1, ms=6,
               label="Observed (area ∝ weight)" if layout.weight_method else "Observed"),
    ]  # fmt: skip
    if any(r.kind == "study" and r.shrunken is not None for r in layout.rows):
        handles.append(Line2D([], [], marker="o", color=SHRUNKEN, ls="-", lw=1, ms=4,
                              label="Shrunken (posterior)"))  # fmt: skip
    if "bayesian" in kinds:
        handles.append(Patch(facecolor=BAYES, edgecolor="black", lw=0.6, label="Bayesian pooled"))
    if "prediction" in kinds:
        handles.append(Patch(facecolor=PREDICTION, edgecolor="black", lw=0.5,
                             label="Prediction interval"))  # fmt: skip
    if "frequentist" in kinds:
        handles.append(
            Patch(facecolor=FREQUENTIST, edgecolor="black", lw=0.6, label="Frequentist pooled")
        )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=FONT_SIZE, handlelength=1.6, columnspacing=1.2,
               bbox_to_anchor=(0.5, 0.0))  # fmt: skip
