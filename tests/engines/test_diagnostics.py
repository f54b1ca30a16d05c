"""bayesmeta.engines.diagnostics agrees with arviz_stats (the reference) to relative 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.engines import diagnostics

azs = pytest.importorskip("arviz_stats")

RTOL = 1e-10  # same algorithm, same floating-point operations up to summation order


def ar1_chains(
    seed: int, chains: int = 4, draws: int = 1000, phi: float = 0.7, shape: tuple = ()
) -> np.ndarray:
    """AR(1) chains ``x[t] = phi * x[t-1] + e[t]`` of shape ``(chains, draws, *shape)``, each
    chain with its own offset so that R-hat is not always 1."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(chains, draws, *shape))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0]
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    offsets = rng.normal(scale=0.2, size=(chains, 1, *shape))
    return x + offsets


def reference(ary: np.ndarray) -> dict[str, np.ndarray]:
    """arviz_stats' numbers through its public array interface (chain, draw first)."""
    return {
        "rhat": np.asarray(azs.rhat(ary, chain_axis=0, draw_axis=1)),
        "bulk": np.asarray(azs.ess(ary, method="bulk", chain_axis=0, draw_axis=1)),
        # the array interface needs ``prob``; the DataTree one defaults to rcParams (0.89),
        # which test_real_fit_matches_arviz_stats checks
        "tail": np.asarray(azs.ess(ary, method="tail", prob=0.89, chain_axis=0, draw_axis=1)),
    }


def ours(ary: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "rhat": diagnostics.rhat(ary),
        "bulk": diagnostics.ess_bulk(ary),
        "tail": diagnostics.ess_tail(ary),
    }


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("phi", [0.0, 0.5, 0.95])
def test_ar1_chains_match_arviz_stats(seed: int, phi: float) -> None:
    ary = ar1_chains(seed, phi=phi, shape=(3,))
    ref, got = reference(ary), ours(ary)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=RTOL, err_msg=key)


def test_odd_draws_ties_and_one_chain() -> None:
    rng = np.random.default_rng(7)
    ties = np.round(ar1_chains(3, chains=3, draws=501), 1)  # many tied values, odd length
    ref, got = reference(ties), ours(ties)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=RTOL, err_msg=key)
    one = rng.normal(size=(1, 400))
    assert np.isnan(diagnostics.rhat(one))
    np.testing.assert_allclose(
        diagnostics.ess_bulk(one), float(azs.ess(one, chain_axis=0, draw_axis=1)), rtol=RTOL
    )


def test_constant_and_nan_draws() -> None:
    constant = np.ones((4, 100))
    assert diagnostics.ess_bulk(constant) == float(azs.ess(constant, chain_axis=0, draw_axis=1))
    with_nan = ar1_chains(1, draws=100)
    with_nan[0, 5] = np.nan
    assert np.isnan(diagnostics.rhat(with_nan))
    assert np.isnan(diagnostics.ess_tail(with_nan))


