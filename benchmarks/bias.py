"""Time the Bayesian publication-bias ensemble (target: the 36 models of a 20-study
meta-analysis in <= 10 s on 2 cores), and write its section of ``benchmarks/RESULTS.md``.

Run: ``python benchmarks/bias.py``. Times ``bayesmeta.workflows.bias.ensemble`` (all 36
marginal likelihoods and the averaged summaries) in process, best of 3 after a warm-up, on a
simulated 20-study meta-analysis with selection (studies with one-sided p > 0.05 published
with probability 0.4; seed 1) and on the 13 BCG trials, with wall and CPU time and the
largest estimated quadrature error of a log marginal likelihood. For scale: RoBMA 3.6 takes
4.5-5.5 CPU minutes for the same ensemble on BCG.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bayesmeta.model.bias import bias_priors  # noqa: E402
from bayesmeta.workflows.bias import ensemble  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bias: begin -->", "<!-- bias: end -->"
LIMIT_SECONDS = 10.0


def simulated(k: int = 20, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``k`` published studies of d = 0.2 (tau 0.1) under one-sided selection at p = 0.05."""
    from scipy import special

    rng = np.random.default_rng(seed)
    ys, ses = [], []
    while len(ys) < k:
        se = rng.uniform(0.08, 0.4)
        y = rng.normal(0.2, np.hypot(se, 0.1))
        if special.ndtr(-y / se) < 0.05 or rng.uniform() < 0.4:
            ys.append(y)
            ses.append(se)
    return np.array(ys), np.array(ses)


def bcg() -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    d = pd.read_csv(ROOT / "examples" / "bcg.csv")
    a, n1 = d["treatment_events"].to_numpy(float), d["treatment_total"].to_numpy(float)
    c, n2 = d["control_events"].to_numpy(float), d["control_total"].to_numpy(float)
    return np.log(a / n1) - np.log(c / n2), np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)


def timed(y: np.ndarray, se: np.ndarray, direction: str) -> tuple[float, float, float]:
    """Best wall and CPU seconds of 3 runs, and the largest quadrature error."""
    priors = bias_priors("robma")
    ensemble(y, se, priors=priors, effect_direction=direction)  # warm-up
    best = (np.inf, np.inf)
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        fit = ensemble(y, se, priors=priors, effect_direction=direction)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best[0], best[1], fit.max_log_ml_error


def main() -> int:
    load = os.getloadavg()[0]
    rows = [
        ("simulated with selection, k = 20", *timed(*simulated(), "positive")),
        ("bcg (k = 13, log RR, negative)", *timed(*bcg(), "negative")),
    ]
    lines = [
        BEGIN,
        "## Publication-bias ensemble (`python benchmarks/bias.py`, in process)",
        "",
        f"36 models (RoBMA-PSMA priors), best of 3 after a warm-up; load average {load:.1f} "
        "on 2 cores at the start. RoBMA 3.6 (JAGS + bridge sampling): 4.5-5.5 CPU minutes "
        "on bcg.",
        "",
        "| data | target s | wall s | CPU s | largest log-ML error |",
        "|---|---|---|---|---|",
    ]
    for name, wall, cpu, err in rows:
        lines.append(f"| {name} | <= {LIMIT_SECONDS:g} | {wall:.2f} | {cpu:.2f} | {err:.1e} |")
        print(f"{name}: wall {wall:.2f} s, cpu {cpu:.2f} s, error {err:.1e}")
    lines.append(END)
    text = RESULTS.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.replace("## Notes", block + "\n\n## Notes", 1)
    RESULTS.write_text(text)
    return int(max(r[1] for r in rows) > LIMIT_SECONDS)


if __name__ == "__main__":
    raise SystemExit(main())
