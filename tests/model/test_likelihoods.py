"""The likelihood registry: each likelihood is found for its data, refuses data it cannot
fit with a one-line reason, and the Poisson-normal PyMC model has the density it states."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesmeta.errors import OptionError
from bayesmeta.io.examples import load_example
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.likelihoods import LIKELIHOODS, NAMES, native, resolve

NATIVE = {
    "bcg": "binomial-normal",
    "pritz1997_prop": "proportion",
    "nielweise2008": "poisson-normal",
    "steurer2006_hr": "normal-normal",
    "bcg_mixed": "mixed-binomial-normal",
}


@pytest.mark.parametrize(("example", "name"), NATIVE.items())
def test_auto_picks_the_likelihood_native_to_the_data(example, name):
    data = load_example(example)
    assert native(data).name == name == resolve(data).name
    assert resolve(data, "normal-normal").name == "normal-normal"  # any data, as effect sizes


@pytest.mark.parametrize("name", ["binomial-normal", "proportion", "poisson-normal"])
def test_a_count_likelihood_refuses_other_data_in_one_line(name):
    data = load_example("steurer2006_hr")
    with pytest.raises(OptionError, match=f"^model {name} needs ") as err:
        resolve(data, name)
    assert "\n" not in str(err.value)


def test_an_unknown_model_lists_the_registered_ones():
    with pytest.raises(OptionError) as err:
        resolve(load_example("bcg"), "poisson")
    assert all(name in str(err.value) for name in NAMES)


def test_only_the_kernels_likelihoods_name_a_kernel():
    kernels = {name: lik.kernel for name, lik in LIKELIHOODS.items()}
    assert kernels == {
        "binomial-normal": "bn",
        "proportion": "prop",
        "poisson-normal": None,  # the PyMC path samples it
        "mixed-binomial-normal": None,
        "network-binomial": None,
        "normal-normal": None,
    }


def test_poisson_normal_log_density_is_poisson_plus_priors():
    """The built model's joint log density at a point equals scipy's Poisson and normal log
    densities (tau on the log scale, with its Jacobian), an independent route."""
    from bayesmeta.engines.pymc import build

    data = load_example("nielweise2008")
    priors = {"mu": "normal(0, 10)", "tau": "half-normal(0.5)", "baseline": "normal(0, 10)"}
    model = build(ModelSpec.describe(data, priors=priors))
    k = data.k
    rng = np.random.default_rng(1)
    alpha, z, z_new = rng.normal(-6, 0.5, k), rng.normal(size=k), rng.normal()
    mu, tau = -0.4, 0.3
    point = {"alpha": alpha, "mu": mu, "tau_log__": np.log(tau), "z": z, "z_new": z_new}
    theta = mu + tau * z
    terms = [
        stats.poisson.logpmf(data.control_events, data.control_time * np.exp(alpha)),
        stats.poisson.logpmf(data.treatment_events, data.treatment_time * np.exp(alpha + theta)),
        stats.norm(0, 10).logpdf(alpha),
        stats.norm(0, 10).logpdf(mu),
        stats.halfnorm(scale=0.5).logpdf(tau) + np.log(tau),  # Jacobian of tau = exp(value)
        stats.norm.logpdf(z),
        stats.norm.logpdf(z_new),
    ]
    logps = model.point_logps(point, round_vals=15)
    for name, term in (("control_events", terms[0]), ("treatment_events", terms[1])):
        assert logps[name] == pytest.approx(float(np.sum(term)), rel=1e-12)
    # PyMC's normal log density carries log(2 pi) to about 3e-8 per value
    expected = sum(float(np.sum(t)) for t in terms)
    assert float(model.compile_logp()(point)) == pytest.approx(expected, abs=1e-6)


def test_the_exact_engines_are_chosen_from_the_registry():
    """auto is exact only where the likelihood's default is; --engine exact covers the
    likelihoods an exact engine integrates (rates too)."""
    from bayesmeta.summaries import exact, exact_binomial
    from bayesmeta.summaries.crosscheck import quadrature
    from bayesmeta.workflows.analyze import resolve_engine

    auto = {name: resolve_engine(name) for name in NAMES}
    assert auto == {n: "exact" if LIKELIHOODS[n].exact_default else "nuts" for n in NAMES}
    assert [n for n in NAMES if auto[n] == "exact"] == ["normal-normal"]
    for example in ("bcg", "nielweise2008"):
        spec = ModelSpec.describe(load_example(example))
        assert resolve_engine(spec.likelihood, "exact") == "exact"
        assert quadrature(spec) is exact_binomial
    spec = ModelSpec.describe(load_example("bcg"), model="normal-normal")
    assert quadrature(spec) is exact
