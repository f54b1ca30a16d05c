"""Read and validate reported effect sizes (estimate with SE, variance or confidence interval).

For studies that report a summary instead of counts: ``study,log_or,se``;
``study,or,ci_lower,ci_upper``; ``study,hr,ci_lower,ci_upper``; a generic
``study,estimate,se`` (log HR, SMD, mean difference...); or metafor's ``yi,vi``. The result,
:class:`ReportedEffects`, has the ``study``, ``yi``, ``vi`` and ``measure`` of
:class:`bayesmeta.effects.EffectSizes`, so the normal-normal model takes either.

Conventions:

- Ratios (OR, RR, HR) are analysed on the log scale: ``yi = log(ratio)``. A confidence interval
  given with a ratio is on the ratio scale; a standard error is always that of ``yi`` (the log
  ratio), as trials report it.
- From a ``level`` confidence interval, ``se = (ub - lb) / (2 z)`` with ``z`` the
  ``(1 + level) / 2`` normal quantile, after taking logs of ratio bounds (Cochrane Handbook
  v6.4, section 6.3.1 and 6.3.2).
- When several are given, the SE is used first, then the variance, then the interval; an
  interval is still checked to contain the estimate, a log-scale estimate beside ratio-scale
  limits is refused, and an SE or variance that disagrees with the interval beyond the
  rounding of the numbers as written gets a warning naming the rows.
- Numbers are ASCII decimals (``-0.25``, ``1e-3``); ``1_0`` and non-ASCII digits are errors
  (:func:`bayesmeta.io.cells.parse_number`). Repeated study labels are kept, renamed
  ``"label [2]"``..., with a warning (:mod:`bayesmeta.io.multiarm`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from bayesmeta.errors import BayesmetaError, DataError
from bayesmeta.io import multiarm
from bayesmeta.io.cells import CellError, parse_number, plain, show, trim
from bayesmeta.io.counts import SYNONYMS as DATA_SYNONYMS
from bayesmeta.io.counts import _normalise, _numeric_if_possible, read_with_roles, study_labels
from bayesmeta.io.table import match_roles, names

RATIO_MEASURES = ("OR", "RR", "HR", "ROM")  # ROM: ratio of means (bayesmeta.io.continuous)
# Smallest variance pooled, absolute (1 / v^3 stays finite in REML's scoring) and relative
# to the largest (near 1e-32 the other studies are lost to rounding in Q).
MIN_VARIANCE, MIN_VARIANCE_RATIO = 1e-100, 1e-24
# Largest estimate (model scale) and variance pooled: squares and weighted sums stay finite.
MAX_ESTIMATE, MAX_VARIANCE = 1e50, 1e100
_DIGITS = re.compile(r"[+-]?[0-9]*(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?", re.ASCII)

# normalised column name -> (measure, given on the ratio scale)
ESTIMATE_COLUMNS: dict[str, tuple[str, bool]] = {
    **dict.fromkeys(("log_or", "logor", "ln_or", "lnor", "log_odds_ratio"), ("OR", False)),
    **dict.fromkeys(("log_rr", "logrr", "ln_rr", "lnrr", "log_risk_ratio"), ("RR", False)),
    **dict.fromkeys(("log_hr", "loghr", "ln_hr", "lnhr", "log_hazard_ratio"), ("HR", False)),
    **dict.fromkeys(("or", "odds_ratio"), ("OR", True)),
    **dict.fromkeys(("rr", "risk_ratio", "relative_risk"), ("RR", True)),
    **dict.fromkeys(("hr", "hazard_ratio"), ("HR", True)),
    **dict.fromkeys(("smd", "hedges_g", "cohens_d"), ("SMD", False)),
    **dict.fromkeys(("md", "mean_difference"), ("MD", False)),
    **dict.fromkeys(("rd", "risk_difference"), ("RD", False)),
    **dict.fromkeys(("estimate", "effect", "yi", "te", "est"), ("generic", False)),
}

# role -> accepted normalised spellings (metafor yi/vi/sei; meta TE/seTE/lower/upper; RevMan)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "study": DATA_SYNONYMS["study"],
    "estimate": tuple(ESTIMATE_COLUMNS),
    "se": (
        "se",
        "sei",
        "sete",
        "se_te",
        "std_err",
        "stderr",
        "standard_error",
        "se_log_or",
        "se_logor",
        "se_log_rr",
        "se_log_hr",
        "se_loghr",
        "se_yi",
    ),
    "vi": ("vi", "var", "variance", "var_yi"),
    "ci_lower": ("ci_lower", "lower", "lower_ci", "ci_lb", "lb", "lcl", "ci_low", "lci", "ll"),
    "ci_upper": ("ci_upper", "upper", "upper_ci", "ci_ub", "ub", "ucl", "ci_high", "uci", "ul"),
    # Sample sizes reported beside an effect (study,yi,vi,n; smd,se,n1,n2; hr,...,Ne,Nc):
    # recognised so that they neither make the table look like counts nor need a mapping,
    # and kept with the covariates as information; they do not enter the estimate.
    "total": DATA_SYNONYMS["total"],
    "treatment_total": (*DATA_SYNONYMS["treatment_total"], "ne", "n_t", "n_treatment"),
    "control_total": (*DATA_SYNONYMS["control_total"], "n_control"),
}
SAMPLE_SIZE_ROLES = ("total", "treatment_total", "control_total")


@dataclass(frozen=True)
class ArmStatistics:
    """Each study's mean, SD and size in the treatment (1) and control (2) arm, from which
    a continuous outcome's ``yi, vi`` were computed (:mod:`bayesmeta.io.continuous`)."""

    m1: np.ndarray
    sd1: np.ndarray
    n1: np.ndarray
    m2: np.ndarray
    sd2: np.ndarray
    n2: np.ndarray


