"""The contour-enhanced funnel: its shaded edges are the two-sided significance contours and
its open circles the studies metafor's trimfill imputes (tests/reference/metafor_bias.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bayesmeta import load_example
from bayesmeta.frequentist import methods
from bayesmeta.frequentist.bias import trimfill
from bayesmeta.plots import funnel

REF = json.loads((Path(__file__).parents[1] / "reference" / "metafor_bias.json").read_text())


def _by_gid(fig, gid):
    ax = fig.axes[0]
    return [a for a in [*ax.collections, *ax.lines] if a.get_gid() == gid]


def test_contours_and_filled_studies():
    data = load_example("li2007")
    filled = trimfill(methods.inputs(data).es, method="EE", estimator="L0")
    fig = funnel(data, contours=True, filled=filled)
    ref = REF["li2007"]["trimfill_EE_L0"]
    points = _by_gid(fig, "filled")[0].get_offsets()
    np.testing.assert_allclose(np.log(points[:, 0]), ref["fill_yi"], atol=1e-8)
    np.testing.assert_allclose(points[:, 1], np.sqrt(ref["fill_vi"]), atol=1e-10)
    for level, z in ((0.10, 1.6448536269514722), (0.05, 1.959963984540054),
                     (0.01, 2.5758293035489004)):  # fmt: skip
        regions = _by_gid(fig, f"contour-{level:g}")
        assert len(regions) == 2  # both sides of no effect
        for region in regions:
            xy = region.get_paths()[0].vertices
            effect = np.log(xy[:, 0])
            inner = np.abs(effect) < np.abs(effect).max() - 1e-9  # the contour, not the far edge
            se, effect = xy[inner, 1], effect[inner]
            np.testing.assert_allclose(np.abs(effect[se > 0]), z * se[se > 0], rtol=1e-10)
    assert not _by_gid(fig, "region")  # the pseudo-confidence shading gives way to contours
