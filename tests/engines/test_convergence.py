"""The trust decision: which draws pass the convergence checks, and when a fit is refitted.

Draws are made by hand with known behaviour, so each check is exercised on its own: chains
stuck at different levels (R-hat), autocorrelated chains with an effective sample size between
100 and 400 (the ESS threshold), divergent transitions, and too few draws. The refit rule is
checked with a stand-in sampler that returns chosen draws.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayesmeta.engines import nuts
from bayesmeta.engines.nuts import ESS_MIN, RHAT_MAX, SamplerSettings, diagnose, fit


def tree(mu: np.ndarray, diverging: int = 0) -> xr.DataTree:
    """A DataTree of draws ``mu`` (chain, draw) with ``diverging`` divergent transitions."""
    chains, draws = mu.shape
    flags = np.zeros(chains * draws, dtype=bool)
    flags[:diverging] = True
    posterior = xr.Dataset({"mu": (("chain", "draw"), mu)})
    posterior.attrs["inference_library"] = "nutpie"
    stats = xr.Dataset({"diverging": (("chain", "draw"), flags.reshape(chains, draws))})
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def ar1(phi: float, chains: int, draws: int, seed: int) -> np.ndarray:
    """Stationary AR(1) chains with unit variance: ESS is about N (1 - phi) / (1 + phi)."""
    rng = np.random.default_rng(seed)
    out = np.empty((chains, draws))
    out[:, 0] = rng.standard_normal(chains)
    scale = np.sqrt(1 - phi**2)
    for t in range(1, draws):
        out[:, t] = phi * out[:, t - 1] + scale * rng.standard_normal(chains)
    return out


def test_well_mixed_draws_pass() -> None:
    d = diagnose(tree(np.random.default_rng(1).standard_normal((4, 1000))))
    assert d.converged and d.problems == ()
    assert d.rhat_max < RHAT_MAX and d.ess_bulk_min > 3000


def test_chains_at_different_levels_fail_on_rhat() -> None:
    mu = np.random.default_rng(2).standard_normal((4, 1000)) + np.array([[0], [0], [0], [0.5]])
    d = diagnose(tree(mu))
    assert not d.converged
    assert d.rhat_max > RHAT_MAX and any(p.startswith("R-hat") for p in d.problems)


def test_an_ess_between_100_and_400_fails() -> None:
    """About 330 effective draws of 16,000 with R-hat below 1.01: the ESS alone fails, below
    the threshold of 400 (and above 100, so a lower threshold would be caught)."""
    d = diagnose(tree(ar1(0.96, 4, 4000, seed=3)))
    assert 100 < min(d.ess_bulk_min, d.ess_tail_min) < ESS_MIN
    assert d.rhat_max < RHAT_MAX
    assert not d.converged and any(p.startswith("min ESS") for p in d.problems)


def test_divergences_fail_even_when_the_draws_look_fine() -> None:
    d = diagnose(tree(np.random.default_rng(4).standard_normal((4, 1000)), diverging=3))
    assert not d.converged and d.divergences == 3
    assert d.problems == ("3 divergent transition(s)",)


def test_short_chains_fail_on_ess() -> None:
    d = diagnose(tree(np.random.default_rng(5).standard_normal((4, 50))))
    assert not d.converged and d.ess_bulk_min <= 200


class StandIn:
    """Replaces nuts.sample: returns the given draws in turn and records the settings used."""

    def __init__(self, *draws: np.ndarray) -> None:
        self.draws, self.settings = list(draws), []

    def __call__(self, model, settings, compiled=None, **kwargs):
        from bayesmeta.engines.draws import Draws

        self.settings.append(settings)
        return Draws.from_datatree(tree(self.draws.pop(0))), 0.1


@pytest.fixture
def stand_in(monkeypatch):
    def install(*draws: np.ndarray) -> StandIn:
        sampler = StandIn(*draws)
        monkeypatch.setattr(nuts, "sample", sampler)
        monkeypatch.setattr(nuts, "compile_model", lambda model: None)
        return sampler

    return install


GOOD = np.random.default_rng(6).standard_normal((4, 1000))
BAD = ar1(0.99, 4, 1000, seed=7)


def test_a_converged_fit_is_not_refitted(stand_in) -> None:
    sampler = stand_in(GOOD)
    result = fit(object(), SamplerSettings())
    assert len(sampler.settings) == 1
    assert result.diagnostics.converged and not result.diagnostics.refitted


def test_a_failed_fit_is_refitted_once_with_stricter_settings(stand_in) -> None:
    sampler = stand_in(BAD, GOOD)
    result = fit(object(), SamplerSettings(tune=500, target_accept=0.8))
    first, second = sampler.settings
    assert (second.target_accept, second.tune) == (0.99, 1000)
    assert second.seed == first.seed and second.draws == first.draws
    assert result.diagnostics.converged and result.diagnostics.refitted
    assert result.settings == second


def test_a_refit_that_fails_too_is_marked_not_converged(stand_in) -> None:
    sampler = stand_in(BAD, BAD)
    result = fit(object(), SamplerSettings())
    assert len(sampler.settings) == 2
    assert result.diagnostics.refitted and not result.diagnostics.converged


def test_the_default_target_accept_is_chosen_for_the_model() -> None:
    """None (the default of the API, the command line and specs) is 0.99 for a model with
    covariates, whose funnel diverges at 0.9 (docs/tutorials/bcg.md checks that at build
    time), else 0.9; a value given is kept, also for the refit's floor of 0.99."""
    import bayesmeta
    from bayesmeta.model.description import ModelSpec

    bcg = bayesmeta.load_example("bcg")
    plain = ModelSpec.describe(bcg)
    regression = ModelSpec.describe(
        bcg, moderators=bayesmeta.moderators(bcg.covariates, names=["ablat"])
    )
    assert SamplerSettings().target_accept is None
    assert SamplerSettings().for_model(plain).target_accept == 0.9
    assert SamplerSettings().for_model(regression).target_accept == 0.99
    assert SamplerSettings(target_accept=0.8).for_model(regression).target_accept == 0.8
    assert SamplerSettings(target_accept=0.995).stricter().target_accept == 0.995


def test_fit_samples_at_the_target_accept_chosen_for_the_model(stand_in) -> None:
    import bayesmeta
    from bayesmeta.model.description import ModelSpec

    bcg = bayesmeta.load_example("bcg")
    mods = bayesmeta.moderators(bcg.covariates, names=["ablat"])
    sampler = stand_in(GOOD)
    result = fit(ModelSpec.describe(bcg, moderators=mods), SamplerSettings())
    assert [s.target_accept for s in sampler.settings] == [0.99]
    assert result.settings.target_accept == 0.99 == result.diagnostics.target_accept