@dataclass(frozen=True)
class ReportedEffects:
    """Per-study effects ``yi`` (log scale for ratios) and sampling variances ``vi``.

    ``warnings`` holds one-line notes on what the reader accepted (repeated study labels);
    ``origin`` says how ``yi, vi`` were computed when not reported as such, and ``arms``
    holds the arms' statistics they were computed from (continuous outcomes:
    :mod:`bayesmeta.io.continuous`).
    """

    study: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    measure: str
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)
    origin: str = field(default="", compare=False)
    arms: ArmStatistics | None = field(default=None, repr=False, compare=False)

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    @property
    def ratio(self) -> bool:
        """``yi`` is a log ratio (OR, RR, HR, ROM): report ``exp`` of summaries."""
        return self.measure in RATIO_MEASURES


def _find_columns(frame: pd.DataFrame, mapping: Mapping[str, str], source: str) -> dict[str, str]:
    """Each role's column: the user's mapping first, then the accepted spelling (one only)."""
    return match_roles(frame, tuple(SYNONYMS), SYNONYMS, mapping, source)


def _check_roles(found: Mapping[str, str], frame: pd.DataFrame, source: str) -> None:
    """An estimate column and its uncertainty (se, vi, or both CI limits) must be present."""
    columns = names(frame.columns)
    if "estimate" not in found:
        raise DataError(
            f"no effect estimate column; found {columns}; expected one of log_or, or, "
            "log_hr, hr, log_rr, rr, smd, md, estimate, yi (map yours with --columns "
            "estimate=NAME)",
            source=source,
        )
    if "se" in found or "vi" in found or ("ci_lower" in found and "ci_upper" in found):
        return
    raise DataError(
        f"missing column(s) for the uncertainty of {found['estimate']!r}: se, vi, or both "
        f"ci_lower and ci_upper; found {columns}",
        source=source,
    )


def _numbers(
    frame: pd.DataFrame, column: str, studies: list[str], source: str, *, positive: str = ""
) -> np.ndarray:
    """Parse a column of finite numbers; ``positive`` names why it must be > 0 (if it must)."""
    out = np.empty(len(frame))
    for i, raw in enumerate(frame[column].tolist()):
        where = {"source": source, "row": i + 1, "study": studies[i], "column": column}
        try:
            value = parse_number(raw, plain(column))
        except CellError as exc:
            raise DataError(str(exc), **where) from None
        if positive and value <= 0:
            raise DataError(
                f"{plain(column)} must be positive ({positive}), got {value:g}", **where
            )
        out[i] = value
    return out


