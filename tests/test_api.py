"""bayesmeta as a biostatistician writing PyMC uses it: each point of issue 10's "Why".

Reference values: ``tests/reference/bcg.metafor.json`` (R 4.2.2, metafor 3.8-1, see
``tests/reference/README.md``). Sampling tests use short chains and fixed seeds; where draws are
compared, they must be identical (same compiled density, same seed), not close.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta.models import binomial_normal, sample
from tests.conftest import EXAMPLES, reference

SHORT = {"draws": 300, "tune": 300, "chains": 2}
# short chains may miss the ESS target; these tests compare draws, not their quality
quiet = pytest.mark.filterwarnings("ignore::bayesmeta.engines.nuts.ConvergenceWarning")


@pytest.fixture(scope="module")
def bcg():
    return bayesmeta.load_example("bcg")


def _altered(data, shift: int = 1):
    """The same trials with one more treatment event in each (a dataset of the same size)."""
    from dataclasses import replace

    return replace(
        data,
        treatment_events=np.minimum(data.treatment_events + shift, data.treatment_total),
        study=tuple(f"{s} (altered)" for s in data.study),
    )


def test_the_public_api_is_at_the_top_and_its_hints_resolve() -> None:
    for name in ("load", "load_example", "analyze", "classic", "sample", "models", "PriorSet"):
        assert name in bayesmeta.__all__
    for name in bayesmeta.__all__:
        obj = getattr(bayesmeta, name)
        if inspect.isfunction(obj):
            typing.get_type_hints(obj)
        elif inspect.isclass(obj):
            typing.get_type_hints(obj.__init__)
    for name in bayesmeta.models.__all__:
        typing.get_type_hints(getattr(bayesmeta.models, name))


def test_import_bayesmeta_imports_no_pymc() -> None:
    code = (
        "import sys, bayesmeta; print(sorted(m for m in ('pymc', 'pytensor') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_analyze_and_classic_take_a_dataframe_or_a_path() -> None:
    ref = reference("bcg", "metafor")["re_dl"]
    path = EXAMPLES / "bcg.csv"
    for source in (path, str(path), pd.read_csv(path)):
        dl = bayesmeta.classic(source).estimates["random_dl"]
        assert dl.estimate == pytest.approx(ref["est"], rel=1e-6)
    exact = bayesmeta.analyze(pd.read_csv(path), model="normal-normal")
    assert exact.engine == "exact" and exact.posterior.mu is not None


def test_a_study_index_is_kept() -> None:
    frame = pd.read_csv(EXAMPLES / "bcg.csv").set_index("study")
    assert bayesmeta.load(frame).study == tuple(frame.index)


def test_priors_accept_the_command_lines_text_everywhere(bcg) -> None:
    assert bayesmeta.PriorSet(tau="half-cauchy(0.5)").tau == bayesmeta.Prior("half-cauchy", (0.5,))
    model = binomial_normal(bcg, priors={"tau": "half-cauchy(0.5)", "mu": "normal(0, 1)"})
    assert type(model["tau"].owner.op).__name__ == "HalfCauchyRV"
    assert type(model["mu"].owner.op).__name__ == "NormalRV"
    assert bayesmeta.ModelSpec.describe(bcg, priors={"tau": "half-normal(1)"}).priors.tau == (
        bayesmeta.Prior("half-normal", (1.0,))
    )


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda d: bayesmeta.analyze(123), TypeError, "data must be"),
        (lambda d: bayesmeta.classic([1, 2]), TypeError, "data must be"),
        (lambda d: bayesmeta.analyze(d, frequentist="random_dl"), TypeError, "not a string"),
        (lambda d: bayesmeta.SamplerSettings(draws=0), bayesmeta.OptionError, "draws must be"),
        (lambda d: bayesmeta.SamplerSettings(seed=-1), bayesmeta.OptionError, "seed must be"),
        (lambda d: bayesmeta.SamplerSettings(chains=2.5), TypeError, "chains must be an integer"),
        (lambda d: bayesmeta.PriorSet(tau=3), TypeError, "Prior or prior text"),
        (lambda d: bayesmeta.PriorSet(tau="weibull(1, 1)"), bayesmeta.OptionError, "unknown prior"),
        (lambda d: binomial_normal(d, priors={"sigma": "normal(0, 1)"}), bayesmeta.OptionError,
         "unknown prior name"),
        (lambda d: bayesmeta.analyze(d, model="glm"), bayesmeta.OptionError, "unknown model"),
        (lambda d: bayesmeta.analyze(d, settings={"draws": 10}), TypeError, "SamplerSettings"),
    ],
)  # fmt: skip
def test_wrong_arguments_raise_typed_errors(bcg, call, error, fragment) -> None:
    with pytest.raises(error, match=fragment):
        call(bcg)
    assert issubclass(bayesmeta.OptionError, bayesmeta.BayesmetaError)


def test_summary_and_to_frame_are_tidy_tables(bcg) -> None:
    result = bayesmeta.analyze(bcg, model="normal-normal", hdi=True)
    frame = result.summary()
    post = result.posterior
    assert list(frame.index[:5]) == [
        "mu",
        "tau",
        "theta_new",
        "odds_ratio",
        "predictive_odds_ratio",
    ]
    assert frame.loc["mu", "median"] == post.mu.median
    assert frame.loc["odds_ratio", "ci_upper"] == post.pooled.interval[1]
    assert frame.loc[f"theta[{bcg.study[0]}]", "mean"] == post.theta[bcg.study[0]].mean
    assert {"hdi_lower", "hdi_upper"} <= set(frame.columns)
    assert frame.attrs["level"] == 0.95
    methods = bayesmeta.classic(bcg).to_frame()
    ref = reference("bcg", "metafor")
    assert methods.loc["random_reml", "tau2"] == pytest.approx(ref["re_reml"]["tau2"], rel=1e-6)
    assert methods.loc["random_dl", "ci_lower"] == pytest.approx(ref["re_dl"]["ci_lb"], rel=1e-6)
    assert methods.loc["egger", "z"] == pytest.approx(ref["egger"]["z"], rel=1e-6)


@pytest.mark.sampling
def test_posterior_predictive_with_the_builder_model(bcg) -> None:
    """Draws of the cached-kernel path carry the builder model's data names and dtypes."""
    import pymc as pm

    result = bayesmeta.analyze(bcg, seed=4, settings=bayesmeta.SamplerSettings(**SHORT))
    predictive = pm.sample_posterior_predictive(
        result.idata, model=binomial_normal(bcg), progressbar=False, random_seed=1
    )
    events = predictive["posterior_predictive"]["treatment_events"]
    assert events.shape == (2, 300, bcg.k)
    # posterior predictive mean of each trial's treatment events is close to what was observed
    mean = np.asarray(events.mean(("chain", "draw")))
    assert np.all(np.abs(mean - bcg.treatment_events) <= 4 * np.sqrt(bcg.treatment_events + 4))


