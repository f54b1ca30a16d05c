"""User mistakes are ``ValueError``s (as in PyMC and scikit-learn), and the package declares
its type hints (PEP 561)."""

from __future__ import annotations

from importlib.resources import files

import pandas as pd
import pytest

import bayesmeta
from bayesmeta.errors import BayesmetaError, DataError, OptionError


@pytest.mark.parametrize("error", [BayesmetaError, DataError, OptionError])
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