def mixed_columns(seed: int, draws: int = 500) -> np.ndarray:
    """Draws ``(4, draws, 3, 4)`` of twelve quantities of every kind the vectorised code must
    tell apart: AR(1) chains from independent to nearly stuck, ties, a constant column, all
    NaN, one NaN, 0/1 draws, one chain elsewhere, constant within each chain."""
    rng = np.random.default_rng(seed)
    cols = [ar1_chains(seed + i, draws=draws, phi=phi) for i, phi in enumerate((0, 0.5, 0.95))]
    base = ar1_chains(seed + 3, draws=draws, phi=0.6)
    one_nan = base.copy()
    one_nan[2, draws // 3] = np.nan
    stuck = base.copy()
    stuck[1] = stuck[1] * 0.1 + 4  # one chain elsewhere: R-hat far above 1
    cols += [
        np.round(base, 1),  # many ties
        np.round(base),  # a few distinct values
        np.full((4, draws), 2.5),  # constant
        np.full((4, draws), np.nan),
        one_nan,
        (rng.random((4, draws)) < 0.3).astype(float),  # 0/1 draws
        stuck,
        np.repeat(rng.normal(size=(4, 1)), draws, axis=1),  # constant within each chain
        ar1_chains(seed + 4, draws=draws, phi=0.999),
    ]
    return np.stack(cols, axis=-1).reshape(4, draws, 3, 4)


def per_element_reference(ary: np.ndarray) -> dict[str, np.ndarray]:
    """arviz_stats called on the ``(chain, draw)`` draws of one element at a time."""
    flat = ary.reshape(*ary.shape[:2], -1)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 in its R-hat of constant draws
        columns = [reference(flat[:, :, i]) for i in range(flat.shape[2])]
    return {
        key: np.array([float(c[key]) for c in columns]).reshape(ary.shape[2:]) for key in columns[0]
    }


@pytest.mark.parametrize(("seed", "draws"), [(0, 500), (1, 501), (2, 64), (3, 7), (4, 4)])
def test_many_quantities_at_once_match_arviz_stats_per_element(seed: int, draws: int) -> None:
    ary = mixed_columns(seed, draws)
    ref, got = per_element_reference(ary), ours(ary)
    assert np.isnan(ref["rhat"][1, 2]) and np.isnan(ref["rhat"][1, 3])  # the NaN columns
    assert ref["bulk"][1, 1] == 2 * ary.shape[0] * (draws // 2)  # constant: the split draws
    assert ref["rhat"][2, 1] > 1.5  # the chain elsewhere
    for key in ref:
        assert got[key].shape == (3, 4)
        np.testing.assert_allclose(got[key], ref[key], rtol=RTOL, err_msg=key)


def test_blocks_of_columns_give_the_same_numbers(monkeypatch) -> None:
    """Columns are processed in blocks to bound memory; the block size changes nothing."""
    ary = mixed_columns(3)
    whole = ours(ary)
    monkeypatch.setattr(diagnostics, "BLOCK_SIZE", 3 * ary.shape[0] * ary.shape[1])
    for key, value in ours(ary).items():
        np.testing.assert_array_equal(value, whole[key], err_msg=key)


def test_tail_prob_is_arviz_default() -> None:
    ary = ar1_chains(11, phi=0.8)
    for prob in (0.89, 0.9, 0.95):
        expected = float(azs.ess(ary, method="tail", prob=prob, chain_axis=0, draw_axis=1))
        got = float(diagnostics.ess_tail(ary, prob=prob))
        np.testing.assert_allclose(got, expected, rtol=RTOL)


@pytest.fixture(scope="module")
def bcg_fit():
    from bayesmeta import load
    from bayesmeta.engines.nuts import SamplerSettings, draw
    from bayesmeta.io.examples import example
    from bayesmeta.model.description import ModelSpec

    model = ModelSpec.describe(load(example("bcg").path))
    idata, _ = draw(model, SamplerSettings(draws=500, tune=300, seed=3))
    return idata


def test_real_fit_matches_arviz_stats(bcg_fit) -> None:
    post = bcg_fit["posterior"]
    names = [v for v in ("mu", "tau", "theta", "theta_new") if v in post]
    for name in names:
        values = np.asarray(post[name].transpose("chain", "draw", ...))
        expected = {
            "rhat": azs.rhat(bcg_fit, var_names=[name]),
            "bulk": azs.ess(bcg_fit, var_names=[name], method="bulk"),
            "tail": azs.ess(bcg_fit, var_names=[name], method="tail"),
        }
        got = ours(values)
        for key, tree in expected.items():
            ref = np.asarray(tree["posterior"][name] if "posterior" in tree else tree[name])
            np.testing.assert_allclose(got[key], ref, rtol=RTOL, err_msg=f"{name} {key}")


def test_diagnose_uses_the_same_numbers(bcg_fit) -> None:
    from bayesmeta.engines.nuts import diagnose

    diag = diagnose(bcg_fit)
    names = [v for v in ("mu", "tau", "theta", "theta_new") if v in bcg_fit["posterior"]]

    def extreme(tree, fn):
        ds = tree["posterior"].dataset if "posterior" in tree else tree
        return fn(np.concatenate([np.asarray(ds[v]).ravel() for v in names]))

    assert diag.rhat_max == pytest.approx(extreme(azs.rhat(bcg_fit, var_names=names), np.max),
                                          rel=RTOL)  # fmt: skip
    bulk = azs.ess(bcg_fit, var_names=names, method="bulk")
    tail = azs.ess(bcg_fit, var_names=names, method="tail")
    assert diag.ess_bulk_min == pytest.approx(extreme(bulk, np.min), rel=RTOL)
    assert diag.ess_tail_min == pytest.approx(extreme(tail, np.min), rel=RTOL)


@pytest.mark.parametrize("shape", [(4, 1000, 5), (1, 200, 3), (4, 3, 2), (2, 501), (3, 400, 2, 2)])
def test_rhat_ess_equals_the_three_functions_bit_for_bit(shape: tuple) -> None:
    """One pass shares the rank normalisation; the numbers are those of rhat, ess_bulk and
    ess_tail called one by one, NaN columns, constant columns and one chain included."""
    rng = np.random.default_rng(11)
    ary = rng.normal(size=shape).cumsum(axis=1)
    if len(shape) > 2:
        ary[0, 1, 0] = np.nan
        ary[..., -1] = 2.5
    together = diagnostics.rhat_ess(ary)
    apart = (diagnostics.rhat(ary), diagnostics.ess_bulk(ary), diagnostics.ess_tail(ary))
    for got, want in zip(together, apart, strict=True):
        np.testing.assert_array_equal(got, want)
