"""Read the analyses of a RevMan 5 review file (``.rm5``, the XML of Cochrane reviews).

A review holds comparisons (``COMPARISON``), each with outcomes numbered as RevMan shows them
(``1.2`` = outcome 2 of comparison 1), each with one row per study (``DICH_DATA``...) that
points to a study (``STUDY_ID`` -> ``STUDY`` with its ``NAME`` and ``YEAR``), possibly inside
subgroups (``DICH_SUBGROUP``). :func:`outcome_table` turns one outcome into the text table the
ordinary readers validate (:mod:`bayesmeta.io.counts`, :mod:`bayesmeta.io.reported`):

- **dichotomous** (``DICH_OUTCOME``): ``EVENTS_1``/``TOTAL_1`` of group 1 (RevMan's
  experimental group) are the treatment arm, ``EVENTS_2``/``TOTAL_2`` the control arm;
- **generic inverse variance** (``IV_OUTCOME``): each study's effect as RevMan shows it
  (``EFFECT_SIZE``: a ratio for OR, RR, HR) and its ``SE`` (of the log ratio), as R meta's
  ``read.rm5`` reads them, in a column named by the outcome's effect measure (``or``, ``rr``,
  ``hr``, ``md``, ``smd``, ``rd``; other measures as a generic ``estimate``); an outcome whose
  ratios were entered on the ratio scale (``LOG_DATA="NO"``) is refused, its SE's scale being
  unclear;
- **continuous** (``CONT_OUTCOME``, ``MD`` or ``SMD``): each arm's ``MEAN``, ``SD`` and
  ``TOTAL`` (group 1 the treatment arm) as ``treatment_mean``... ``control_total``, read by
  :mod:`bayesmeta.io.continuous` in the outcome's measure (:func:`continuous_measure`) unless
  another is asked for. The MD and its variance are RevMan's (Deeks JJ, Higgins JPT,
  Statistical algorithms in Review Manager 5, 2010); the SMD is metafor's ``escalc`` (exact
  Hedges correction), which differs slightly from RevMan's approximate one. O - E and other
  outcomes are listed but refused: bayesmeta does not compute them yet.

Each table has the columns ``study`` (RevMan's study name), ``year`` and, for an outcome with
subgroups, ``subgroup`` (the subgroup's name, for ``--subgroup subgroup``). The outcome's
group labels and forest-plot labels are kept (:class:`Outcome`), and what RevMan itself
calculated for the outcome (its pooled estimate and CI) is in :attr:`Outcome.published`.

The XML is parsed with defusedxml: a file that declares entities (the "billion laughs") or
reaches for external resources is refused instead of expanded.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bayesmeta.errors import DataError
from bayesmeta.io.cells import plain, show, trim

KINDS = {
    "DICH": "dichotomous",
    "CONT": "continuous",
    "IV": "generic inverse variance",
    "IPD": "O - E and variance",
    "OTHER": "other data",
}
SUPPORTED = ("DICH", "IV", "CONT")
# RevMan's effect measure -> the column name the reported-effects reader knows it by
IV_COLUMNS = {
    "OR": "or",
    "PETO_OR": "or",
    "RR": "rr",
    "HR": "hr",
    "MD": "md",
    "SMD": "smd",
    "RD": "rd",
}
RATIOS = frozenset({"OR", "PETO_OR", "RR", "HR"})
CONTINUOUS = ("MD", "SMD")  # RevMan's measures of continuous outcomes
# RevMan's per-arm attributes of a CONT_DATA row -> the roles of bayesmeta.io.continuous
ARM_COLUMNS = {
    f"{stat}_{number}": f"{arm}_{role}"
    for number, arm in (("1", "treatment"), ("2", "control"))
    for stat, role in (("MEAN", "mean"), ("SD", "sd"), ("TOTAL", "total"))
}


@dataclass(frozen=True)
class Outcome:
    """One outcome of a review: its RevMan number, name, data type and what RevMan published."""

    number: str
    name: str
    comparison: str
    kind: str
    measure: str
    method: str
    random_effects: bool
    groups: tuple[str, str]
    favours: tuple[str, str]
    studies: int
    subgroups: tuple[str, ...]
    published: dict[str, float] = field(repr=False, compare=False)
    element: ET.Element = field(repr=False, compare=False)

    @property
    def type(self) -> str:
        """``dichotomous``, ``continuous``, ``generic inverse variance``..."""
        return KINDS[self.kind]

    @property
    def supported(self) -> bool:
        """bayesmeta can analyse this outcome's data."""
        if self.kind == "CONT":
            return self.measure.upper() in CONTINUOUS
        return self.kind in SUPPORTED


