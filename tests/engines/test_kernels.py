"""The disk-cached kernels of bayesmeta.engines.kernels against the PyMC models they replace.

Both are built from one :class:`~bayesmeta.model.description.ModelSpec`.

Log density and gradient must equal PyMC's (``model.compile_logp`` / ``compile_dlogp``) at
random points, for every model variant and every prior family with its transform; the
posterior variables and the fast-path selection rules are checked too. The posterior itself
is checked against Stan in tests/engines/test_nuts_vs_stan.py, which samples through these kernels.
"""

from __future__ import annotations

import ast
import functools

import numpy as np
import pytest

from bayesmeta import load
from bayesmeta.engines import kernels as compiled
from bayesmeta.engines import pymc as pymc_engine
from bayesmeta.engines.kernel_model import KernelModel
from bayesmeta.engines.nuts import SamplerSettings, compile_model, fit
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import PriorSet, parse_prior
from bayesmeta.models import binomial_normal
from tests.conftest import EXAMPLES

PRIOR_SETS = {
    "default": PriorSet(),
    "uniform-mu-halft-tau": PriorSet(
        mu=parse_prior("uniform(-5, 5)"),
        tau=parse_prior("half-student-t(3, 0.5)"),
        baseline=parse_prior("normal(1, 3)"),
    ),
    "halfcauchy-tau": PriorSet(tau=parse_prior("half-cauchy(0.3)")),
    "exponential-tau": PriorSet(tau=parse_prior("exponential(2)")),
    "lognormal-tau": PriorSet(tau=parse_prior("lognormal(-1.5, 0.8)")),
    "uniform-tau": PriorSet(tau=parse_prior("uniform(0, 2)")),
    "halfnormal-baseline": PriorSet(baseline=parse_prior("half-normal(3)")),
}


@pytest.fixture(scope="module")
def bcg():
    return load(EXAMPLES / "bcg.csv")


@pytest.fixture(scope="module")
def single_arm():
    from bayesmeta.io.counts import SingleArmData

    rng = np.random.default_rng(7)
    total = rng.integers(5, 400, size=9)
    events = rng.binomial(total, 0.2)
    events[0] = 0
    events[1] = total[1]
    import pandas as pd

    study = tuple(f"s{i}" for i in range(9))
    return SingleArmData(study=study, events=events, total=total, covariates=pd.DataFrame())


def _compare(spec: ModelSpec, seed: int, model=None) -> None:
    """The kernels' log density and gradient equal PyMC's for the model ``spec`` describes
    (or for ``model``, a PyMC model ``spec`` stands for)."""
    model = model if model is not None else pymc_engine.build(spec)
    kernel = KernelModel(spec)
    fast = compiled.compile_spec(spec)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    ip = model.initial_point()
    rng = np.random.default_rng(seed)
    assert [v.name for v in model.value_vars] == kernel.value_names()
    for _ in range(4):
        point = {name: rng.normal(scale=1.5, size=np.shape(v)) for name, v in ip.items()}
        x = np.concatenate([np.atleast_1d(point[name]) for name in kernel.value_names()])
        ours, grad = compiled.logp_and_grad(fast, x)
        theirs = float(logp(point))
        # rel 1e-10, not 1e-14: the log binomial coefficients of counts up to 88,391 (bcg)
        # are differences of lgamma values near 1e6, computed by different routines
        assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-9)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-9, atol=1e-8)


@pytest.mark.parametrize("common_effect", [False, True])
@pytest.mark.parametrize("priors", list(PRIOR_SETS))
def test_binomial_normal_logp_and_gradient_equal_pymc(bcg, priors, common_effect) -> None:
    spec = ModelSpec("binomial-normal", bcg, PRIOR_SETS[priors], common_effect)
    _compare(spec, seed=1)


@pytest.mark.parametrize("common_effect", [False, True])
@pytest.mark.parametrize("priors", ["default", "uniform-mu-halft-tau", "lognormal-tau"])
def test_proportion_logp_and_gradient_equal_pymc(single_arm, priors, common_effect) -> None:
    spec = ModelSpec("proportion", single_arm, PRIOR_SETS[priors], common_effect)
    _compare(spec, seed=2)


