"""Student-t random effects (``--random-effects t``) against a long Stan run, and where they are
refused.

Reference: tests/reference/stan_student_t.json from tests/reference/stan_student_t.R (R 4.2.2,
rstan 2.21, metafor 3.8-1): the same models, ``theta_i = mu + tau * z_i``,
``z_i ~ Student-t(nu, 0, 1)``, ``nu ~ Gamma(2, 0.1)``, ``mu ~ N(0, 10^2)``,
``tau ~ HalfNormal(0.5)`` (binomial-normal: ``alpha_i ~ N(0, 10^2)``; normal-normal: on
``escalc(measure = "OR")`` of examples/bcg.csv); 4 chains x 9,000 draws, Monte Carlo error of
its quantiles about 0.005 (nu's upper tail, prior-dominated, about 0.8). Our fits are small
and seeded (4 x 2,000 draws); each tolerance is 3 combined Monte Carlo SEs: our quantile's
(ArviZ) and the reference's, ``sqrt(p (1 - p) / ESS) / density`` with its smallest ESS and the
density from our draws.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import bayesmeta
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.model.description import ModelSpec
from tests.conftest import EXAMPLES, REFERENCE, fails_cleanly

PRIORS = {"mu": "normal(0, 10)", "tau": "half-normal(0.5)", "baseline": "normal(0, 10)"}
STAN = json.loads((REFERENCE / "stan_student_t.json").read_text())


def _fit(model: str) -> bayesmeta.AnalysisResult:
    settings = SamplerSettings(chains=4, draws=2000, tune=1000, target_accept=0.95)
    return bayesmeta.analyze(
        EXAMPLES / "bcg.csv",
        model=model,
        seed=20261204,
        priors=PRIORS,
        settings=settings,
        random_effects="t",
        frequentist=(),
    )


@pytest.mark.sampling
@pytest.mark.parametrize("model", ["binomial-normal", "normal-normal"])
def test_posterior_quantiles_match_stan(model: str) -> None:
    import arviz_stats as azs

    result = _fit(model)
    assert result.engine == "nuts" and result.spec.random_effects == "t"
    assert result.diagnostics.converged, result.diagnostics.problems
    ref = STAN[model]
    for name in ("mu", "tau", "nu", "theta_new"):
        summary = getattr(result.posterior, name)
        draws = np.asarray(result.idata["posterior"][name])
        for q, ours, theirs in (
            (0.025, summary.interval[0], ref[name]["q025"]),
            (0.5, summary.median, ref[name]["median"]),
            (0.975, summary.interval[1], ref[name]["q975"]),
        ):
            own = float(azs.mcse(draws, method="quantile", prob=q))
            lo, hi = np.quantile(draws, [q - 0.01, q + 0.01])
            theirs_se = np.sqrt(q * (1 - q) / ref["n_eff_min"]) * (hi - lo) / 0.02
            tol = 3 * np.hypot(own, theirs_se)
            assert ours == pytest.approx(theirs, abs=tol), (name, q, tol)
    assert result.posterior.prob_mu_below_0 == pytest.approx(ref["p_mu_below_0"], abs=0.01)
    out = result.to_dict()
    assert out["random_effects"] == "t" and out["priors"]["nu"] == "gamma(2, 0.1)"
    assert out["posterior"]["nu"] == result.posterior.nu.to_dict()
    assert "nu" in result.summary(level=0.8).index


def test_the_t_model_is_student_t_on_every_likelihood() -> None:
    """Every likelihood's PyMC model gets ``nu`` and Student-t ``z``/``z_new`` (no sampling)."""
    import pymc as pm

    from bayesmeta.engines.pymc import build
    from bayesmeta.model.likelihoods import NAMES

    covered = set()
    for example in ("bcg", "pritz1997_prop", "nielweise2008", "steurer2006_hr", "bcg_mixed"):
        spec = ModelSpec.describe(bayesmeta.load_example(example), random_effects="t")
        covered.add(spec.likelihood)
        model = build(spec)
        assert spec.prior_names[-1] == "nu" and "nu" in model.named_vars
        for name in ("z", "z_new"):
            op = model[name].owner.op
            assert isinstance(op, type(pm.StudentT.dist(nu=3).owner.op)), (example, name)
        # log density of z given nu is scipy's Student-t (PyTensor's lgamma: ~1e-9 apart)
        point = {"nu_log__": np.log(4.0), "z": np.full(spec.data.k, 0.7)}
        logp = model.compile_logp(vars=[model["z"]], sum=True)({**model.initial_point(), **point})
        assert logp == pytest.approx(spec.data.k * stats.t.logpdf(0.7, df=4.0), rel=1e-8)
    # a likelihood added to the registry is added here; the network model has its own engine
    # and command (bayesmeta network), without --random-effects
    assert covered == set(NAMES) - {"network-binomial"}


