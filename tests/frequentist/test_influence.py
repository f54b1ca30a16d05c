"""Case diagnostics against metafor 3.8-1 (R 4.2.2): ``influence()``, ``baujat()``, ``gosh()``.

References: ``tests/reference/metafor_issue20.R`` (blocks ``influence``, ``gosh_normand1999``)
on the shipped bcg data (escalc OR defaults; also with the moderator ablat) and on metadat's
dat.hackshaw1998, dat.molloy2014 (ZCOR; moderator meanage) and dat.normand1999 (MD), whose yi
and vi are in the JSON.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesmeta.effects import EffectSizes
from bayesmeta.frequentist.influence import baujat, gosh, influence
from tests.conftest import REFERENCE

ISSUE20 = json.loads((REFERENCE / "metafor_issue20.json").read_text())
REF = ISSUE20["influence"]
FITS = ("REML_z", "DL_z", "EE_z", "PM_z", "REML_knha", "DL_knha")
CASES = [(name, key) for name in REF for key in FITS]
MODS = [
    ("bcg", "ablat", "REML_z"),
    ("bcg", "ablat", "REML_knha"),
    ("molloy2014", "meanage", "DL_z"),
]


def effect_sizes(name: str) -> EffectSizes:
    y, v = np.array(REF[name]["yi"]), np.array(REF[name]["vi"])
    return EffectSizes(tuple(f"s{i}" for i in range(len(y))), y, v, "generic", "none", (), ())


def close(got, expected, what: str) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9, err_msg=what)


def check(inf, ref) -> None:
    for key, got in (
        ("rstudent", inf.rstudent), ("dffits", inf.dffits), ("cook_d", inf.cook_d),
        ("cov_r", inf.cov_r), ("tau2_del", inf.tau2_del), ("QE_del", inf.qe_del),
        ("hat", inf.hat), ("weight", inf.weight),
    ):  # fmt: skip
        close(got, ref[key], key)
    close(inf.dfbetas, np.array(ref["dfbetas"]).reshape(inf.dfbetas.shape), "dfbetas")
    assert list(inf.influential) == list(ref["inf"])


@pytest.mark.parametrize(("name", "key"), CASES)
def test_influence_matches_metafor(name, key):
    method, test = key.split("_")
    check(influence(effect_sizes(name), method=method, test=test), REF[name][key])


@pytest.mark.parametrize(("name", "column", "key"), MODS)
def test_influence_with_a_moderator_matches_metafor(name, column, key):
    method, test = key.split("_")
    x = np.column_stack([np.ones(len(REF[name][column])), REF[name][column]])
    inf = influence(effect_sizes(name), x, ("intercept", column), method=method, test=test)
    check(inf, REF[name][f"mods_{column}_{key}"])


def test_some_study_is_flagged():
    """The flag is not vacuous: metafor marks studies on these data."""
    flagged = [bool(np.any(REF[n][k]["inf"])) for n, k in CASES]
    assert any(flagged) and not all(flagged)


@pytest.mark.parametrize("name", list(REF))
@pytest.mark.parametrize("method", ["EE", "REML"])
def test_baujat_matches_metafor(name, method):
    b = baujat(effect_sizes(name), method=method)
    ref = REF[name][f"baujat_{method}"]
    close(b.x, ref["x"], "x")
    close(b.y, ref["y"], "y")


@pytest.mark.parametrize("method", ["EE", "DL", "REML"])
def test_gosh_all_subsets_match_metafor(method):
    """dat.normand1999 (k = 9): all 511 subsets, in metafor's order."""
    ref = ISSUE20["gosh_normand1999"][method]
    g = gosh(effect_sizes("normand1999"), method=method)
    assert g.exact and len(g.k) == 511
    assert list(g.k) == ref["k"]
    for key, got in (("QE", g.qe), ("I2", g.i2), ("H2", g.h2), ("tau2", g.tau2),
                     ("estimate", g.estimate)):  # fmt: skip
        close(got, ref[key], key)


def test_gosh_random_subsets_beyond_the_limit():
    g = gosh(effect_sizes("normand1999"), subsets=200, seed=3)
    assert not g.exact and g.include.shape == (200, 9)
    assert np.all(np.diff(g.k) >= 0) and g.k.min() >= 1
    again = gosh(effect_sizes("normand1999"), subsets=200, seed=3)
    np.testing.assert_array_equal(g.include, again.include)


def test_classic_influence_json_and_table(tmp_path):
    """``classic --influence REML``: terminal table and the JSON block, metafor's numbers."""
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    out = tmp_path / "c.json"
    args = ["classic", "--example", "bcg", "--influence", "REML", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Influence diagnostics (REML)" in result.output
    d = json.loads(out.read_text())
    ref = REF["bcg"]["REML_z"]
    studies = list(d["influence"]["studies"].values())
    close([s["cook_d"] for s in studies], ref["cook_d"], "cook.d")
    close([s["dfbetas"]["intercept"] for s in studies], np.ravel(ref["dfbetas"]), "dfbetas")
    assert [s["influential"] for s in studies] == ref["inf"]
    close([s["x"] for s in d["baujat"]["studies"].values()], REF["bcg"]["baujat_EE"]["x"], "x")


def test_figures_draw_the_statistics(tmp_path):
    """The Baujat and GOSH figures plot exactly the computed points (they compute nothing)."""
    from bayesmeta import plots

    es = effect_sizes("normand1999")
    b = baujat(es)
    offsets = plots.baujat(b).axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(offsets, np.column_stack([b.x, b.y]))
    g = gosh(es)
    offsets = plots.gosh(g).axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(offsets, np.column_stack([g.estimate, g.i2]))
    out = tmp_path / "g.png"
    plots.save(plots.gosh(g), out)
    assert out.read_bytes().startswith(b"\x89PNG")
