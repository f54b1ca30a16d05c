"""The one module that uses nutpie's internals: a contract test that fails loudly when a nutpie
release changes what it uses, and a model sampled through it."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.engines import nutpie_adapter


def test_installed_nutpie_has_every_internal_the_kernels_use() -> None:
    nutpie_adapter.check()


@pytest.mark.parametrize(("owner", "name"), [("_lib", "PyMcModel"), ("_lib", "ExpandFunc")])
def test_a_missing_internal_is_named_in_the_error(monkeypatch, owner: str, name: str) -> None:
    import nutpie

    nutpie_adapter.nutpie_sample()
    monkeypatch.delattr(getattr(nutpie, owner), name)
    with pytest.raises(nutpie_adapter.NutpieChangedError, match=rf"nutpie\.{owner}\.{name}"):
        nutpie_adapter.check()


def test_a_missing_sampler_hook_is_named_in_the_error(monkeypatch) -> None:
    from nutpie.sample import CompiledModel

    monkeypatch.delattr(CompiledModel, "_make_sampler")
    with pytest.raises(nutpie_adapter.NutpieChangedError, match=r"CompiledModel\._make_sampler"):
        nutpie_adapter.check()


@pytest.mark.sampling
def test_callbacks_of_a_standard_normal_sample_it() -> None:
    """Two independent N(0, 1) parameters written as numba C callbacks: nutpie's draws through
    the adapter have mean 0 and SD 1 within Monte Carlo error (4 x 1000 draws)."""
    import numba
    import pandas as pd

    doubles = numba.types.CPointer(numba.types.double)

    @numba.cfunc(
        numba.types.int64(numba.types.uint64, doubles, doubles, doubles, numba.types.voidptr)
    )
    def logp(dim, x_, grad_, out_, data):  # pragma: no cover - runs as C
        x = numba.carray(x_, (dim,))
        grad = numba.carray(grad_, (dim,))
        out = numba.carray(out_, (1,))
        total = 0.0
        for i in range(dim):
            total -= 0.5 * x[i] * x[i]
            grad[i] = -x[i]
        out[0] = total
        return 0

    @numba.cfunc(
        numba.types.int64(
            numba.types.uint64, numba.types.uint64, doubles, doubles, numba.types.voidptr
        )
    )
    def expand(dim, n_out, x_, out_, data):  # pragma: no cover - runs as C
        x = numba.carray(x_, (dim,))
        out = numba.carray(out_, (n_out,))
        for i in range(dim):
            out[i] = x[i]
        return 0

    callbacks = nutpie_adapter.Callbacks(
        n_dim=2,
        logp=logp,
        expand=expand,
        user_data=np.zeros(1),
        names=["a", "b"],
        shapes=[(), ()],
        coords={"unconstrained_parameter": pd.Index(["a", "b"])},
        dims={},
        reparameterized=[],
        # jittered as PyMC's start: at exactly 0 the gradient vanishes and nutpie's
        # initialisation fails
        initial_point=lambda seed: np.random.default_rng(seed).uniform(-1, 1, 2),
    )
    trace = nutpie_adapter.sample(
        nutpie_adapter.callback_model(callbacks),
        draws=1000,
        tune=500,
        chains=4,
        seed=3,
        target_accept=0.8,
    )
    assert trace.posterior["a"].shape == (4, 1000)
    a = trace.posterior["a"].ravel()
    # 4000 draws with ESS of at least ~1000: MC SE of the mean <= 0.032, of the SD <= 0.023
    assert abs(a.mean()) < 4 * 0.032
    assert abs(a.std() - 1) < 4 * 0.023


def test_nutpie_is_imported_without_leaving_an_arviz_stand_in() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from bayesmeta.engines.nutpie_adapter import nutpie_sample\n"
        "nutpie_sample()\n"
        "assert 'nutpie' in sys.modules and 'arviz' not in sys.modules\n"
        "import arviz\n"
        "assert hasattr(arviz, 'plot_forest') or hasattr(arviz, 'summary'), 'real arviz'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def bcg_model():
    from bayesmeta import load
    from bayesmeta.engines import kernels
    from bayesmeta.model.description import ModelSpec
    from tests.conftest import EXAMPLES

    return kernels.compile_spec(ModelSpec.describe(load(EXAMPLES / "bcg.csv")))


SETTINGS = {"draws": 300, "tune": 200, "chains": 3, "seed": 5, "target_accept": 0.9}


@pytest.mark.sampling
def test_sample_gives_the_draws_and_tree_of_nutpie_sample(bcg_model) -> None:
    """Driving nutpie's sampler directly gives nutpie.sample's draws, and the lazily built
    DataTree equals the one nutpie.sample returns (timestamps aside)."""
    import xarray as xr

    from bayesmeta.engines.draws import Draws

    trace = nutpie_adapter.sample(bcg_model, **SETTINGS)
    theirs = nutpie_adapter.nutpie_sample()(
        bcg_model, save_warmup=False, progress_bar=False, **SETTINGS
    )
    ours = Draws.from_trace(trace).datatree()
    assert set(ours.children) == set(theirs.children) == {"posterior", "sample_stats"}
    for group in ours.children:
        a, b = ours[group].to_dataset(), theirs[group].to_dataset()
        for ds in (a, b):
            ds.attrs.pop("created_at", None)
        xr.testing.assert_identical(a, b)


@pytest.mark.sampling
def test_progress_is_reported_per_chain(bcg_model) -> None:
    seen: list = []
    nutpie_adapter.sample(bcg_model, **SETTINGS, on_progress=seen.append, progress_rate=10)
    assert seen, "the progress callback was never called"
    last = seen[-1]
    assert len(last) == SETTINGS["chains"]
    assert all(isinstance(p, nutpie_adapter.ChainProgress) for p in last)
    assert all(p.total == SETTINGS["draws"] + SETTINGS["tune"] for p in last)


@pytest.mark.sampling
def test_an_interrupt_while_sampling_is_raised_not_returned(bcg_model) -> None:
    """nutpie.sample turns Ctrl-C into a short trace; here it stops the chains and is raised,
    so a caller can never take an interrupted run for a finished (or failed) one."""
    calls = 0

    def interrupt() -> None:
        nonlocal calls
        calls += 1
        raise KeyboardInterrupt

    settings = {**SETTINGS, "draws": 10**6}
    with pytest.raises(KeyboardInterrupt):
        nutpie_adapter.sample(bcg_model, **settings, on_wait=interrupt)
    assert calls == 1


def test_nutpie_extension_loads_without_the_nutpie_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from bayesmeta.engines.nutpie_adapter import lib\n"
        "assert lib().PySampler\n"
        "heavy = {'nutpie', 'xarray', 'arviz', 'arviz_base'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "import nutpie\n"
        "assert nutpie._lib is lib()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