@dataclass(frozen=True)
class Review:
    """The outcomes of a review file and its studies (``STUDY_ID`` -> name, year)."""

    path: Path
    title: str
    outcomes: tuple[Outcome, ...]
    studies: dict[str, tuple[str, str]] = field(repr=False)


def read_review(path: Path) -> Review:
    """Every comparison's outcomes in a RevMan 5 file, in RevMan's order.

    Raises
    ------
    DataError
        Not XML, XML with entities or external references, or not a RevMan 5 review.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    source = str(path)
    try:
        root = parse(path).getroot()
    except DefusedXmlException as exc:
        raise DataError(
            f"refused: the XML declares entities or external references ({type(exc).__name__})"
            "; a RevMan file has none",
            source=source,
        ) from None
    except ET.ParseError as exc:
        raise DataError(f"not a readable XML file: {plain(exc)}", source=source) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    if root.tag != "COCHRANE_REVIEW":
        raise DataError(
            f"not a RevMan 5 review: the XML's root is {show(root.tag)}, not COCHRANE_REVIEW",
            source=source,
        )
    studies = {
        s.get("ID", ""): (trim(s.get("NAME", "")), trim(s.get("YEAR", "")))
        for s in root.iter("STUDY")
    }
    outcomes = []
    for comparison in root.iter("COMPARISON"):
        c_number = comparison.get("NO", "?")
        c_name = _text(comparison, "NAME")
        for element in comparison:
            kind = element.tag.removesuffix("_OUTCOME")
            if kind == element.tag:
                continue
            outcomes.append(_outcome(element, kind, f"{c_number}.{element.get('NO', '?')}", c_name))
    return Review(path, _text(root, "COVER_SHEET/TITLE"), tuple(outcomes), studies)


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    return " ".join("".join(found.itertext()).split()) if found is not None else ""


def _outcome(element: ET.Element, kind: str, number: str, comparison: str) -> Outcome:
    published = {}
    for key in ("EFFECT_SIZE", "CI_START", "CI_END", "TAU2", "I2", "Z", "CHI2"):
        with contextlib.suppress(ValueError):
            published[key] = float(element.get(key, ""))
    subgroups = tuple(_text(s, "NAME") for s in element.findall(f"{kind}_SUBGROUP"))
    return Outcome(
        number=number,
        name=_text(element, "NAME"),
        comparison=comparison,
        kind=kind,
        measure=element.get("EFFECT_MEASURE", ""),
        method=element.get("METHOD", ""),
        random_effects=element.get("RANDOM") == "YES",
        groups=(_text(element, "GROUP_LABEL_1"), _text(element, "GROUP_LABEL_2")),
        favours=(_text(element, "GRAPH_LABEL_1"), _text(element, "GRAPH_LABEL_2")),
        studies=len({d.get("STUDY_ID") for d in element.iter(f"{kind}_DATA")}),
        subgroups=subgroups,
        published=published,
        element=element,
    )


def find_outcome(review: Review, wanted: str | None) -> Outcome:
    """The outcome numbered ``wanted`` (``1.2``) or named so (case-insensitive); without
    ``wanted``, the review's only outcome.

    Raises
    ------
    DataError
        No such outcome, or several outcomes and none chosen: the message lists them.
    """
    source = str(review.path)
    if not review.outcomes:
        raise DataError("the review has no analyses (no outcomes with data)", source=source)
    if wanted is None:
        if len(review.outcomes) == 1:
            return review.outcomes[0]
        raise DataError(
            f"the review has {len(review.outcomes)} outcomes; choose one with --outcome "
            f"NUMBER ({_numbers(review)}; see `bayesmeta outcomes {source}`)",
            source=source,
        )
    key = " ".join(wanted.split()).casefold()
    for outcome in review.outcomes:
        if key in (outcome.number, outcome.name.casefold()):
            return outcome
    raise DataError(
        f"--outcome {show(wanted)}: no such outcome; the review has {_numbers(review)} "
        f"(see `bayesmeta outcomes {source}`)",
        source=source,
    )


def _numbers(review: Review) -> str:
    numbers = [o.number for o in review.outcomes]
    return ", ".join(numbers) if len(numbers) <= 12 else f"{', '.join(numbers[:12])}, ..."


def outcome_frame(review: Review, outcome: Outcome) -> pd.DataFrame:
    """The study rows of ``outcome`` as a text table (see the module docstring).

    Raises
    ------
    DataError
        A continuous or other outcome bayesmeta does not analyse, generic inverse-variance
        ratios entered on the ratio scale, or a row pointing to no study.
    """
    source = f"{review.path} [outcome {outcome.number}]"
    if not outcome.supported:
        raise DataError(
            f"{outcome.type} outcome {show(outcome.name)} ({outcome.measure or 'no measure'}): "
            "not supported yet; bayesmeta reads dichotomous, generic inverse-variance and "
            "continuous (MD, SMD) outcomes",
            source=source,
        )
    kind, element = outcome.kind, outcome.element
    measure = outcome.measure.upper()
    if kind == "IV" and measure in RATIOS and element.get("LOG_DATA", "YES") == "NO":
        raise DataError(
            f"the {measure} estimates were entered on the ratio scale (LOG_DATA=NO); bayesmeta "
            "reads generic inverse-variance ratios entered as log ratios with their SE",
            source=source,
        )
    estimate = IV_COLUMNS.get(measure, "estimate")
    rows = []
    for subgroup, data in _data_rows(element, kind):
        study_id = data.get("STUDY_ID", "")
        if study_id not in review.studies:
            raise DataError(
                f"a data row points to study {show(study_id)}, which the review does not list",
                source=source,
            )
        name, year = review.studies[study_id]
        row = {"study": name, "year": year}
        if outcome.subgroups:
            row["subgroup"] = subgroup
        if kind == "DICH":
            row |= {
                "treatment_events": data.get("EVENTS_1", ""),
                "treatment_total": data.get("TOTAL_1", ""),
                "control_events": data.get("EVENTS_2", ""),
                "control_total": data.get("TOTAL_2", ""),
            }
        elif kind == "CONT":
            row |= {column: data.get(key, "") for key, column in ARM_COLUMNS.items()}
        else:
            row |= {estimate: data.get("EFFECT_SIZE", ""), "se": data.get("SE", "")}
        rows.append(row)
    frame = pd.DataFrame(rows, dtype=object)
    if rows and all(not trim(y) for y in frame["year"]):
        frame = frame.drop(columns=["year"])
    return frame


def _data_rows(element: ET.Element, kind: str) -> list[tuple[str, ET.Element]]:
    """(subgroup name, data row) of an outcome: direct rows, then each subgroup's."""
    rows = [("", d) for d in element.findall(f"{kind}_DATA")]
    for subgroup in element.findall(f"{kind}_SUBGROUP"):
        name = _text(subgroup, "NAME") or f"Subgroup {subgroup.get('NO', '?')}"
        rows += [(name, d) for d in subgroup.findall(f"{kind}_DATA")]
    return rows


