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
        (lambda: Prior("Gamma", alpha=2), r"gamma \(Gamma\) needs beta/rate"),
        (lambda: Prior("Weibull", alpha=2), "unknown prior family 'Weibull'"),
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


def test_py_typed_marks_the_package_as_typed() -> None:
    """PEP 561: type checkers read the hints only if ``py.typed`` is in the package (hatchling
    puts every file of the package folder in the wheel; checked by building it once)."""
    from pathlib import Path

    import bayesmeta

    assert (Path(bayesmeta.__file__).parent / "py.typed").is_file()


def test_data_and_option_errors_are_value_errors() -> None:
    assert issubclass(bm.DataError, ValueError) and issubclass(bm.OptionError, ValueError)
    assert issubclass(bm.DataError, bm.BayesmetaError)
    assert issubclass(bm.ConvergenceWarning, UserWarning)


def _no_sampling(monkeypatch) -> None:
    """Make any attempt to sample fail the test: the errors must come first."""
    from bayesmeta.engines import nuts

    def refuse(*args, **kwargs):
        raise AssertionError("sampled before checking the arguments")

    monkeypatch.setattr(nuts, "sample", refuse)
    monkeypatch.setattr(nuts, "draw", refuse)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (
            lambda d: bm.analyze(d, moderators=["ablat"]),
            TypeError,
            r"bayesmeta.moderators\(data.covariates, names=\['ablat'\]\)",
        ),
        (lambda d: bm.analyze(d, level=95), bm.OptionError, r"for 95% write 0.95"),
        (lambda d: bm.analyze(d, level="0.9"), TypeError, "level must be a number"),
        (lambda d: bm.sample("x"), TypeError, "pymc.Model or a bayesmeta ModelSpec"),
        (lambda d: bm.sample(2000), TypeError, "draws, tune, ... by keyword"),
        (lambda d: bm.sample(), TypeError, "inside `with model:`"),
        (
            lambda d: bm.sample(bm.ModelSpec.describe(d), step=None, init="adapt_diag"),
            TypeError,
            "cannot honour pm.sample's argument.s. step, init",
        ),
        (
            lambda d: bm.sample(bm.ModelSpec.describe(d), drawz=10),
            TypeError,
            "unexpected keyword argument.s. drawz",
        ),
        (
            lambda d: bm.sample(bm.ModelSpec.describe(d), idata_kwargs={"save_warmup": True}),
            TypeError,
            "cannot honour idata_kwargs 'save_warmup'",
        ),
        (
            lambda d: bm.sample(bm.ModelSpec.describe(d), seed=1, random_seed=2),
            TypeError,
            "not both",
        ),
    ],
)
def test_wrong_arguments_fail_before_any_sampling(monkeypatch, call, error, fragment) -> None:
    _no_sampling(monkeypatch)
    with pytest.raises(error, match=fragment):
        call(bm.load_example("bcg"))


@pytest.mark.sampling
def test_sample_takes_pm_sample_arguments_and_the_model_from_context(recwarn) -> None:
    """random_seed is seed; the model may come from the `with` block; idata_kwargs
    log_likelihood gives PyMC's pointwise log likelihood (Binomial logpmf by hand)."""
    from scipy import stats

    data = bm.load_example("bcg")
    model = bm.models.binomial_normal(data)
    by_seed = bm.sample(model, seed=9, **SHORT)
    with model:
        idata = bm.sample(
            random_seed=9, progressbar=False, idata_kwargs={"log_likelihood": True}, **SHORT
        )
    np.testing.assert_array_equal(idata["posterior"]["mu"], by_seed["posterior"]["mu"])
    post = idata["posterior"]
    alpha = np.asarray(post["alpha"])
    p_t = 1 / (1 + np.exp(-(alpha + np.asarray(post["theta"]))))
    expected = stats.binom.logpmf(data.treatment_events, data.treatment_total, p_t)
    got = np.asarray(idata["log_likelihood"]["treatment_events"])
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert "control_events" in idata["log_likelihood"]


@pytest.mark.sampling
def test_analyze_warns_when_the_refit_still_fails(monkeypatch) -> None:
    """200 draws cannot reach ESS 400 over 2 chains: the refit fails too, and analyze says so
    with a ConvergenceWarning (as pm.sample would), the result marked not converged."""
    settings = bm.SamplerSettings(draws=100, tune=100, chains=2)
    with pytest.warns(bm.ConvergenceWarning, match="did not converge even after the refit"):
        result = bm.analyze(bm.load_example("bcg"), seed=2, settings=settings)
    assert not result.converged and result.diagnostics.refitted


def test_events_t_and_n_t_are_read_like_events_c_and_n_c() -> None:
    text = "study,events_t,n_t,events_c,n_c\nA,3,50,6,50\nB,0,20,2,21\n"
    import io

    data = bm.load(pd.read_csv(io.StringIO(text)))
    assert list(data.treatment_events) == [3, 0] and list(data.treatment_total) == [50, 20]
    assert list(data.control_events) == [6, 2] and list(data.control_total) == [50, 21]


def test_influence_sensitivity_and_the_turner_table_are_exported() -> None:
    from bayesmeta.workflows.influence import influence
    from bayesmeta.workflows.sensitivity import prior_sensitivity

    assert bm.influence is influence and bm.prior_sensitivity is prior_sensitivity
    table = bm.turner_table()
    assert len(table) == 16 * 5 + 1  # Table IV: 16 outcome types x 5 comparisons, and "any"
    # Turner et al. 2015 (Stat Med 34:984-998), Table IV, first cell; p. 993 for "any"
    first = table.iloc[0]
    assert (first.outcome, first.log_tau2_mean, first.log_tau2_sd) == (
        "all-cause mortality",
        -3.95,
        1.34,
    )
    assert tuple(table.iloc[-1][["log_tau2_mean", "log_tau2_sd"]]) == (-2.56, 1.74)
    for row in table.itertuples():  # each row's text is the log-normal on tau it stands for
        prior = bm.parse_prior(row.prior)
        assert prior.params == pytest.approx((row.log_tau2_mean / 2, row.log_tau2_sd / 2))
        assert bm.turner_prior(row.outcome, row.comparison) == prior


@pytest.mark.sampling
@quiet
def test_ones_own_draws_become_an_analysis_result() -> None:
    """The draws of an analysis, handed back as one's own DataTree, give through from_draws
    the same summary table, probabilities, diagnostics and JSON posterior; draws made with
    bm.sample are read the same way."""
    data = bm.load_example("bcg")
    theirs = bm.analyze(data, seed=21, settings=bm.SamplerSettings(**SHORT))
    mine = bm.from_draws(theirs.idata, data)
    pd.testing.assert_frame_equal(mine.summary(level=0.8), theirs.summary(level=0.8))
    assert mine.to_dict()["posterior"] == theirs.to_dict()["posterior"]
    assert mine.probability("odds_ratio", below=0.8) == theirs.probability("odds_ratio", below=0.8)
    assert mine.diagnostics.rhat_max == theirs.diagnostics.rhat_max
    idata = bm.sample(bm.models.binomial_normal(data), random_seed=21, **SHORT)
    own = bm.from_draws(idata, data)
    mu = np.asarray(idata["posterior"]["mu"]).ravel()
    assert own.posterior.mu.median == np.median(mu)
    figure = bm.plots.forest(own)  # presentation reads the result as it reads analyze's
    assert figure.axes
    del idata["posterior"]["theta_new"]
    with pytest.raises(bm.OptionError, match="the draws lack theta_new"):
        bm.from_draws(idata, data)