@pytest.mark.sampling
@quiet
def test_set_data_swaps_the_dataset_for_the_kernels(bcg) -> None:
    import pymc as pm

    from bayesmeta.engines import nuts

    new = _altered(bcg)
    model = binomial_normal(bcg)
    with model:
        pm.set_data(
            {"treatment_events_data": new.treatment_events},
            coords={"study": list(new.study)},
        )
    swapped = sample(model, seed=5, **SHORT)
    direct, _ = nuts.draw(bayesmeta.ModelSpec.describe(new), nuts.SamplerSettings(seed=5, **SHORT))
    np.testing.assert_array_equal(swapped["posterior"]["mu"], direct["posterior"]["mu"])
    assert list(swapped["posterior"]["theta"].coords["study"].values) == list(new.study)


def _with_derived(data):
    import pymc as pm

    model = binomial_normal(data)
    with model:
        pm.Deterministic("odds_ratio_new", pm.math.exp(model["theta_new"]))
    return model


@pytest.mark.sampling
@quiet
def test_an_extended_model_is_compiled_once_per_structure(bcg) -> None:
    """The second sample of an extended model on new data reuses the first compilation, and
    its draws equal those of a fresh compilation."""
    from bayesmeta.engines import nuts

    sample(_with_derived(bcg), seed=6, **SHORT)
    compiled = dict(nuts._COMPILED)
    reused = sample(_with_derived(_altered(bcg)), seed=6, **SHORT)
    assert compiled == nuts._COMPILED  # nothing new was compiled
    nuts._COMPILED.clear()
    fresh = sample(_with_derived(_altered(bcg)), seed=6, **SHORT)
    for name in ("mu", "odds_ratio_new"):
        np.testing.assert_array_equal(reused["posterior"][name], fresh["posterior"][name])
    assert reused["posterior"]["theta"].coords["study"].values[0].endswith("(altered)")