@pytest.mark.parametrize("common_effect", [False, True])
def test_expanded_variables_equal_pymc_deterministics(bcg, common_effect) -> None:
    spec = ModelSpec("binomial-normal", bcg, PRIOR_SETS["uniform-mu-halft-tau"], common_effect)
    model = pymc_engine.build(spec)
    fast = compiled.compile_spec(spec)
    rng = np.random.default_rng(3)
    point = {n: rng.normal(size=np.shape(v)) for n, v in model.initial_point().items()}
    x = np.concatenate([np.atleast_1d(point[n]) for n in KernelModel(spec).value_names()])
    ours = compiled.expand(fast, x)
    names = [v.name for v in model.unobserved_value_vars]
    values = model.compile_fn(model.unobserved_value_vars, inputs=model.value_vars)(point)
    theirs = dict(zip(names, values, strict=True))
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        np.testing.assert_allclose(ours[name], value, rtol=1e-12, err_msg=name)


def test_unchanged_builder_model_takes_the_kernels(bcg) -> None:
    model = binomial_normal(bcg)
    assert pymc_engine.spec_of(model) == ModelSpec.describe(bcg)
    compiled_model = compile_model(model)
    assert compiled.kernel_model_of(compiled_model.nutpie_model) is not None
    assert compiled_model.pymc_model is None


def test_model_with_moderators_is_compiled_by_pymc(bcg) -> None:
    from bayesmeta.model.moderators import moderators

    spec = ModelSpec.describe(bcg, moderators=moderators(bcg.covariates, names=["ablat"]))
    assert not compiled.supports(spec)
    with pytest.raises(ValueError, match="do not implement"):
        KernelModel(spec)


def test_extended_model_is_compiled_from_its_graph(bcg) -> None:
    import pymc as pm

    model = binomial_normal(bcg)
    with model:
        pm.Potential("penalty", -(model["tau"] ** 2))
    assert pymc_engine.spec_of(model) is None
    model = binomial_normal(bcg)
    with model:
        pm.Deterministic("odds_ratio", pm.math.exp(model["mu"]))
    assert pymc_engine.spec_of(model) is None


def test_swapped_data_are_read_back_for_the_kernels(bcg) -> None:
    """``pm.set_data`` on a builder model: the kernels sample the new data, and their density
    equals that of the swapped PyMC model itself."""
    import pymc as pm

    model = binomial_normal(bcg)
    new_totals = np.asarray(bcg.control_total) + 1
    new_events = np.asarray(bcg.treatment_events)[::-1].copy()
    with model:
        pm.set_data({"control_total": new_totals, "treatment_events_data": new_events})
    spec = pymc_engine.spec_of(model)
    np.testing.assert_array_equal(spec.data.control_total, new_totals)
    np.testing.assert_array_equal(spec.data.treatment_events, new_events)
    _compare(spec, seed=5, model=model)


def test_swapped_data_that_are_not_counts_are_refused(bcg) -> None:
    import pymc as pm

    from bayesmeta.errors import DataError

    model = binomial_normal(bcg)
    with model:
        pm.set_data({"control_total": np.zeros(bcg.k, dtype=int)})
    with pytest.raises(DataError, match="total must be at least 1"):
        pymc_engine.spec_of(model)


def test_recorded_data_are_those_pymc_records(bcg) -> None:
    """Names, dtypes and values of constant_data / observed_data equal PyMC's for the builder
    model, so ``pm.sample_posterior_predictive`` accepts draws from either engine."""
    from pymc.backends.arviz import find_constants, find_observations

    spec = ModelSpec.describe(bcg)
    model = pymc_engine.build(spec)
    constant, observed = KernelModel(spec).recorded_data()
    for ours, theirs in ((constant, find_constants(model)), (observed, find_observations(model))):
        assert list(ours) == list(theirs)
        for name, value in theirs.items():
            assert ours[name].dtype == np.asarray(value).dtype, name
            np.testing.assert_array_equal(ours[name], value)


def test_one_artefact_serves_every_study_count(bcg) -> None:
    """The kernels read k from the data: the same C callback for 13 and 5 studies."""
    from dataclasses import replace

    small = replace(
        bcg,
        study=bcg.study[:5],
        treatment_events=bcg.treatment_events[:5],
        treatment_total=bcg.treatment_total[:5],
        control_events=bcg.control_events[:5],
        control_total=bcg.control_total[:5],
        covariates=bcg.covariates.iloc[:5],
    )
    big = compiled.compile_spec(ModelSpec.describe(bcg))
    little = compiled.compile_spec(ModelSpec.describe(small))
    assert little.callbacks.logp is big.callbacks.logp
    assert little.n_dim == 5 * 2 + 3
    _compare(ModelSpec.describe(small), seed=4)


