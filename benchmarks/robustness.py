"""Time the prior robustness map (target: a 30 x 30 map in seconds).

Run: ``python benchmarks/robustness.py``. Prints the wall time (best of 3) of
:func:`bayesmeta.workflows.robustness.robustness_map` with its default 30 x 30 grid and no
check cells, for the normal-normal and the binomial models on the shipped examples, and the
number of likelihood nodes. Exit code 1 if a map takes longer than ``LIMIT_SECONDS``.
"""

from __future__ import annotations

import time

from bayesmeta.io.examples import load_example
from bayesmeta.model.description import ModelSpec
from bayesmeta.workflows.robustness import robustness_map

LIMIT_SECONDS = 10.0
CASES = (
    ("bcg", "normal-normal"),
    ("bcg", "auto"),
    ("li2007", "auto"),
    ("nielweise2007", "auto"),
    ("pritz1997_prop", "auto"),
)


def main() -> int:
    slow = False
    for name, model in CASES:
        spec = ModelSpec.describe(load_example(name), model=model)
        best, rmap = float("inf"), None
        for _ in range(3):
            start = time.perf_counter()
            rmap = robustness_map(spec, check=False)
            best = min(best, time.perf_counter() - start)
        slow |= best > LIMIT_SECONDS
        print(
            f"{name:15s} {spec.likelihood:16s} k={spec.data.k:3d} {best:7.3f} s  nodes {rmap.nodes}"
        )
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
