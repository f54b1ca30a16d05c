"""Property-based tests of every command's option parsing: any generated option values give a
result or a one-line ``error:`` with exit code 2, never a traceback.

The commands run on small fixed data where no sampling is needed (``classic``; ``fit`` with the
exact normal-normal engine; ``priors``-style prior text through ``fit``), so hundreds of
invocations stay fast. The default profile is derandomized (CI runs the same examples every
time); ``BAYESMETA_HYPOTHESIS_PROFILE=long`` runs a longer randomized search::

    BAYESMETA_HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest -q tests/cli/test_properties.py
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app

settings.register_profile(
    "bayesmeta-cli-ci",
    derandomize=True,
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "bayesmeta-cli-long",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = settings.get_profile(
    "bayesmeta-cli-long"
    if os.environ.get("BAYESMETA_HYPOTHESIS_PROFILE") == "long"
    else "bayesmeta-cli-ci"
)
runner = CliRunner()

REPORTED = "study,yi,vi,year,group\na,0.1,0.04,2001,x\nb,0.5,0.09,1999,y\nc,-0.2,0.05,2003,x\n"
FAMILIES = ["normal", "half-normal", "half-cauchy", "half-student-t", "uniform", "exponential",
            "lognormal", "turner", "gamma", "Half Normal", ""]  # fmt: skip
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.sampled_from(["1e308", "-0", "nan", "inf", "1_0", "0x10", "", "  2 ", "١٢"]),
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)


@st.composite
def prior_text(draw: st.DrawFn) -> str:
    """Prior strings, mostly of the right shape, with odd parameters."""
    family = draw(st.sampled_from(FAMILIES))
    params = draw(st.lists(NUMBERS, max_size=3))
    text = f"{family}({', '.join(map(str, params))})"
    return draw(st.sampled_from([text, text.replace("(", ""), draw(TEXT)]))


def option(name: str, values: st.SearchStrategy) -> st.SearchStrategy:
    return values.map(lambda v: [name, str(v)])


CLASSIC_OPTIONS = st.lists(
    st.one_of(
        option("--leave-one-out", st.sampled_from(["DL", "REML", "PM", "XX", "", "dl"])),
        option("--cumulative", st.sampled_from(["year", "group", "nope", "study", ""])),
        option("--columns", st.one_of(TEXT, st.sampled_from(["yi=vi", "estimate=yi", "study"]))),
        st.just(["--split-shared-control"]),
    ),
    max_size=3,
)
FIT_OPTIONS = st.lists(
    st.one_of(
        option("--prior-mu", prior_text()),
        option("--prior-tau", prior_text()),
        option("--ci-level", NUMBERS),
        option("--covariate", st.sampled_from(["year", "group", "nope", "yi"])),
        option("--subgroup", st.sampled_from(["group", "year", "nope"])),
        option("--methods", st.one_of(TEXT, st.sampled_from(["random_dl", "random_dl,peto"]))),
        option("--engine", st.sampled_from(["exact", "nuts", "auto", "stan"])),
        option("--seed", NUMBERS),
        st.just(["--hdi"]),
        st.just(["--compare"]),
    ),
    max_size=4,
)


def assert_clean(result, args: list[str]) -> None:
    """A result (exit 0, or 3 for a fit that did not converge) or one error line, exit 2."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert "Traceback" not in result.output, args
    if result.exit_code == 2:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.output)
    else:
        assert result.exit_code in (0, 3), (args, result.exit_code, result.output)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "effects.csv"
    path.write_text(REPORTED)
    return str(path)


@PROFILE
@given(options=CLASSIC_OPTIONS)
def test_classic_options(data, options: list[list[str]]) -> None:
    args = ["classic", data, *(part for pair in options for part in pair)]
    assert_clean(runner.invoke(app, args), args)


@PROFILE
@given(options=FIT_OPTIONS)
def test_fit_options_with_the_exact_engine(data, options: list[list[str]]) -> None:
    flat = [part for pair in options for part in pair]
    if "nuts" in flat:  # no sampling here: the exact engine keeps hundreds of runs fast
        return
    args = ["fit", data, "--model", "normal-normal", *flat]
    assert_clean(runner.invoke(app, args), args)


@PROFILE
@given(text=prior_text())
def test_prior_text_parses_or_names_the_problem(text: str) -> None:
    try:
        prior = bayesmeta.parse_prior(text)
    except bayesmeta.OptionError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert bayesmeta.parse_prior(str(prior)) == prior


