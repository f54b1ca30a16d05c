"""Analysis specifications in TOML: one file says what to fit, how, and where to write it.

A specification names the data (a CSV path relative to the TOML file, or a shipped example),
the model, the priors, the sampler settings and the JSON output. This module reads and checks
the file (types, ranges, unknown keys); :mod:`bayesmeta.workflows.request` turns it into the
same request ``bayesmeta fit`` builds from its options. ``bayesmeta run SPEC.toml`` writes the
result JSON with the specification's path and SHA-256 added, so a result can be traced back to
the exact file that produced it. See ``docs/sensitivity.md``.

Example::

    [data]
    example = "bcg"            # or: path = "data/bcg.csv" (in this file's folder tree)
    # sheet = "Data"           # a workbook's sheet; outcome = "1.2" of a RevMan file;
    # separator, decimal, encoding of a CSV (detected when not given)

    [model]
    name = "binomial-normal"   # binomial-normal | proportion | normal-normal | auto
    engine = "auto"            # nuts | exact (normal-normal) | auto
    common_effect = false
    measure = "RR"             # two-arm counts: OR | RR | RD; continuous: MD | SMD | ROM
    covariates = ["ablat"]     # meta-regression (optional)
    subgroup = "alloc"         # pooled effect per level (optional); separate_tau = true
    checks = true              # model checks, as fit --checks (optional)

    [priors]
    mu = "normal(0, 2.82)"
    tau = "half-normal(0.5)"
    baseline = "normal(0, 10)"
    beta = "normal(0, 10)"     # meta-regression slopes

    [sampler]
    chains = 4
    draws = 2000
    tune = 1000
    seed = 1
    # target_accept = 0.9      # default: 0.99 for a meta-regression, else 0.9

    [absolute]                 # absolute effects from the posterior (as --baseline-risk)
    baseline_risks = [0.05, 0.2]   # control-group risks, or "studies" (the study baselines)
    benefit_threshold = 10     # a clinically relevant benefit, events per 1,000 (optional)
    desirable_events = false   # true: a benefit is more events

    [output]
    json = "bcg.result.json"   # relative to this file (or to --out-dir)
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.table import check_file

# section -> key -> accepted Python type(s) of the TOML value
SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "data": {
        "path": str,
        "example": str,
        "columns": dict,
        "ci_level": (int, float),
        # how to read the file (bayesmeta.io.table.TableFile); as --sheet ... --outcome
        **dict.fromkeys(("sheet", "separator", "decimal", "encoding", "outcome"), str),
    },
    "model": {
        "name": str,
        "engine": str,
        "common_effect": bool,
        "covariates": list,
        "subgroup": str,
        "separate_tau": bool,
        "measure": str,
        "checks": bool,
    },
    "priors": {"mu": str, "tau": str, "baseline": str, "beta": str},
    "sampler": {
        "chains": int,
        "draws": int,
        "tune": int,
        "seed": int,
        "target_accept": (int, float),
    },
    "output": {"json": str},
    "absolute": {
        "baseline_risks": list,
        "benefit_threshold": (int, float),
        "desirable_events": bool,
    },
}
READ_OPTIONS = ("sheet", "separator", "decimal", "encoding", "outcome")
_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    dict: "a table",
    list: "a list of column names",
}
_KEY_TYPE_NAMES = {"baseline_risks": 'a list of risks or "studies", e.g. [0.05, "studies"]'}
# Bounds accepted here and by the options --ci-level and --target-accept (the one place they
# are set).
CI_LEVEL_BOUNDS = (0.5, 0.999)
TARGET_ACCEPT_BOUNDS = (0.5, 0.999)
# Same bounds as the options of `bayesmeta fit`.
_MINIMUM = {"chains": 1, "draws": 100, "tune": 100, "seed": 0}
# A [model] covariates list longer than this is refused before any data are read.
MAX_COVARIATES = 50


@dataclass(frozen=True)
class Spec:
    """A validated analysis specification (see the module docstring for the TOML format)."""

    path: Path
    sha256: str
    data_path: Path | None
    example: str | None
    columns: dict[str, str] = field(default_factory=dict)
    ci_level: float = 0.95
    reading: dict[str, str] = field(default_factory=dict)
    model: str = "auto"
    engine: str = "auto"
    common_effect: bool = False
    covariates: tuple[str, ...] = ()
    subgroup: str | None = None
    separate_tau: bool = False
    measure: str | None = None
    absolute: dict[str, Any] = field(default_factory=dict)
    checks: bool = False
    priors: dict[str, str] = field(default_factory=dict)
    sampler: dict[str, int | float] = field(default_factory=dict)
    json_name: str | None = None

    def output_path(self, out_dir: str | Path | None = None) -> Path:
        """Where the result JSON goes.

        Parameters
        ----------
        out_dir
            Folder for the JSON (its file name is kept); None: relative to the TOML file.

        Returns
        -------
        Path
            ``[output] json``, or ``<spec name>.result.json`` when the spec names none.

        Raises
        ------
        BayesmetaError
            ``[output] json`` leads out of the specification's folder (an absolute path or
            ``..``) and no ``out_dir`` was given: a specification file may not choose where
            outside its folder a command writes.
        """
        name = self.json_name or f"{self.path.stem}.result.json"
        if out_dir is not None:
            return Path(out_dir) / Path(name).name
        folder = self.path.parent.resolve()
        target = (folder / name).resolve()
        if Path(name).is_absolute() or not target.is_relative_to(folder):
            raise BayesmetaError(
                f"{self.path}: [output] json {name!r} leads out of the specification's folder; "
                "name a file inside it, or give --out-dir to write elsewhere"
            )
        return self.path.parent / name


def _type_ok(value: Any, expected: type | tuple[type, ...]) -> bool:
    # TOML booleans are Python ints too: never accept them as numbers.
    if isinstance(value, bool):
        return expected is bool
    return isinstance(value, expected)


def _check_table(where: str, table: dict[str, Any]) -> None:
    unknown = [s for s in table if s not in SCHEMA]
    if unknown:
        raise BayesmetaError(
            f"{where}: unknown section(s) {', '.join(unknown)}; valid sections: {', '.join(SCHEMA)}"
        )
    for section, values in table.items():
        keys = SCHEMA[section]
        if not isinstance(values, dict):
            raise BayesmetaError(f"{where}: {section} must be a [{section}] table")
        bad = [k for k in values if k not in keys]
        if bad:
            raise BayesmetaError(
                f"{where}: unknown key(s) {', '.join(bad)} in [{section}]; valid keys: "
                f"{', '.join(keys)}"
            )
        for key, value in values.items():
            expected = keys[key]
            if not _type_ok(value, expected):
                want = _TYPE_NAMES[expected] if isinstance(expected, type) else "a number"
                want = _KEY_TYPE_NAMES.get(key, want)
                raise BayesmetaError(f"{where}: [{section}] {key} must be {want}, got {value!r}")
            if key in _MINIMUM and value < _MINIMUM[key]:
                raise BayesmetaError(
                    f"{where}: [{section}] {key} must be at least {_MINIMUM[key]}, got {value}"
                )


def _check_sampler(where: str, sampler: dict[str, Any]) -> dict[str, int | float]:
    accept = sampler.get("target_accept")
    low, high = TARGET_ACCEPT_BOUNDS
    if accept is not None and not low <= accept <= high:
        raise BayesmetaError(
            f"{where}: [sampler] target_accept must be between {low} and {high}, got {accept}"
        )
    return dict(sampler)


def _ci_level(where: str, level: float) -> float:
    low, high = CI_LEVEL_BOUNDS  # as --ci-level
    if not low <= level <= high:
        raise BayesmetaError(
            f"{where}: [data] ci_level must be between {low} and {high}, got {level}"
        )
    return float(level)


def _data_path(spec: Path, name: str) -> Path:
    """The data file a specification names: relative to its folder, and inside it.

    A specification is a file one may receive from someone else; it may not read any file of
    the machine (``path = "/etc/shadow"``, ``../../private.csv``, or a link leading out), only
    the ones in the folder tree it sits in. Links are resolved before the check.
    """
    folder = spec.parent.resolve()
    target = (folder / name).resolve()
    if not target.is_relative_to(folder):
        raise BayesmetaError(
            f"{spec}: [data] path {name!r} leads out of the specification's folder {folder}; "
            "a specification reads data only from its own folder tree: move the specification "
            "beside the data (or the data into its folder), or analyse the file with "
            "`bayesmeta fit DATA`"
        )
    if not target.is_file():
        raise BayesmetaError(f"{spec}: [data] path {name!r}: no file {target}")
    return target


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML analysis specification.

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    Spec
        With the data path resolved against the TOML file's folder.

    Raises
    ------
    BayesmetaError
        On an unreadable file, invalid TOML, unknown sections or keys (the valid ones are
        listed), values of the wrong type or range, or data that is missing, doubly given or
        not found.
    """
    path = Path(path)
    where = str(path)
    check_file(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BayesmetaError(f"cannot read {where}: {exc.strerror or exc}") from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BayesmetaError(f"{where}: not valid TOML: {exc}") from None
    _check_table(where, table)

    data = table.get("data", {})
    if ("path" in data) == ("example" in data):
        raise BayesmetaError(
            f"{where}: [data] needs exactly one of path = 'FILE.csv' or example = 'NAME'"
        )
    data_path = None
    if "path" in data:
        data_path = _data_path(path, data["path"])
    columns = data.get("columns", {})
    if not all(isinstance(v, str) for v in columns.values()):
        raise BayesmetaError(f"{where}: [data] columns must map roles to column names (strings)")

    model = table.get("model", {})
    covariates = model.get("covariates", [])
    if not all(isinstance(c, str) for c in covariates):
        raise BayesmetaError(f"{where}: [model] covariates must be a list of column names")
    if len(covariates) > MAX_COVARIATES:
        raise BayesmetaError(
            f"{where}: [model] covariates lists {len(covariates):,} columns; at most "
            f"{MAX_COVARIATES} (and fewer than the studies) can be fitted"
        )
    return Spec(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        data_path=data_path,
        example=data.get("example"),
        columns=dict(columns),
        ci_level=_ci_level(where, data.get("ci_level", 0.95)),
        reading={k: data[k] for k in READ_OPTIONS if k in data},
        model=model.get("name", "auto"),
        engine=model.get("engine", "auto"),
        common_effect=model.get("common_effect", False),
        covariates=tuple(covariates),
        subgroup=model.get("subgroup"),
        separate_tau=model.get("separate_tau", False),
        measure=model.get("measure"),
        absolute=dict(table.get("absolute", {})),
        checks=model.get("checks", False),
        priors=dict(table.get("priors", {})),
        sampler=_check_sampler(where, table.get("sampler", {})),
        json_name=table.get("output", {}).get("json"),
    )
