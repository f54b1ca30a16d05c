"""Property-based tests of the data layer: any table gives validated data or a one-line error.

Generated CSV texts and DataFrames, valid and invalid (negative, non-integer, huge, blank and NA
cells; Unicode digits, ``_`` separators; extra fields, duplicate labels, missing and duplicate
columns; control characters), go through :func:`bayesmeta.io.counts.load` and
:func:`bayesmeta.io.inputs.load_any`. Each call either returns data whose counts are the numbers
the text says (and that read back the same from ``to_frame()``), or raises
:class:`~bayesmeta.errors.BayesmetaError` with a one-line message: never another exception.

The default profile is derandomized (the same examples on every run) and small enough for CI
(a few seconds). For a longer, randomized search, select the ``long`` profile::

    BAYESMETA_HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest -q tests/io/test_properties.py

(10,000 examples per test, new random examples each run; failures are saved in the local
``.hypothesis/`` database and replayed first next time).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesmeta.errors import BayesmetaError, DataError
from bayesmeta.io.cells import MISSING, trim
from bayesmeta.io.counts import SingleArmData, TwoArmData, load
from bayesmeta.io.inputs import load as load_any
from bayesmeta.io.reported import ReportedEffects

settings.register_profile(
    "bayesmeta-io-ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "bayesmeta-io-long",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(
    "bayesmeta-io-long"
    if os.environ.get("BAYESMETA_HYPOTHESIS_PROFILE") == "long"
    else "bayesmeta-io-ci"
)

TWO_ARM = ("treatment_events", "treatment_total", "control_events", "control_total")
SPELLINGS = {
    "two-arm": [
        TWO_ARM,
        ("ai", "n1i", "ci", "n2i"),
        ("event.e", "n.e", "event.c", "n.c"),
        ("Experimental Events", "Experimental Total", "Control Events", "Control Total"),
    ],
    "single-arm": [("events", "total"), ("xi", "ni"), ("Responders", "Patients")],
}
STUDY_HEADERS = ["study", "Study", "trial", "Author", "studlab"]
_DIR = Path(tempfile.mkdtemp(prefix="bayesmeta-hypothesis-"))


def write(text: str | bytes) -> Path:
    """A fresh file holding ``text`` (hypothesis forbids function-scoped tmp_path)."""
    path = _DIR / f"t{next(_COUNTER)}.csv"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


_COUNTER = iter(range(10**9))


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def assert_one_line(error: BaseException) -> None:
    message = str(error)
    assert message and len(message.splitlines()) == 1, repr(message)


# ----------------------------------------------------------------------------- strategies

labels = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=10
).filter(lambda s: trim(s) != "" and trim(s).lower() not in MISSING)


@st.composite
def count_text(draw: st.DrawFn, value: int) -> str:
    """One way of writing ``value`` that must read back as exactly ``value``."""
    form = draw(st.sampled_from(["plain", "zeros", "spaces", "plus", "point"]))
    return {
        "plain": str(value),
        "zeros": "00" + str(value),
        "spaces": f"  {value} ",
        "plus": f"+{value}",
        "point": f"{value}.0",
    }[form]


@st.composite
def arm(draw: st.DrawFn) -> tuple[int, int]:
    total = draw(st.one_of(st.integers(1, 60), st.integers(1, 2**53 - 1)))
    events = draw(st.one_of(st.just(0), st.just(total), st.integers(0, total)))
    return events, total


@st.composite
def valid_table(draw: st.DrawFn) -> dict:
    design = draw(st.sampled_from(["two-arm", "single-arm"]))
    k = draw(st.integers(2, 6))
    pool = draw(st.lists(labels, min_size=1, max_size=k, unique_by=trim))
    names = draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k))
    arms = 2 if design == "two-arm" else 1
    counts = [[x for _ in range(arms) for x in draw(arm())] for _ in range(k)]
    spelling = list(draw(st.sampled_from(SPELLINGS[design])))
    header = [draw(st.sampled_from(STUDY_HEADERS)), *spelling, "note"]
    notes = draw(st.lists(st.text(max_size=5), min_size=k, max_size=k))
    rows = [
        [name, *[draw(count_text(v)) for v in values], note]
        for name, values, note in zip(names, counts, notes, strict=True)
    ]
    order = draw(st.permutations(range(len(header))))
    table = [[r[i] for i in order] for r in [header, *rows]]
    return {"design": design, "names": names, "counts": counts, "text": csv_text(table)}


def counts_of(data: TwoArmData | SingleArmData) -> list[list[int]]:
    columns = TWO_ARM if isinstance(data, TwoArmData) else ("events", "total")
    return np.column_stack([getattr(data, c) for c in columns]).tolist()


def check_valid(data: object) -> None:
    """What every returned data object promises downstream."""
    assert isinstance(data, TwoArmData | SingleArmData | ReportedEffects)
    assert data.k >= 2 and len(set(data.study)) == data.k
    assert all(isinstance(w, str) and len(w.splitlines()) == 1 for w in data.warnings)
    if isinstance(data, ReportedEffects):
        assert np.all(np.isfinite(data.yi)) and np.all(np.isfinite(data.vi) & (data.vi > 0))
        return
    pairs = (
        [(data.treatment_events, data.treatment_total), (data.control_events, data.control_total)]
        if isinstance(data, TwoArmData)
        else [(data.events, data.total)]
    )
    for events, total in pairs:
        assert events.dtype == np.int64 and total.dtype == np.int64
        assert np.all((events >= 0) & (events <= total) & (total >= 1) & (total < 2**53))
    again = load(data.to_frame())
    assert counts_of(again) == counts_of(data)
    assert again.study == data.study
    assert load(write(data.to_frame().to_csv(index=False))).study == data.study


# ------------------------------------------------------------------------------ properties


@PROFILE
@given(valid_table())
def test_valid_tables_read_back_exactly(table: dict) -> None:
    data = load(write(table["text"]))
    assert data.design == table["design"]
    assert counts_of(data) == table["counts"]
    assert data.labels == tuple(trim(n) for n in table["names"])
    repeated = {trim(n) for n in table["names"] if table["names"].count(n) > 1}
    assert sum(w.startswith("study label") for w in data.warnings) == len(repeated)
    check_valid(data)


BAD_COUNTS = [
    "-1",
    "-0.0",
    "1_0",
    "4.9999999999999999",
    "2.5",
    "1e3",
    "0x1",
    "\uff11\uff10",  # fullwidth 10
    "\u0661\u0660",  # Arabic-Indic 10
    "\u00b9",  # superscript one
    "",
    "NA",
    "nan",
    "inf",
    "9" * 30,
    "9007199254740992",
    "1 0",
    "ten",
]


@PROFILE
@given(valid_table(), st.data())
def test_one_bad_count_is_a_located_error(table: dict, data: st.DataObject) -> None:
    rows = list(csv.reader(io.StringIO(table["text"])))
    header = rows[0]
    count_columns = [i for i, h in enumerate(header) if h not in (*STUDY_HEADERS, "note")]
    row = data.draw(st.integers(1, len(rows) - 1))
    column = data.draw(st.sampled_from(count_columns))
    rows[row][column] = data.draw(st.sampled_from(BAD_COUNTS))
    try:
        load(write(csv_text(rows)))
    except DataError as error:
        assert_one_line(error)
        assert f"row {row}" in str(error) and f"column {header[column]!r}" in str(error)
    else:
        raise AssertionError(f"{rows[row][column]!r} was accepted as a count")


TOKENS = [
    "0",
    "1",
    "7",
    "10",
    "12",
    "010",
    "+3",
    "5.0",
    "-2",
    "1_0",
    "2.5",
    "1e3",
    "\uff15",
    "\u0665",
    "",
    " ",
    "NA",
    "null",
    "inf",
    "9" * 25,
    "A",
    "A",
    "B [2]",
    "Smith, 2005",
    'say "hi"',
    "x\x00y",
    "line\nbreak",
    "\u2028",
    "\x1b[31m",
    "[/]",
    "0.1",
    "-0.5",
    "1e-300",
]
HEADERS = [
    "study",
    "trial",
    "treatment_events",
    "treatment_total",
    "control_events",
    "control_total",
    "ai",
    "n1i",
    "ci",
    "n2i",
    "events",
    "total",
    "xi",
    "ni",
    "log_or",
    "or",
    "se",
    "vi",
    "yi",
    "lower",
    "upper",
    "year",
    "",
]


@st.composite
def arbitrary_text(draw: st.DrawFn) -> str | bytes:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7))
    k = draw(st.integers(0, 5))
    cell = st.one_of(st.sampled_from(TOKENS), st.text(max_size=4))
    rows = [
        draw(st.lists(cell, min_size=max(0, len(header) - 1), max_size=len(header) + 1))
        for _ in range(k)
    ]
    sep = draw(st.sampled_from([",", ",", ",", ";", ", "]))
    text = "\n".join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n"]))
    if draw(st.booleans()):
        text = csv_text([header, *rows])
    if draw(st.integers(0, 9)) == 0:
        return text.encode("latin-1", errors="replace") + b"\xff"
    return text


@PROFILE
@given(arbitrary_text())
def test_arbitrary_csv_text_gives_data_or_one_line_error(text: str | bytes) -> None:
    path = write(text)
    for reader in (load, load_any):
        try:
            data = reader(path)
        except BayesmetaError as error:
            assert_one_line(error)
        else:
            check_valid(data)


VALUES = st.one_of(
    st.integers(-5, 60),
    st.integers(2**53 - 2, 2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 3.0, -1.0, 1e300]),
    st.sampled_from(TOKENS),
    st.booleans(),
    st.none(),
    st.just(pd.NA),
)


@st.composite
def arbitrary_frame(draw: st.DrawFn) -> pd.DataFrame:
    columns = draw(st.lists(st.sampled_from([h for h in HEADERS if h]), min_size=1, max_size=6))
    columns = list(dict.fromkeys(columns))
    k = draw(st.integers(0, 5))
    frame = pd.DataFrame({c: draw(st.lists(VALUES, min_size=k, max_size=k)) for c in columns})
    index = draw(st.sampled_from(["default", "labels", "study", "filtered"]))
    if index == "labels":
        frame.index = draw(st.lists(st.sampled_from(TOKENS), min_size=k, max_size=k))
    elif index == "study" and "study" in frame.columns:
        frame = frame.set_index("study")
    elif index == "filtered":
        frame.index = [2 * i + 1 for i in range(k)]
    return frame


@PROFILE
@given(arbitrary_frame())
def test_arbitrary_dataframes_give_data_or_one_line_error(frame: pd.DataFrame) -> None:
    for reader in (load, load_any):
        try:
            data = reader(frame)
        except BayesmetaError as error:
            assert_one_line(error)
        else:
            check_valid(data)


@PROFILE
@given(
    st.lists(
        st.tuples(
            st.floats(-50, 50, allow_nan=False),
            st.floats(1e-6, 1e3, allow_nan=False),
        ),
        min_size=2,
        max_size=6,
    ),
    st.sampled_from(["{!r}", "{:.6g}", "{:.3e}", "{:.12f}"]),
)
def test_reported_numbers_read_back_exactly(rows: list[tuple[float, float]], form: str) -> None:
    texts = [(form.format(y), form.format(s)) for y, s in rows]
    text = csv_text(
        [["study", "log_hr", "se"], *[[f"S{i}", y, s] for i, (y, s) in enumerate(texts)]]
    )
    try:
        data = load_any(write(text))
    except DataError as error:  # an SE written as 0.000000000000 in fixed notation
        assert any(float(s) == 0 for _, s in texts), str(error)
        return
    assert isinstance(data, ReportedEffects) and data.measure == "HR"
    np.testing.assert_array_equal(data.yi, [float(y) for y, _ in texts])
    np.testing.assert_array_equal(data.vi, np.square([float(s) for _, s in texts]))