def _half_unit(raw: object) -> float:
    """Half a unit in the last digit of a number as written: the most its rounding moved it."""
    text = trim(raw) if isinstance(raw, str) else repr(float(raw))  # type: ignore[arg-type]
    match = _DIGITS.fullmatch(text)
    if match is None:
        return 0.0
    decimals = len(match.group(1) or "") - int(match.group(2) or 0)
    return 0.5 * 10.0 ** (-decimals)


def _rounding(frame: pd.DataFrame, column: str, values: np.ndarray, log: bool) -> np.ndarray:
    """How far each value of ``column`` may be from the exact one, on the analysis scale
    (``log``: the logarithm of the value written, to first order)."""
    half = np.array([_half_unit(raw) for raw in frame[column].tolist()])
    return half / values if log else half


def _ci_se(
    frame: pd.DataFrame,
    found: Mapping[str, str],
    yi: np.ndarray,
    ratio: bool,
    z: float,
    studies: list[str],
    source: str,
) -> np.ndarray:
    """SE from the interval (logs of ratio bounds), after checking its order and content.

    A log-scale estimate beside ratio-scale limits (``log_or = -0.51``, CI ``0.4, 0.9``) is
    refused: the limits are not centred on the estimate, but their logarithms are.
    """
    why = "it is a ratio" if ratio else ""
    cols = (found["estimate"], found["ci_lower"], found["ci_upper"])
    bounds = [_numbers(frame, col, studies, source, positive=why) for col in cols[1:]]
    estimate, lower, upper = yi, *(np.log(b) if ratio else b for b in bounds)
    written = np.exp(yi) if ratio else yi
    slack = _rounding(frame, cols[0], written, ratio) + 0.5 * (
        _rounding(frame, cols[1], bounds[0], ratio) + _rounding(frame, cols[2], bounds[1], ratio)
    )
    if not ratio:  # the same slack if the limits were ratios, to recognise them
        with np.errstate(divide="ignore", invalid="ignore"):
            log_slack = _rounding(frame, cols[0], yi, False) + 0.5 * (
                _rounding(frame, cols[1], bounds[0], True)
                + _rounding(frame, cols[2], bounds[1], True)
            )
            log_centre = np.log(np.abs(bounds[0] * bounds[1])) / 2
    for i in range(len(estimate)):
        where = {"source": source, "row": i + 1, "study": studies[i]}
        if lower[i] >= upper[i]:
            raise DataError(
                f"the lower CI limit ({lower[i]:g}) must be below the upper ({upper[i]:g})",
                column=cols[1],
                **where,
            )
        outside = not lower[i] <= estimate[i] <= upper[i]
        off_centre = outside or abs(estimate[i] - (lower[i] + upper[i]) / 2) > slack[i]
        ratio_limits = not ratio and off_centre and lower[i] > 0
        if ratio_limits and abs(estimate[i] - log_centre[i]) <= log_slack[i]:
            raise DataError(
                f"the estimate {estimate[i]:g} is on the log scale but its CI "
                f"[{lower[i]:g}, {upper[i]:g}] is on the ratio scale (the logarithms of "
                "the limits are centred on it); give the CI limits as logarithms too, or "
                "the estimate as a ratio in a column named or, rr or hr",
                column=cols[0],
                **where,
            )
        if outside:
            shown = np.exp if ratio else float
            raise DataError(
                f"the estimate {shown(estimate[i]):g} lies outside its CI "
                f"[{shown(lower[i]):g}, {shown(upper[i]):g}]",
                column=cols[0],
                **where,
            )
    with np.errstate(over="ignore"):  # limits of +-1e308: inf, refused by _check_variances
        return (upper - lower) / (2.0 * z)


