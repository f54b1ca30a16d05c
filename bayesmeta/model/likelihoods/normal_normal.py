"""Estimates with known variances: the normal-normal model (reported effects, or counts turned
into effect sizes with the escalc conventions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bayesmeta.model.likelihoods.base import Likelihood

if TYPE_CHECKING:
    import pandas as pd


class NormalNormal(Likelihood):
    """``y[i] ~ N(theta[i], se[i]^2)``, ``theta[i] ~ N(mu, tau^2)`` on
    :func:`~bayesmeta.model.description.normal_inputs`; fitted exactly by quadrature."""

    name = "normal-normal"
    needs = "estimates with standard errors"
    measure = "generic"  # reported data carry their own (see measure_of)
    design = "reported"
    exact = "exact"
    exact_default = True
    derived_data = True
    references = ("rover2020",)
    corrected_use = "the normal-normal model uses these corrected estimates."

    @property
    def data_class(self) -> type:
        from bayesmeta.io.reported import ReportedEffects

        return ReportedEffects

    def accepts(self, data: Any) -> bool:
        return True  # counts are turned into effect sizes

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        import numpy as np

        given = {"se": np.sqrt(np.asarray(spec.normal.v, dtype=float))}
        return given, {"y": np.asarray(spec.normal.y, dtype=float)}

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        import pymc as pm

        pm.Normal("y", mu=theta, sigma=data["se"], observed=data["y"], dims="study")

    def methods_text(self, data: Any, scale: str) -> str:
        source = "reported" if isinstance(data, self.data_class) else "escalc"
        estimates = f"the {source} study estimates y_i ({scale})"
        if getattr(data, "arms", None) is not None:  # a continuous outcome
            from bayesmeta.model.scales import scale_of_measure

            shown = scale_of_measure(data.measure)
            what = scale if shown.log_ratio else (shown.axis or shown.label).lower()
            estimates = (
                f"the study estimates y_i ({what}, {data.measure}), computed from each arm's "
                "mean, SD and size as metafor's escalc,"
            )
        return (
            f"We fitted a Bayesian normal-normal random-effects meta-analysis of {estimates} "
            "with their within-study variances v_i treated as known: y_i ~ N(theta_i, v_i), "
            "theta_i ~ N(mu, tau^2)."
        )

    def reference_direction(self, data: Any) -> str:
        how = data.origin or "as reported"
        if data.ratio:
            return f"{data.measure} {how} (log scale for mu and tau)"
        return f"{data.measure} {how}"

    def measure_note(self, data: Any) -> str | None:
        return f"{data.measure} {data.origin}" if data.origin else None  # a continuous outcome

    def forest_columns(self, data: Any) -> tuple[tuple[str, str], ...]:
        if getattr(data, "arms", None) is None:
            return ()
        return (("treatment", "Treatment\nmean (SD) n"), ("control", "Control\nmean (SD) n"))

    def forest_cells(self, data: Any, index: Any) -> list[str]:
        """A study's mean (SD) and size per arm; a pooled row's total size."""
        import numpy as np

        arms = getattr(data, "arms", None)
        if arms is None:
            return []
        cells = []
        for m, sd, n in ((arms.m1, arms.sd1, arms.n1), (arms.m2, arms.sd2, arms.n2)):
            total = f"{n[index].sum():.0f}"
            if np.size(n[index]) == 1:
                total = f"{m[index].item():.4g} ({sd[index].item():.4g}) {total}"
            cells.append(total)
        return cells

    def measure_of(self, data: Any) -> str:
        return data.measure

    check_statistic = "the study's estimate y_i, replicated as y_i^rep ~ N(theta_i^rep, v_i)"

    def observed_statistic(self, spec: Any) -> tuple[tuple[str, ...], Any]:
        import numpy as np

        return spec.normal.study, np.asarray(spec.normal.y, dtype=float)

    def replicate_statistic(self, spec: Any, post: dict[str, Any], theta: Any, rng: Any) -> Any:
        import numpy as np

        return theta + np.sqrt(spec.normal.v) * rng.standard_normal(theta.shape)

    def integrated_loo(
        self, spec: Any, post: dict[str, Any], mean: Any, tau: Any, rng: Any
    ) -> tuple[Any, Any]:
        import numpy as np
        from scipy import stats

        sd = np.sqrt(tau**2 + np.asarray(spec.normal.v, dtype=float))  # N(y_i; mean, tau^2 + v_i)
        y = np.asarray(spec.normal.y, dtype=float)
        return stats.norm.logpdf(y, mean, sd), mean + sd * rng.standard_normal(mean.shape)

    def effect_sizes(self, data: Any) -> Any:
        from bayesmeta.effects import EffectSizes

        return EffectSizes(data.study, data.yi, data.vi, data.measure, "none", (), ())

    def effect_inputs(self, data: Any) -> tuple[Any, Any, tuple[str, ...]]:
        return data.yi, data.vi, data.study

    def data_block(self, data: Any) -> dict[str, Any]:
        return {"measure": data.measure}

    def data_rows(self, data: Any, show: Any, scale: str) -> tuple[list[str], list[list[str]]]:
        import numpy as np

        label = data.measure if data.measure != "generic" else "estimate"
        rows = [
            [str(s), float(show(y)), float(np.sqrt(v))]
            for s, y, v in zip(data.study, data.yi, data.vi, strict=True)
        ]
        return ["Study", label, f"SE ({scale})"], rows

    def flat(self, data: Any) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        base = pd.DataFrame({"study": list(data.study), "yi": data.yi, "se": np.sqrt(data.vi)})
        return pd.concat([base, data.covariates.reset_index(drop=True)], axis=1)