@pytest.mark.sampling
def test_per_study_log_likelihood_for_loo(bcg) -> None:
    import arviz_stats as azs
    import pymc as pm

    settings = bayesmeta.SamplerSettings(**SHORT)
    result = bayesmeta.analyze(bcg, seed=7, settings=settings, log_likelihood=True)
    ll = result.idata["log_likelihood"]
    assert list(ll.data_vars) == ["per_study"] and ll["per_study"].sizes["study"] == bcg.k
    arms = pm.compute_log_likelihood(
        result.idata, model=binomial_normal(bcg), extend_inferencedata=False, progressbar=False
    )
    np.testing.assert_allclose(
        ll["per_study"], arms["control_events"] + arms["treatment_events"], rtol=1e-12
    )
    loo = azs.loo(result.idata)  # no var_name needed: one variable, studies as units
    assert np.asarray(loo.elpd_i).size == bcg.k


@pytest.mark.sampling
def test_draws_record_their_provenance_and_survive_netcdf(bcg, tmp_path) -> None:
    import json

    import xarray as xr

    settings = bayesmeta.SamplerSettings(**SHORT)
    result = bayesmeta.analyze(bcg, seed=8, settings=settings, priors={"tau": "half-normal(1)"})
    path = tmp_path / "draws.nc"
    result.idata.to_netcdf(path, engine="h5netcdf")
    tree = xr.open_datatree(path, engine="h5netcdf")
    attrs = tree.attrs
    assert attrs["bayesmeta_version"] == bayesmeta.__version__
    assert attrs["bayesmeta_model"] == "binomial-normal" and attrs["bayesmeta_seed"] == 8
    assert json.loads(attrs["bayesmeta_priors"])["tau"] == "half-normal(1)"
    assert json.loads(attrs["bayesmeta_sampler"])["draws"] == 300
    np.testing.assert_array_equal(tree["posterior"]["mu"], result.idata["posterior"]["mu"])


@pytest.mark.sampling
def test_meta_regression_samples_without_divergences_at_the_builder_defaults(bcg) -> None:
    """bcg ~ ablat: 67 divergences at pm.sample's target_accept 0.9 in the issue; sample's
    default for models with covariates is 0.99 (the docstring says so)."""
    mods = bayesmeta.moderators(bcg.covariates, names=["ablat"])
    idata = sample(binomial_normal(bcg, moderators=mods), seed=1, draws=1000, tune=1000)
    assert int(idata["sample_stats"]["diverging"].sum()) == 0
    assert idata.attrs["bayesmeta_converged"] == 1


@pytest.mark.sampling
def test_the_research_code_example_runs() -> None:
    script = EXAMPLES / "research_code.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ConvergenceWarning" not in out.stderr
    assert "log OR per degree of latitude" in out.stdout