@pytest.mark.sampling
def test_fast_fit_has_pymc_groups_and_attributes(bcg) -> None:
    result = fit(ModelSpec.describe(bcg), SamplerSettings(draws=300, tune=300, chains=2))
    idata = result.idata
    assert set(idata["posterior"].data_vars) == {
        "alpha",
        "mu",
        "tau",
        "z",
        "z_new",
        "theta",
        "theta_new",
    }
    assert list(idata["posterior"]["theta"].coords["study"].values) == list(bcg.study)
    assert set(idata["observed_data"].data_vars) == {"control_events", "treatment_events"}
    assert set(idata["constant_data"].data_vars) == {
        "control_total",
        "treatment_total",
        "control_events_data",
        "treatment_events_data",
    }
    assert result.diagnostics.sampler == "nutpie"


HEAVY = ("pymc", "pytensor", "arviz", "nutpie", "numba", "matplotlib")


def _loaded_after(argv: list[str]) -> list[str]:
    import subprocess
    import sys

    code = (
        "import sys\n"
        f"sys.argv = {['bayesmeta', *argv]!r}\n"
        "from bayesmeta.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return ast.literal_eval(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["classic", "--example", "bcg"]])
def test_cli_without_sampling_imports_no_heavy_library(argv) -> None:
    assert _loaded_after(argv) == []


# One valid parameter set per proper family of the prior registry: a family added to
# bayesmeta.model.priors.FAMILIES without an entry here (and its kernel branch) fails below.
# The improper families (flat, uniform-improper) never reach the sampler (check_for_sampler).
FAMILY_EXAMPLES = {
    "normal": (0.3, 1.2),
    "half-normal": (0.7,),
    "half-cauchy": (0.5,),
    "half-student-t": (3.0, 0.6),
    "uniform": (0.0, 2.0),
    "exponential": (1.5,),
    "lognormal": (-0.5, 0.8),
    "inverse-gamma": (1.0, 0.15),
    "gamma": (2.0, 0.7),
}


@pytest.mark.parametrize("family", list(FAMILY_EXAMPLES))
def test_every_registry_family_has_kernel_code(family: str) -> None:
    """The kernels' log density of each family (by its registry code) equals scipy's, and its
    derivative equals a central difference."""
    from bayesmeta.engines._numba import prior_logp
    from bayesmeta.model.priors import FAMILIES, Prior

    assert set(FAMILY_EXAMPLES) == {name for name, f in FAMILIES.items() if f.proper}
    prior = Prior(family, FAMILY_EXAMPLES[family])
    p0, p1 = (*prior.params, 0.0)[:2]
    for x in (0.2, 0.9, 1.7):
        logp, dlogp = prior_logp(prior.spec.code, p0, p1, x)
        assert logp == pytest.approx(float(prior.logpdf(x)), rel=1e-10)
        h = 1e-6
        numeric = (float(prior.logpdf(x + h)) - float(prior.logpdf(x - h))) / (2 * h)
        assert dlogp == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_a_fit_imports_no_numba_xarray_or_arviz_once_the_kernels_are_built() -> None:
    """The warm ``bayesmeta fit`` loads the kernels' shared libraries (no numba) and builds no
    DataTree (no xarray, no ArviZ); nutpie only as its extension module."""
    _loaded_after(["fit", "--example", "bcg"])  # builds the libraries if needed
    loaded = _loaded_after(["fit", "--example", "bcg"])
    assert loaded == [], loaded


KERNELS = [
    f"{kind}_{likelihood}_{effect}"
    for kind in ("logp", "expand")
    for likelihood in ("bn", "prop")
    for effect in ("re", "ce")
]


@pytest.mark.sampling
@pytest.mark.parametrize("name", KERNELS)
def test_shared_library_kernel_equals_numba_bit_for_bit(name: str, bcg, single_arm) -> None:
    """The shared library holds numba's code: same log density, gradient and expansion to the
    last bit at random points."""
    from bayesmeta.engines import native

    shared = compiled._kernel(name)
    if not isinstance(shared, native.NativeKernel):
        pytest.skip("no C compiler here: the kernels load from numba's cache")
    reference = compiled.numba_kernel(name)
    data = bcg if "_bn_" in name else single_arm
    spec = ModelSpec.describe(data, common_effect=name.endswith("_ce"))
    model = KernelModel(spec)
    user_data = model.user_data()
    rng = np.random.default_rng(len(name))
    _, shapes = model.expanded()
    n_out = sum(int(np.prod(s)) for s in shapes)

    def call(kernel, x):
        import ctypes

        dbl = ctypes.POINTER(ctypes.c_double)
        x = np.ascontiguousarray(x)
        if name.startswith("logp"):
            grad, logp = np.zeros_like(x), np.zeros(1)
            code = compiled.LOGP_TYPE(kernel.address)(
                x.size, x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl),
                logp.ctypes.data_as(dbl), user_data.ctypes.data,
            )  # fmt: skip
            return code, np.concatenate([logp, grad])
        out = np.zeros(n_out)
        code = compiled.EXPAND_TYPE(kernel.address)(
            x.size, n_out, x.ctypes.data_as(dbl), out.ctypes.data_as(dbl), user_data.ctypes.data
        )
        return code, out

    for scale in (0.5, 2.0, 40.0):
        x = rng.normal(scale=scale, size=model.n_dim)
        code_a, a = call(shared, x)
        code_b, b = call(reference, x)
        assert code_a == code_b
        np.testing.assert_array_equal(a, b)


