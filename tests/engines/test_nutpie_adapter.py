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
    sample = nutpie_adapter.nutpie_sample()
    idata = sample(
        nutpie_adapter.callback_model(callbacks),
        draws=1000,
        tune=500,
        chains=4,
        seed=3,
        progress_bar=False,
    )
    a = np.asarray(idata["posterior"]["a"]).ravel()
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
