"""A PyMC user's code as written (issue 17, item 5): PyMC-style priors, builders taking what
``bayesmeta.load`` takes, ``pm.set_data`` to another number of studies, then
``bayesmeta.sample``; and the compile cache after such a swap.

Sampling tests use short chains and fixed seeds; where draws are compared they must be
identical (same compiled density, same seed), not close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmeta as bm
from bayesmeta import Prior
from bayesmeta.model.priors import parse_prior
from tests.conftest import EXAMPLES

SHORT = {"draws": 200, "tune": 200, "chains": 2}
quiet = pytest.mark.filterwarnings("ignore::bayesmeta.engines.nuts.ConvergenceWarning")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / "bcg.csv")


def _set_counts(model, data) -> None:
    import pymc as pm

    with model:
        pm.set_data(
            {
                "treatment_total": data.treatment_total,
                "control_total": data.control_total,
                "treatment_events_data": data.treatment_events,
                "control_events_data": data.control_events,
            },
            coords={"study": list(data.study)},
        )


@pytest.mark.parametrize(
    ("pymc_style", "text"),
    [
        (("HalfNormal", {"sigma": 0.5}), "half-normal(0.5)"),
        (("HalfCauchy", {"beta": 1.0}), "half-cauchy(1)"),
        (("Normal", {"sigma": 2.82}), "normal(0, 2.82)"),  # PyMC's default mu=0
        (("Normal", {"mu": 0.1, "sigma": 2}), "normal(0.1, 2)"),
        (("HalfStudentT", {"nu": 3, "sigma": 0.5}), "half-student-t(3, 0.5)"),
        (("Exponential", {"lam": 2}), "exponential(2)"),
        (("LogNormal", {"mu": -1.5, "sigma": 0.8}), "lognormal(-1.5, 0.8)"),
        (("Uniform", {"lower": 0, "upper": 2}), "uniform(0, 2)"),
        (("half-normal", {"sigma": 0.5}), "half-normal(0.5)"),
    ],
)
def test_pymc_names_and_keywords_give_the_prior_of_the_text_form(pymc_style, text) -> None:
    name, keywords = pymc_style
    prior = Prior(name, **keywords)
    assert prior == parse_prior(text) and hash(prior) == hash(parse_prior(text))
    assert str(prior) == text


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Prior("HalfNormal", tau=1), "has no parameter tau; it takes sigma"),
        (lambda: Prior("HalfCauchy"), "needs beta/scale"),
        (lambda: Prior("Gamma", alpha=2), "unknown prior family 'Gamma'"),
        (lambda: Prior("HalfNormal", (0.5,), sigma=0.5), "not both"),
        (lambda: Prior("HalfNormal", sigma=-1), "sigma must be positive"),
    ],
)
def test_a_pymc_style_prior_that_cannot_be_read_says_why(make, fragment) -> None:
    with pytest.raises(bm.OptionError, match=fragment):
        make()


def test_builders_accept_a_dataframe_and_a_path_like_load(frame) -> None:
    pymc_style = {"tau": Prior("HalfNormal", sigma=0.5)}
    from_frame = bm.models.binomial_normal(frame, priors=pymc_style)
    from_path = bm.models.binomial_normal(str(EXAMPLES / "bcg.csv"), priors=pymc_style)
    from_data = bm.models.binomial_normal(bm.load(frame), priors={"tau": "half-normal(0.5)"})
    from bayesmeta.engines.pymc import spec_of

    specs = [spec_of(m) for m in (from_frame, from_path, from_data)]
    assert specs[0].priors == specs[1].priors == specs[2].priors
    for spec in specs[1:]:
        pd.testing.assert_frame_equal(
            spec.data.to_frame(), specs[0].data.to_frame(), check_dtype=False
        )
    assert list(from_frame.coords["study"]) == list(frame["study"])
    with pytest.raises(TypeError, match="data must be"):
        bm.models.binomial_normal([1, 2, 3])


@pytest.mark.sampling
@quiet
def test_set_data_to_another_number_of_studies_then_sample(frame) -> None:
    """The "Done when" sequence: builder with a PyMC-style prior, pm.set_data to 8 of the 13
    trials, bm.sample: the draws are those of the 8 trials' own model (same seed)."""
    model = bm.models.binomial_normal(frame, priors={"tau": Prior("HalfNormal", sigma=0.5)})
    eight = bm.load(frame.iloc[:8])
    _set_counts(model, eight)
    swapped = bm.sample(model, seed=3, **SHORT)
    direct = bm.sample(bm.models.binomial_normal(eight), seed=3, **SHORT)
    assert swapped["posterior"]["theta"].sizes["study"] == 8
    np.testing.assert_array_equal(swapped["posterior"]["mu"], direct["posterior"]["mu"])


@pytest.mark.sampling
@quiet
def test_a_fresh_model_after_set_data_on_the_first_reuses_its_compilation(frame) -> None:
    """Issue 17: after pm.set_data to another number of studies on an extended model, a fresh
    model of the original structure crashed bayesmeta.sample (nutpie RuntimeError: "Size of
    initial value for alpha is (8,), expected [13]"): the cached compilation started from the
    first model's shapes. Now its draws equal those of the first model (same seed)."""
    import pymc as pm

    from bayesmeta.engines import nuts

    def extended(data):
        model = bm.models.binomial_normal(data)
        with model:
            pm.Deterministic("odds_ratio_new", pm.math.exp(model["theta_new"]))
        return model

    data = bm.load(frame)
    first = extended(data)
    before = bm.sample(first, seed=4, **SHORT)
    compiled = dict(nuts._COMPILED)
    _set_counts(first, bm.load(frame.iloc[:8]))
    again = bm.sample(extended(data), seed=4, **SHORT)
    assert compiled == nuts._COMPILED  # reused, not compiled again
    for name in ("mu", "tau", "odds_ratio_new"):
        np.testing.assert_array_equal(again["posterior"][name], before["posterior"][name])
