"""Property-based tests of every command's option parsing: any generated option values give a
result or a one-line ``error:`` with exit code 2, never a traceback.

The commands run on small fixed data where no sampling is needed (``classic``; ``fit`` with the
exact normal-normal engine; ``priors``-style prior text through ``fit``), so hundreds of
invocations stay fast. The default profile is derandomized (CI runs the same examples every
time); ``BAYESMETA_HYPOTHESIS_PROFILE=long`` runs a longer randomized search::

    BAYESMETA_HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest -q tests/cli/test_properties.py
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
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