def outcome_table(path: Path, wanted: str | None) -> tuple[pd.DataFrame, str, str]:
    """The table of one outcome of the review ``path`` (see :func:`find_outcome`), its name
    ``FILE [outcome 1.2]`` and a note saying which outcome it is."""
    review = read_review(path)
    outcome = find_outcome(review, wanted)
    frame = outcome_frame(review, outcome)
    name = f"{path} [outcome {outcome.number}]"
    note = (
        f"{name}: {outcome.name} ({outcome.type}, {outcome.measure}); treatment = "
        f"{outcome.groups[0] or 'group 1'}, control = {outcome.groups[1] or 'group 2'}"
    )
    if outcome.kind == "DICH" and outcome.measure.upper() not in ("OR", "PETO_OR"):
        note += f"; RevMan analysed {outcome.measure}, bayesmeta analyses odds ratios"
    if outcome.kind == "CONT" and outcome.measure.upper() == "SMD":
        note += "; the SMD is computed as metafor's escalc (exact Hedges correction), not RevMan's"
    if outcome.kind == "DICH" and outcome.element.get("SWAP_EVENTS") == "YES":
        note += "; RevMan swapped events and non-events (SWAP_EVENTS), bayesmeta reads events"
    return frame, name, note


def continuous_measure(path: Path, wanted: str | None) -> str | None:
    """The measure RevMan analysed a continuous outcome in (``MD``, ``SMD``); None for others."""
    outcome = find_outcome(read_review(path), wanted)
    measure = outcome.measure.upper()
    return measure if outcome.kind == "CONT" and measure in CONTINUOUS else None


def favours(path: Path, wanted: str | None) -> tuple[str, str] | None:
    """The forest-plot labels (left, right) RevMan gives the outcome, None if it has none."""
    outcome = find_outcome(read_review(path), wanted)
    return outcome.favours if all(outcome.favours) else None


def listing(review: Review) -> list[str]:
    """Lines for ``bayesmeta outcomes``: each outcome's number, type, measure, studies, name."""
    lines = []
    comparison = None
    for o in review.outcomes:
        if o.comparison != comparison:
            comparison = o.comparison
            lines.append(f"{o.number.split('.')[0]}  {comparison}")
        support = "" if o.supported else "  (not supported yet)"
        groups = f"  [{len(o.subgroups)} subgroups]" if o.subgroups else ""
        lines.append(
            f"  {o.number:6} {o.type:25} {o.measure or '-':6} {o.studies:3} studies  "
            f"{o.name}{groups}{support}"
        )
    return lines
