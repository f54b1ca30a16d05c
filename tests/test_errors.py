"""The public API in the PyMC idiom: user mistakes are ``ValueError``s (as in PyMC and
scikit-learn), ``analyze`` warns about draws that fail the checks, and the package declares its
type hints (PEP 561)."""

from __future__ import annotations

from importlib.resources import files

import pandas as pd
import pytest

import bayesmeta
from bayesmeta.errors import DataError, OptionError


@pytest.mark.parametrize("error", [DataError, OptionError])
def test_user_errors_are_value_errors(error):
    assert issubclass(error, ValueError)


def test_bad_data_and_options_are_caught_as_value_errors():
    with pytest.raises(ValueError, match="exceed the total"):
        bayesmeta.load(
            pd.DataFrame(
                {
                    "study": ["A", "B"],
                    "treatment_events": [11, 1],
                    "treatment_total": [10, 10],
                    "control_events": [1, 2],
                    "control_total": [10, 10],
                }
            )
        )
    with pytest.raises(ValueError, match="unknown model"):
        bayesmeta.analyze(bayesmeta.load_example("bcg"), model="binomial")


def test_the_package_is_typed():
    assert files("bayesmeta").joinpath("py.typed").is_file()


@pytest.mark.sampling
def test_analyze_warns_when_its_final_draws_fail_the_checks():
    """2 chains x 100 draws cannot reach the 400 effective draws the checks ask for, so the
    refit fails too and analyze says so, as pm.sample does."""
    from bayesmeta.engines.nuts import ConvergenceWarning, SamplerSettings

    settings = SamplerSettings(chains=2, draws=100, tune=100)
    with pytest.warns(ConvergenceWarning, match="did not converge") as record:
        result = bayesmeta.analyze(bayesmeta.load_example("bcg"), seed=1, settings=settings)
    assert not result.converged and result.diagnostics.refitted
    assert record[0].filename == __file__  # points at the caller's line