def test_normal_random_effects_are_unchanged() -> None:
    """The default description and its JSON keys are as before (no nu, no random_effects)."""
    spec = ModelSpec.describe(bayesmeta.load_example("bcg"))
    assert spec.random_effects == "normal" and "nu" not in spec.prior_names
    assert set(spec.priors_used()) == {"mu", "tau", "baseline"}
    from bayesmeta.engines import kernels

    assert kernels.supports(spec)
    assert not kernels.supports(ModelSpec.describe(spec.data, random_effects="t"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda d: bayesmeta.analyze(d, random_effects="t", engine="exact"),
            "fitted by NUTS only: the exact engines integrate normal random effects",
        ),
        (
            lambda d: ModelSpec.describe(d, random_effects="t", common_effect=True),
            "--common-effect has none",
        ),
        (lambda d: ModelSpec.describe(d, random_effects="cauchy"), "choose one of normal, t"),
        (
            lambda d: bayesmeta.analyze(d, random_effects="t", bayes_factors=True),
            "no Bayes factors",
        ),
        (
            lambda d: ModelSpec.describe(d, random_effects="t", priors={"nu": "normal(0, 1)"}),
            "prior for nu must put no mass below 0",
        ),
    ],
)
def test_refused_where_not_supported(call, message) -> None:
    with pytest.raises(BayesmetaError, match=message) as info:
        call(bayesmeta.load_example("bcg"))
    assert isinstance(info.value, OptionError | BayesmetaError)


def test_engine_auto_is_nuts_for_t_effects_of_the_normal_normal_model() -> None:
    from bayesmeta.workflows.analyze import resolve_engine

    assert resolve_engine("normal-normal", "auto") == "exact"
    assert resolve_engine("normal-normal", "auto", "t") == "nuts"


def test_command_line_refuses_exact_in_one_line() -> None:
    line = fails_cleanly(["fit", "--example", "bcg", "--random-effects", "t", "--engine", "exact"])
    assert "NUTS only" in line


def test_spec_file_and_reproducing_command_carry_the_option(tmp_path) -> None:
    from bayesmeta.io.spec import load_spec
    from bayesmeta.workflows.report import command_line
    from bayesmeta.workflows.request import AnalysisRequest

    path = tmp_path / "t.toml"
    path.write_text(
        '[data]\nexample = "bcg"\n[model]\nrandom_effects = "t"\n[priors]\nnu = "gamma(2, 0.2)"\n'
    )
    request = AnalysisRequest.from_spec(load_spec(path))
    assert request.random_effects == "t" and str(request.priors["nu"]) == "gamma(2, 0.2)"
    line = command_line(request)
    assert "--random-effects t" in line and "--prior-nu 'gamma(2, 0.2)'" in line


@pytest.mark.parametrize(
    ("example", "effects", "keys"),
    [("bcg", "t", {"lee2008", "juarez2010"}), ("nielweise2008", "normal", {"greenland1985"})],
)
def test_methods_paragraphs_say_and_cite_the_model(example, effects, keys) -> None:
    """The methods text of Student-t effects names them and the prior on nu (Juarez & Steel
    2010); the rates text cites Greenland & Robins (1985) for the Mantel-Haenszel IRR."""
    from types import SimpleNamespace

    from bayesmeta.report import methods

    spec = ModelSpec.describe(bayesmeta.load_example(example), random_effects=effects)
    result = SimpleNamespace(
        spec=spec,
        scale=spec.scale,
        data=spec.data,
        priors=spec.priors,
        common_effect=False,
        moderators=None,
    )
    model, priors = methods._model(result), methods._priors(result)
    cited = {*model.references, *priors.references}
    assert keys <= cited and all(k in methods.REFERENCES for k in cited)
    if effects == "t":
        assert "theta_i ~ t_nu(mu, tau)" in model.text and "N(mu, tau^2) is" not in model.text
        assert "nu ~ gamma(2, 0.1): mean 20" in priors.text
        assert methods.prior_list(result).endswith("nu ~ gamma(2, 0.1)")
    else:
        assert "Greenland" in model.text and "theta_new ~ N(mu, tau^2)" in model.text


def test_prior_sensitivity_refits_the_t_model(monkeypatch) -> None:
    """The report's prior sensitivity varies tau's prior of the same Student-t model (nu's
    prior kept), not a normal one."""
    from bayesmeta.workflows import sensitivity

    seen = []

    def capture(spec, **kwargs):
        seen.append(spec)
        raise StopIteration

    monkeypatch.setattr(sensitivity, "analyze_model", capture)
    with pytest.raises(StopIteration):
        sensitivity.prior_sensitivity(
            bayesmeta.load_example("bcg"),
            None,
            settings=SamplerSettings(),
            random_effects="t",
            nu_prior=bayesmeta.Prior("gamma", (2.0, 0.2)),
        )
    assert seen[0].random_effects == "t" and str(seen[0].priors.nu) == "gamma(2, 0.2)"


def test_model_checks_say_they_do_not_cover_t_effects() -> None:
    """The model checks replicate normal study effects: for Student-t ones they give their
    reason instead of numbers of another model."""
    from bayesmeta.summaries import checks

    spec = ModelSpec.describe(bayesmeta.load_example("bcg"), random_effects="t")
    assert "Student-t" in checks.not_covered(spec)
    with pytest.raises(BayesmetaError, match="not covered"):
        checks.prior_predictive(spec, seed=1)
    assert checks.not_covered(ModelSpec.describe(spec.data)) is None


def test_exact_only_workflows_refuse_t_effects() -> None:
    """The robustness map and model averaging integrate normal effects exactly: they refuse
    Student-t ones in one line rather than answer for the normal model."""
    from bayesmeta.workflows.average import model_average
    from bayesmeta.workflows.robustness import robustness_map

    spec = ModelSpec.describe(bayesmeta.load_example("bcg"), random_effects="t")
    with pytest.raises(BayesmetaError, match="no robustness map: Student-t"):
        robustness_map(spec)
    with pytest.raises(BayesmetaError, match="Student-t"):
        model_average(spec)