def _se_ci_warnings(
    frame: pd.DataFrame,
    found: Mapping[str, str],
    se: np.ndarray,
    ci_se: np.ndarray,
    ratio: bool,
    z: float,
    ci_level: float,
    studies: list[str],
    rows: list[int] | None = None,
) -> tuple[str, ...]:
    """A warning naming the rows whose SE (or variance) and CI disagree beyond the rounding of
    the numbers as written; the SE is the one used (``rows``: the row number of each row of
    ``frame`` in the table read, when ``frame`` is part of it)."""
    col = found["se"] if "se" in found else found["vi"]
    written = se if "se" in found else np.square(se)
    own = _rounding(frame, col, written, False)
    if "se" not in found:
        own = own / (2.0 * se)  # d sqrt(v) = dv / (2 sqrt(v))
    bounds = [
        np.array([parse_number(raw, "limit") for raw in frame[found[role]].tolist()])
        for role in ("ci_lower", "ci_upper")
    ]
    width = sum(
        _rounding(frame, found[r], b, ratio)
        for r, b in zip(("ci_lower", "ci_upper"), bounds, strict=True)
    )
    slack = own + width / (2.0 * z) + 1e-12 * np.abs(se)
    bad = np.flatnonzero(np.abs(se - ci_se) > slack)
    if not bad.size:
        return ()
    first = bad[0]
    number = rows or list(range(1, len(se) + 1))
    listed = ", ".join(f"{number[i]} ({show(studies[i])})" for i in bad[:10])
    listed += ", ..." if bad.size > 10 else ""
    return (
        f"row{'s' if bad.size > 1 else ''} {listed}: the {'SE' if 'se' in found else 'variance'} "
        f"disagrees with the {ci_level:.{_digits(ci_level)}%} CI beyond the rounding of the "
        f"numbers (row {number[first]}: SE {se[first]:.4g}, from the CI {ci_se[first]:.4g}); the "
        f"{'SE' if 'se' in found else 'variance'} is used: check both, and --ci-level",
    )


def _digits(level: float) -> int:
    """Decimals to print a level as a percentage without rounding it (0.95 -> 0, 0.999 -> 1)."""
    return next((d for d in range(4) if abs(round(level * 100, d) - level * 100) < 1e-9), 4)