@pytest.mark.sampling
def test_draws_through_the_shared_library_equal_draws_through_numba(bcg, monkeypatch) -> None:
    from bayesmeta.engines import native, nutpie_adapter

    spec = ModelSpec.describe(bcg)
    fast = compiled.compile_spec(spec)
    if not isinstance(fast.callbacks.logp, native.NativeKernel):
        pytest.skip("no C compiler here: the kernels load from numba's cache")
    monkeypatch.setattr(compiled, "_kernel", compiled.numba_kernel)
    slow = compiled.compile_spec(spec)
    settings = {"draws": 200, "tune": 200, "chains": 2, "seed": 9, "target_accept": 0.9}
    a = nutpie_adapter.sample(fast, **settings).posterior
    b = nutpie_adapter.sample(slow, **settings).posterior
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_without_a_c_compiler_the_build_is_recorded_as_failed(tmp_path, monkeypatch) -> None:
    from bayesmeta.engines import native

    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native.load(tmp_path, "logp_prop_ce") is None
    failed = native.library_path(tmp_path, "logp_prop_ce").with_suffix(".failed")
    assert failed.exists()
    assert native.load(tmp_path, "logp_prop_ce") is None  # not tried again


REFERENCE_PRIORS = [
    *PRIOR_SETS.values(),
    PriorSet(baseline=parse_prior("uniform(-8, 2)")),
    PriorSet(baseline=parse_prior("half-student-t(4, 2)"), mu=parse_prior("normal(0, 1e-3)")),
    PriorSet(baseline=parse_prior("lognormal(0, 1)"), tau=parse_prior("half-normal(1e-6)")),
    PriorSet(baseline=parse_prior("exponential(0.5)"), mu=parse_prior("uniform(-1, 1)")),
]


@functools.cache
def _reference_kernel(name: str):
    import numba

    from tests.engines import reference_kernels

    doubles = numba.types.CPointer(numba.types.double)
    sig = numba.types.int64(numba.types.uint64, doubles, doubles, doubles, numba.types.voidptr)
    return numba.cfunc(sig)(getattr(reference_kernels, name))


@pytest.mark.sampling
@pytest.mark.parametrize("common_effect", [False, True])
@pytest.mark.parametrize("two_arm", [True, False])
def test_kernels_equal_the_straightforward_formulas_bit_for_bit(
    bcg, single_arm, two_arm: bool, common_effect: bool
) -> None:
    """The kernels share exp(-|x|) and log1p between the logistic terms and compute prior
    constants once per evaluation; the log density and gradient are still those of the
    straightforward formulas (tests/engines/reference_kernels.py) to the last bit, for every
    prior family and transform, at points up to 300 SD out (overflow and NaN included)."""
    import ctypes

    dbl = ctypes.POINTER(ctypes.c_double)
    data = bcg if two_arm else single_arm
    for priors in REFERENCE_PRIORS:
        if not two_arm:
            priors = PriorSet(mu=priors.mu, tau=priors.tau)
        spec = ModelSpec.describe(data, priors=priors, common_effect=common_effect)
        model = KernelModel(spec)
        name = model.kernel_names[0]
        reference = _reference_kernel(name)
        kernel = compiled._kernel(name)
        user_data = model.user_data()
        rng = np.random.default_rng(17)
        for scale in (0.1, 1.0, 3.0, 10.0, 50.0, 300.0):
            x = np.ascontiguousarray(rng.normal(scale=scale, size=model.n_dim))
            out = []
            for address in (kernel.address, reference.address):
                grad, logp = np.zeros_like(x), np.zeros(1)
                code = compiled.LOGP_TYPE(address)(
                    x.size, x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl),
                    logp.ctypes.data_as(dbl), user_data.ctypes.data,
                )  # fmt: skip
                out.append((code, logp.tobytes(), grad.tobytes()))
            assert out[0] == out[1], (name, str(priors), scale)
