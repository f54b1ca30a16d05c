"""In-process times of the research-code API on bcg (13 trials), in a fresh process.

Run: ``.venv/bin/python benchmarks/api.py``. Prints the wall time of the first and the second
``bayesmeta.analyze`` (the first includes imports and loading the cached kernels), and of the
first and second ``bayesmeta.sample`` of a builder model extended with a ``Deterministic`` - the
second on new data (one more treatment event in every trial), which reuses the first
compilation (issue 10 asks for at most ~1.5 s).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np


def main() -> None:
    start = time.perf_counter()
    import bayesmeta

    data = bayesmeta.load_example("bcg")
    times = {}
    t = time.perf_counter()
    bayesmeta.analyze(data, seed=1)
    times["first analyze (imports, kernels, frequentist rows)"] = time.perf_counter() - t
    t = time.perf_counter()
    bayesmeta.analyze(data, seed=2)
    times["second analyze"] = time.perf_counter() - t

    import pymc as pm

    def extended(d):
        model = bayesmeta.models.binomial_normal(d)
        with model:
            pm.Deterministic("odds_ratio_new", pm.math.exp(model["theta_new"]))
        return model

    new = replace(
        data,
        treatment_events=np.minimum(data.treatment_events + 1, data.treatment_total),
        study=tuple(f"{s} (new)" for s in data.study),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        bayesmeta.sample(extended(data), seed=1)
        times["first sample of the extended model (PyMC import, compilation)"] = (
            time.perf_counter() - t
        )
        t = time.perf_counter()
        bayesmeta.sample(extended(new), seed=1)
        times["second sample, new data (compilation reused)"] = time.perf_counter() - t
    print("| step | seconds |\n|---|---|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| whole script | {time.perf_counter() - start:.2f} |")


if __name__ == "__main__":
    main()