def _variances(
    frame: pd.DataFrame,
    found: Mapping[str, str],
    yi: np.ndarray,
    ratio: bool,
    ci_level: float,
    studies: list[str],
    source: str,
    rows: list[int] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Variance of ``yi``: the se column squared, else the vi column as written, else from the
    interval (which is always checked); and a warning when an SE or variance and the interval
    disagree (``rows`` as :func:`_se_ci_warnings`)."""
    ci_se = None
    z = float(special.ndtri((1.0 + ci_level) / 2.0))
    if "ci_lower" in found and "ci_upper" in found:
        ci_se = _ci_se(frame, found, yi, ratio, z, studies, source)
    with np.errstate(over="ignore", under="ignore"):  # checked by _check_variances
        if "se" in found:
            se = _numbers(frame, found["se"], studies, source, positive="a standard error")
            vi = np.square(se)
        elif "vi" in found:
            vi = _numbers(frame, found["vi"], studies, source, positive="a variance")
            se = np.sqrt(vi)
        else:
            assert ci_se is not None  # _check_roles guarantees one of se, vi, or the interval
            return np.square(ci_se), ()
    if ci_se is None:
        return vi, ()
    return vi, _se_ci_warnings(frame, found, se, ci_se, ratio, z, ci_level, studies, rows)


def load_reported(
    source: str | Path | pd.DataFrame,
    *,
    ci_level: float = 0.95,
    columns: Mapping[str, str] | None = None,
) -> ReportedEffects:
    """Read reported effect sizes from a CSV path or a DataFrame.

    Parameters
    ----------
    source
        CSV file or DataFrame with a study column, an estimate column (``log_or``, ``or``,
        ``log_hr``, ``hr``, ``log_rr``, ``rr``, ``smd``, ``md``, ``estimate``, ``yi``...) and
        its uncertainty: ``se``, ``vi`` (variance), or ``ci_lower`` and ``ci_upper``.
    ci_level
        Confidence level of the intervals (0.95); ``se = width / (2 z_{(1+level)/2})``.
    columns
        Explicit mapping from roles (``study``, ``estimate``, ``se``, ``vi``, ``ci_lower``,
        ``ci_upper``; the sample sizes ``total``, ``treatment_total``, ``control_total``,
        kept as covariates) to column names. The measure is read from the estimate column's
        name.

    Returns
    -------
    ReportedEffects
        ``yi`` (log scale for ratios), ``vi`` (``se^2``, or the variance as written), the
        measure and the other columns as covariates; ``warnings`` names repeated labels.

    Raises
    ------
    DataError
        With the row and column of the first problem found.
    """
    if not 0 < ci_level < 1:
        raise BayesmetaError(f"ci_level must be between 0 and 1, got {ci_level}")
    frame, name, mapping = read_with_roles(source, columns, SYNONYMS)
    found = _find_columns(frame, mapping, name)
    _check_roles(found, frame, name)
    if len(frame) == 0:
        raise DataError("no studies: the file has a header but no rows", source=name)
    labels = study_labels(frame, found.get("study"), name)
    studies = list(multiarm.disambiguate(labels))
    measure, ratio = ESTIMATE_COLUMNS.get(_normalise(found["estimate"]), ("generic", False))
    why = "it is a ratio" if ratio else ""
    estimate = _numbers(frame, found["estimate"], studies, name, positive=why)
    yi = np.log(estimate) if ratio else estimate
    _check_estimates(yi, studies, name, found["estimate"])
    vi, disagree = _variances(frame, found, yi, ratio, ci_level, studies, name)
    _check_variances(vi, studies, name, found.get("se") or found.get("vi") or found["ci_lower"])
    if len(frame) < 2:
        raise DataError(f"a meta-analysis needs at least 2 studies, got {len(frame)}", source=name)
    used = [column for role, column in found.items() if role not in SAMPLE_SIZE_ROLES]
    covariates = frame.drop(columns=used).reset_index(drop=True)
    return ReportedEffects(
        study=tuple(studies),
        yi=yi,
        vi=vi,
        measure=measure,
        covariates=covariates.apply(_numeric_if_possible),
        source=name,
        warnings=(*multiarm.repeated_label_warnings(labels, studies), *disagree),
    )


def _check_estimates(yi: np.ndarray, studies: list[str], source: str, column: str) -> None:
    """Each estimate (log scale for ratios) must be below :data:`MAX_ESTIMATE` in size."""
    for i, y in enumerate(yi):
        if abs(y) > MAX_ESTIMATE:
            raise DataError(
                f"the estimate {y:.3g} is too large to pool (at most {MAX_ESTIMATE:g} in "
                "size); check the value and its scale",
                source=source,
                row=i + 1,
                study=studies[i],
                column=column,
            )


def _check_variances(vi: np.ndarray, studies: list[str], source: str, column: str) -> None:
    """Each variance must be a positive finite float (an SE of 1e-200 squares to 0), at most
    :data:`MAX_VARIANCE`, and at least :data:`MIN_VARIANCE` and :data:`MIN_VARIANCE_RATIO`
    times the largest: beyond
    that, rounding decides the pooled estimates (metafor's change with the exponent), so
    such a study is refused, not pooled."""
    for i, v in enumerate(vi):
        if not (math.isfinite(v) and v > 0):
            raise DataError(
                f"the standard error is too {'small' if v == 0 else 'large'}: its square "
                "(the variance) is not a positive finite number",
                source=source,
                row=i + 1,
                study=studies[i],
            )
    for i, v in enumerate(vi):
        if v > MAX_VARIANCE:
            raise DataError(
                f"the variance {v:.3g} is too large to pool (at most {MAX_VARIANCE:g}); "
                "check the value and its scale",
                source=source,
                row=i + 1,
                study=studies[i],
                column=column,
            )
    largest = float(np.max(vi)) if len(vi) else 0.0
    for i, v in enumerate(vi):
        if v < MIN_VARIANCE_RATIO * largest or v < MIN_VARIANCE:
            raise DataError(
                f"the variance {v:.3g} is too small to pool (the largest is {largest:.3g}; "
                f"each must be at least {MIN_VARIANCE:g} and {MIN_VARIANCE_RATIO:g} times "
                "the largest); check the value and its scale",
                source=source,
                row=i + 1,
                study=studies[i],
                column=column,
            )
