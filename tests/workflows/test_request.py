"""The one path `fit` and `run` share: a request from options or a specification file is
planned (everything checked, nothing fitted) before it is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.spec import load_spec
from bayesmeta.model.priors import parse_prior
from bayesmeta.workflows.request import AnalysisRequest, plan
from tests.conftest import ROOT


def test_a_spec_and_the_equivalent_options_plan_the_same_analysis() -> None:
    spec = load_spec(ROOT / "models" / "bcg_ablat.toml")
    from_file = plan(AnalysisRequest.from_spec(spec))
    from_options = plan(
        AnalysisRequest(
            example="bcg",
            model=spec.model,
            priors={k: parse_prior(v) for k, v in spec.priors.items()},
            covariates=spec.covariates,
            settings=SamplerSettings(**spec.sampler),
        )
    )
    assert from_file.spec.priors == from_options.spec.priors
    assert from_file.spec.moderators.names == from_options.spec.moderators.names == ("ablat",)
    assert from_file.engine == from_options.engine
    assert from_file.methods == from_options.methods


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (AnalysisRequest(), "give either a DATA.csv path or --example NAME"),
        (
            AnalysisRequest(example="bcg", engine="exact", covariates=("ablat",)),
            "has no covariates",
        ),
        (AnalysisRequest(example="bcg", methods=("peto", "nope")), "unknown frequentist method"),
        (AnalysisRequest(example="bcg", priors={"sigma": "normal(0, 1)"}), "unknown prior name"),
        (AnalysisRequest(example="bcg", covariates=("nope",)), "unknown covariate"),
        (
            AnalysisRequest(example="bcg", priors={"tau": "half-normal(1e9)"}),
            "for the sampler",
        ),
    ],
)
def test_plan_refuses_before_any_fitting(request_: AnalysisRequest, message: str) -> None:
    with pytest.raises(BayesmetaError, match=message):
        plan(request_)


def test_the_exact_engine_takes_any_prior_scale(tmp_path: Path) -> None:
    planned = plan(
        AnalysisRequest(example="bcg", model="normal-normal", priors={"tau": "half-normal(1e9)"})
    )
    assert planned.engine == "exact"