# Issue 22: arbitrary labels, small tables and option values together, through the commands
# that need no sampling. Each run writes its JSON (and for fit a forest plot) into a fresh
# folder: a run that fails must leave nothing there but its input.
SMALL_PROFILE = settings(PROFILE, max_examples=min(PROFILE.max_examples, 60))
LABELS = st.one_of(
    st.sampled_from(["Smith $5 & Co", "$\\frac$", "=1+1", "@SUM(A1)", '"quoted"', "a,b",
                     "[/]", "τ ≥ 1 ━", "Study 1", "-2", "<b>&amp;</b>", "a $x^2$ b"]),
    st.text(  # printable text: letters, digits, punctuation, symbols, spaces
        alphabet=st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")),
        min_size=1,
        max_size=16,
    ).filter(str.strip),
    st.text(  # anything, control characters and blanks too (mostly refused, one line)
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=8,
    ),
)  # fmt: skip
NUMBER_CELLS = st.one_of(
    st.floats(-5, 5, allow_nan=False).map(lambda v: f"{v:.6g}"),
    st.floats(1e-4, 4, allow_nan=False).map(lambda v: f"{v:.6g}"),
)
BAD_CELLS = st.sampled_from(
    ["0", "-0.1", "1e-30", "1e300", "-1e60", "nan", "", "NA", "1,5", "inf", "0x10", "\u0661"]
)
# subgroup columns have few levels: the exact engine's time grows fast with their number
FEW_LEVELS = {"group": st.sampled_from(["x", "y", "$a$", "=z"]),
              "year": st.sampled_from(["2001", "2002", "", "x"])}  # fmt: skip
UNCERTAINTY = ["vi", "se", "variance", "sei"]
ESTIMATE = ["yi", "log_or", "smd", "estimate", "hr", "md"]


@st.composite
def small_table(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A CSV of 1-6 studies with an estimate, its uncertainty, maybe a sample size and a
    covariate; and the names of its extra columns (for option values)."""
    estimate, spread = draw(st.sampled_from(ESTIMATE)), draw(st.sampled_from(UNCERTAINTY))
    extra = draw(st.lists(st.sampled_from(["n", "year", "group", "Ne"]), unique=True, max_size=2))
    header = ["study", estimate, spread, *extra]
    # most tables are valid (a result is checked too); one in three has a bad cell or two
    bad = draw(st.integers(0, 2)) == 2  # 0, the simplest, is a valid table
    k = draw(st.integers(1 if bad else 2, 6))
    cells = st.one_of(NUMBER_CELLS, BAD_CELLS) if bad else NUMBER_CELLS
    labels = LABELS if bad else st.one_of(*LABELS.original_strategies[:2])
    rows = []
    for _ in range(k):
        value, uncertainty = draw(cells), draw(cells)
        if not bad:  # a positive uncertainty, and a ratio above 0
            uncertainty = uncertainty.lstrip("-")
            value = value.lstrip("-") if estimate == "hr" else value
        row = [draw(labels), value, uncertainty]
        row += [draw(FEW_LEVELS[c] if c in FEW_LEVELS else st.one_of(NUMBER_CELLS, labels))
                for c in extra]  # fmt: skip
        rows.append(row)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue(), extra


def invoke_in_fresh_folder(text: str, args: list[str], outputs: list[str]) -> None:
    """Run ``args`` (``DATA`` and each name of ``outputs`` replaced by paths in a new folder)
    and check it: a result or one error line, and on failure no file but the input."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.csv"
        data.write_text(text, encoding="utf-8")
        paths = {name: str(Path(folder) / name) for name in outputs}
        full = [str(data) if a == "DATA" else paths.get(a, a) for a in args]
        result = runner.invoke(app, full)
        event(f"exit code {result.exit_code}")
        assert_clean(result, full)
        assert result.exit_code in (0, 2), (full, result.output)
        if result.exit_code != 0:
            left = sorted(p.name for p in Path(folder).iterdir())
            assert left == ["data.csv"], (full, left, result.output)


@SMALL_PROFILE
@given(table=small_table(), options=st.one_of(st.just([]), CLASSIC_OPTIONS), data=st.data())
def test_classic_on_arbitrary_small_tables(table, options, data) -> None:
    text, extra = table
    flat = [part for pair in options for part in pair]
    if extra and data.draw(st.booleans()):
        flat += ["--cumulative", data.draw(st.sampled_from(extra))]
    invoke_in_fresh_folder(text, ["classic", "DATA", *flat, "--json", "out.json"], ["out.json"])


@SMALL_PROFILE
@given(table=small_table(), options=st.one_of(st.just([]), FIT_OPTIONS), data=st.data())
def test_exact_fit_on_arbitrary_small_tables(table, options, data) -> None:
    text, extra = table
    flat = [part for pair in options for part in pair]
    if "nuts" in flat:  # no sampling here
        return
    if extra and data.draw(st.booleans()):
        flag = data.draw(st.sampled_from(["--covariate", "--subgroup"]))
        column = data.draw(st.sampled_from(extra if flag == "--covariate" else list(FEW_LEVELS)))
        flat += [flag, column]
    favours = data.draw(st.one_of(st.none(), st.tuples(LABELS, LABELS).map(",".join)))
    if favours is not None:
        flat += ["--favours", favours]
    args = ["fit", "DATA", "--model", "normal-normal", *flat, "--json", "out.json"]
    invoke_in_fresh_folder(text, [*args, "--plot", "forest.svg"], ["out.json", "forest.svg"])
