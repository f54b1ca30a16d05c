"""Time the exact NNHM engine on the example datasets (target: < 0.5 s per fit).

Run: ``python benchmarks/exact.py``. Prints wall time (best of 5) of ``nnhm_posterior`` with
``mu ~ normal(0, 10)``, ``tau ~ half-normal(0.5)`` on escalc log odds ratios, and the largest
absolute difference from ``tests/reference/NAME.nnhm.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_exact import escalc_log_or  # noqa: E402

from bayesmeta.engines.exact import nnhm_posterior  # noqa: E402

LIMIT_SECONDS = 0.5


def largest_error(post, ref: dict) -> float:
    """Worst absolute difference over the medians, 95% limits and P(mu < 0)."""
    errors = [abs(post.prob_mu_below_0 - ref["p_mu_below_0"])]
    for name in ("mu", "tau", "theta_new"):
        got, want = getattr(post, name), ref[name]
        errors += [
            abs(got["median"] - want["median"]),
            abs(got["ci95"][0] - want["q025"]),
            abs(got["ci95"][1] - want["q975"]),
        ]
    return max(errors)


def main() -> int:
    slow = False
    for name in ("bcg", "li2007", "nielweise2007"):
        y, v, study = escalc_log_or(ROOT / "examples" / f"{name}.csv")
        times = []
        for _ in range(5):
            start = time.perf_counter()
            post = nnhm_posterior(
                y, v, prior_mu="normal(0, 10)", prior_tau="half-normal(0.5)", study=study
            )
            times.append(time.perf_counter() - start)
        ref = json.loads((ROOT / "tests" / "reference" / f"{name}.nnhm.json").read_text())
        best = min(times)
        slow |= best > LIMIT_SECONDS
        error = largest_error(post, ref)
        print(f"{name:15s} k={len(y):3d}  {best * 1000:7.1f} ms  max |error| {error:.1e}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
