"""What the commands share: one-line errors, the console, the model options of ``fit``,
``report`` and ``plot`` (:func:`model_options`), writing outputs."""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.spec import CI_LEVEL_BOUNDS, TARGET_ACCEPT_BOUNDS
from bayesmeta.model.likelihoods import LIKELIHOODS, NAMES

EXACT = tuple(name for name, lik in LIKELIHOODS.items() if lik.exact is not None)
EXACT_DEFAULT = tuple(name for name, lik in LIKELIHOODS.items() if lik.exact_default)

EXIT_USER_ERROR = 2
EXIT_NOT_CONVERGED = 3
EXIT_ALL_FAILED = 4  # batch/simulate: not one meta-analysis could be fitted


# What a terminal that cannot show a character (cp1252, ASCII) gets instead.
ASCII_TEXT = {"τ": "tau", "μ": "mu", "θ": "theta", "β": "beta", "≥": ">=", "≤": "<=",
              "±": "+-", "\u00d7": "x", "²": "^2", "√": "sqrt ", "∝": "~", "\u2212": "-",
              "\u2013": "-", "\u2014": "-", "…": "...", "✓": "ok", "✗": "x"}  # fmt: skip


def _ascii_replacement(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler ``bayesmeta-ascii``: τ -> tau, ≥ -> >=, box lines -> - | +,
    accented letters without their accents, anything else ``?``."""
    import unicodedata

    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for ch in error.object[error.start : error.end]:
        name = unicodedata.name(ch, "")
        if ch in ASCII_TEXT:
            out.append(ASCII_TEXT[ch])
        elif name.startswith(("BOX DRAWINGS", "HEAVY", "LIGHT")):
            out.append("-" if "HORIZONTAL" in name else "|" if "VERTICAL" in name else "+")
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out), error.end


def ascii_fallback() -> None:
    """Let stdout and stderr degrade characters their encoding lacks (a cp1252 console)
    to ASCII (:func:`_ascii_replacement`) instead of failing with UnicodeEncodeError."""
    import codecs

    try:
        codecs.lookup_error("bayesmeta-ascii")
    except LookupError:
        codecs.register_error("bayesmeta-ascii", _ascii_replacement)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="bayesmeta-ascii")


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command as every command runs.

    A BayesmetaError becomes a one-line message on stderr and exit code 2. The command's
    output files appear together when it ends, also when it exits with a code on purpose,
    and none of them if it fails or is interrupted
    (:func:`bayesmeta.io.output.outputs_together`). Progress bars show on a terminal unless
    the command was given ``--quiet`` (:mod:`bayesmeta.progress`). Ctrl-C and SIGTERM are
    handled once for all commands, by the entry point (:mod:`bayesmeta.interrupts`).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from bayesmeta import progress
        from bayesmeta.io.output import outputs_together

        for name in ("stdout", "stderr"):
            if not isinstance(getattr(sys, name), PipeSafe):
                setattr(sys, name, PipeSafe(getattr(sys, name)))
        try:
            with (
                outputs_together(keep_on=(typer.Exit,)),
                progress.shown(not kwargs.get("quiet", False)),
            ):
                return command(*args, **kwargs)
        except BayesmetaError as exc:
            typer.echo(f"error: {for_this_command(str(exc))}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None

    return wrapper


def command_options() -> frozenset[str]:
    """The ``--options`` of the command running now (empty outside a command)."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return frozenset()
    return frozenset(
        o for p in ctx.command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")
    )


_OPTION = re.compile(r"--[a-z][a-z0-9-]*")


def for_this_command(message: str, options: frozenset[str] | None = None) -> str:
    """``message`` without the hints that name an option the command lacks.

    The library's messages suggest options (``(map yours with --columns ROLE=NAME)``, ``use
    --engine nuts``) that only some commands have: ``batch`` has no ``--columns``,
    ``sensitivity`` no ``--engine``. Each such hint, a parenthesis or a ``;``-clause or an
    ``, or ...`` alternative, is dropped; the rest of the message stays as it is.
    """
    options = command_options() if options is None else options
    if not options:
        return message
    for name in sorted(set(_OPTION.findall(message)) - options, key=len, reverse=True):
        flag = re.escape(name) + r"(?![a-z0-9-])"
        for hint in (
            rf"\s*\([^()]*{flag}[^()]*\)",  # (use --engine nuts for ...)
            rf",? or [^;()]*{flag}\S*",  # ..., or choose with --columns study=NAME
            rf";\s*[^;]*{flag}[^;]*",  # ...; use --engine nuts
        ):
            shorter = re.sub(hint, "", message)
            if shorter != message:
                message = shorter
                break
    return message


class PipeSafe:
    """A text stream whose reader may go away: once a write or flush finds the pipe closed
    (``bayesmeta classic DATA --json out.json | head -1``), the rest of the text is dropped
    and the command goes on, so its output files are still written.

    The stream's file descriptor is pointed at the null device, so that what is still held in
    its buffer does not fail again when the process flushes it on the way out.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        """Write ``text``, or drop it once the reader has gone."""
        if not self.closed_by_reader:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        """Flush, unless the reader has gone."""
        if not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self.closed_by_reader = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def parse_columns(text: str | None) -> dict[str, str]:
    """``"treatment_events=tpos, control_events=cpos"`` -> mapping of role to column."""
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise BayesmetaError(
                f"--columns expects ROLE=COLUMN pairs separated by commas, got {part!r}"
            )
        out[role.strip()] = column.strip()
    return out


def parse_methods(text: str | None) -> tuple[str, ...] | None:
    """``"DL, REML"`` -> the method names of ``--methods`` (None when not given).

    Raises
    ------
    BayesmetaError
        The option given but empty, or with an empty name (``"DL,"``).
    """
    if text is None:
        return None
    names = tuple(m.strip() for m in text.split(","))
    if not all(names):
        raise BayesmetaError(
            f"--methods expects method names separated by commas, e.g. 'DL,REML'; got {text!r}"
        )
    return names


def non_empty(value: str | None, option: str, example: str) -> str | None:
    """``value`` of ``option`` if not given or not blank (``--cumulative ''`` is a mistake,
    not a request for nothing)."""
    if value is not None and not value.strip():
        raise BayesmetaError(f"{option} needs a value, e.g. {option} {example}; got {value!r}")
    return value


def console() -> Any:
    """Rich console that prints text literally (no markup, emoji codes or highlighting, so
    study names such as ``[/]`` show as written); 110 columns when not writing to a terminal,
    so tables do not wrap."""
    from rich.console import Console

    literal = {"markup": False, "emoji": False, "highlight": False}
    return Console(**literal) if sys.stdout.isatty() else Console(width=110, **literal)


READ_OPTIONS = ("sheet", "separator", "decimal", "encoding", "outcome")


def reading(values: dict[str, Any]) -> dict[str, str]:
    """The read options (``--sheet`` ... ``--outcome``) given among a command's ``values``."""
    return {k: values[k] for k in READ_OPTIONS if values.get(k) is not None}


def load_data(
    path: Path | None,
    example: str | None,
    columns: str | None,
    split: bool = False,
    read: dict[str, str] | None = None,
    measure: str | None = None,
) -> Any:
    """The data of a command's DATA argument or ``--example``, read as ``read`` says, in
    ``measure`` (continuous outcomes)."""
    from bayesmeta.workflows.request import AnalysisRequest, load_data

    request = AnalysisRequest(
        data=path,
        example=example,
        columns=parse_columns(columns),
        split_shared_control=split,
        reading=read or {},
        measure=measure,
    )
    return load_data(request)


def default_favours(request: Any) -> tuple[str, str] | None:
    """The default of ``--favours``: the labels of a shipped example whose events are wanted
    (quitting smoking...), or those RevMan gives the outcome read; None for the usual ones."""
    if request.example is not None:
        from bayesmeta.io.examples import example as find_example

        return find_example(request.example).favours
    if request.data is not None and Path(request.data).suffix.lower() == ".rm5":
        from bayesmeta.io.revman import favours

        return favours(Path(request.data), request.reading.get("outcome"))
    return None


def check_output(path: Path | None, data: Path | None, example: str | None, force: bool) -> None:
    """Check the one output of a command reading DATA or ``--example`` before any work."""
    from bayesmeta.io.output import check_outputs
    from bayesmeta.workflows.request import AnalysisRequest, input_path

    source = input_path(AnalysisRequest(data=data, example=example))
    check_outputs([path], inputs=[source], overwrite=force)


def write_json(path: Path | None, payload: dict[str, Any], force: bool) -> None:
    """Write ``payload`` to ``path`` (if given) and say so."""
    if path is not None:
        from bayesmeta.io.output import write_json as write

        write(path, payload, overwrite=force)
        typer.echo(f"wrote {path}")


DataArg = Annotated[
    Path | None,
    typer.Argument(
        help="Data file, one row per study: CSV, workbook (.xlsx, .xls, .ods) or RevMan 5 "
        "review (.rm5).",
        show_default=False,
    ),
]
ExampleOpt = Annotated[
    str | None, typer.Option(help="Use a shipped example dataset (see `bayesmeta examples`).")
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(help="Map your column names: 'treatment_events=tpos,control_total=n_c'."),
]
SheetOpt = Annotated[
    str | None,
    typer.Option(
        help="Workbook sheet (name or number, 1 = first); default: the first with the columns."
    ),
]
SeparatorOpt = Annotated[
    str | None,
    typer.Option(help="CSV column separator: comma | semicolon | tab (default: detected)."),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        help="CSV decimal mark: '.' or ',' (default: ',' in semicolon-separated files, else '.')."
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        help="CSV text encoding, e.g. cp1252, latin-1 (default: UTF-8, or UTF-16 with a BOM)."
    ),
]
OutcomeOpt = Annotated[
    str | None,
    typer.Option(
        help="RevMan 5 (.rm5) outcome: its number (1.2) or name (see `bayesmeta outcomes`)."
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]
FavoursOpt = Annotated[
    str | None,
    typer.Option(
        help="Forest-plot labels left and right of no effect, comma-separated (default: "
        "'Favours treatment,Favours control', for harmful events; swap them for wanted ones; "
        "a shipped example of wanted events has its own).",
    ),
]
SplitOpt = Annotated[
    bool,
    typer.Option(
        "--split-shared-control",
        help="Divide a control arm that several comparisons of a multi-arm trial share "
        "between them (Cochrane Handbook 23.3.4).",
    ),
]
MeasureOpt = Annotated[
    str | None,
    typer.Option(
        help="Two-arm counts: OR (odds ratio, the default), RR (risk ratio) or RD (risk "
        "difference), as metafor's escalc and rma.mh; Peto and the GLMM stay OR-only. "
        "Continuous outcomes (each arm's mean, SD and size): MD (the default), SMD (Hedges' "
        "g) or ROM (ratio of means), as escalc.",
    ),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the results as JSON.")]
BaselineRiskOpt = Annotated[
    str | None,
    typer.Option(
        help="Control-group risks, comma-separated (e.g. 0.05,0.20), or 'studies' (the "
        "posterior predictive control risk of the study baselines; binomial-normal, NUTS): "
        "the treated risk, risk difference per 1,000, risk ratio and NNT from the posterior "
        "at each.",
    ),
]
BenefitThresholdOpt = Annotated[
    float | None,
    typer.Option(
        help="A clinically relevant benefit, in events per 1,000 (e.g. 10): the posterior "
        "probability of at least that many fewer events (more with --desirable-events) at "
        "each control risk.",
    ),
]
DesirableEventsOpt = Annotated[
    bool,
    typer.Option(
        "--desirable-events",
        help="The events are desirable (a benefit is more of them), not harmful.",
    ),
]


def absolute_options(
    baseline_risk: str | None, threshold: float | None, desirable: bool
) -> dict[str, Any]:
    """The ``baseline_risks`` and ``benefit`` of a request from the command-line options.

    Raises
    ------
    BayesmetaError
        A threshold or --desirable-events without --baseline-risk; a bad risk or threshold.
    """
    from bayesmeta.summaries.absolute import Benefit, parse_baseline_risks

    if baseline_risk is None:
        if threshold is not None or desirable:
            raise BayesmetaError("--benefit-threshold and --desirable-events need --baseline-risk")
        return {"baseline_risks": (), "benefit": None}
    return {
        "baseline_risks": parse_baseline_risks(baseline_risk),
        "benefit": Benefit(threshold, fewer=not desirable) if threshold is not None else None,
    }


PriorMuOpt = Annotated[
    str | None, typer.Option(help="Prior of the pooled effect mu, e.g. 'normal(0, 2.82)'.")
]
PriorTauOpt = Annotated[
    str | None, typer.Option(help="Prior of the heterogeneity SD tau, e.g. 'half-normal(0.5)'.")
]
PriorBaselineOpt = Annotated[
    str | None,
    typer.Option(help="Prior of each study's control-arm log odds, e.g. 'normal(0, 10)'."),
]
CommonOpt = Annotated[
    bool, typer.Option("--common-effect", help="Fit tau = 0 (common-effect model).")
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bars (they show only on a terminal)."),
]
CovariateOpt = Annotated[
    list[str] | None,
    typer.Option(help="Meta-regression on this column (repeat for several)."),
]
SubgroupOpt = Annotated[str | None, typer.Option(help="Pooled effect per level of this column.")]
PmTolOpt = Annotated[
    float,
    typer.Option(
        min=1e-15,
        max=1.0,
        help="Root tolerance of the Paule-Mandel tau^2 search (metafor's default).",
    ),
]
ChainsOpt = Annotated[int, typer.Option(min=1)]
DrawsOpt = Annotated[int, typer.Option(min=100, help="Draws per chain after tuning.")]
TuneOpt = Annotated[int, typer.Option(min=100, help="Tuning steps per chain.")]


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# The model options `fit`, `report` and `plot` share (in `--help` order), defined once here.
MODEL_PARAMETERS: tuple[inspect.Parameter, ...] = (
    _option("data", DataArg, None),
    _option("example", ExampleOpt, None),
    _option(
        "model",
        Annotated[
            str,
            typer.Option(help=f"{' | '.join(NAMES)} | auto (from the columns)."),
        ],
        "auto",
    ),
    _option(
        "engine",
        Annotated[
            str,
            typer.Option(
                help=f"nuts | exact (quadrature: {', '.join(EXACT)}) | "
                f"auto (exact for {', '.join(EXACT_DEFAULT)}, else nuts)."
            ),
        ],
        "auto",
    ),
    _option("prior_mu", PriorMuOpt, None),
    _option("prior_tau", PriorTauOpt, None),
    _option("prior_baseline", PriorBaselineOpt, None),
    _option("common_effect", CommonOpt, False),
    _option(
        "compare",
        Annotated[
            bool,
            typer.Option(
                "--compare",
                help="Compare random vs common effect (PSIS-LOO, or Bayes factor if exact).",
            ),
        ],
        False,
    ),
    _option(
        "bayes_factors",
        Annotated[
            bool,
            typer.Option(
                "--bayes-factors",
                help="Bayes factors for the effect (mu = 0) and heterogeneity (tau = 0) from "
                "exact marginal likelihoods (models without moderators).",
            ),
        ],
        False,
    ),
    _option("covariate", CovariateOpt, None),
    _option("subgroup", SubgroupOpt, None),
    _option(
        "separate_tau",
        Annotated[bool, typer.Option("--separate-tau", help="Each subgroup its own tau.")],
        False,
    ),
    _option(
        "prior_beta",
        Annotated[str, typer.Option(help="Prior of each meta-regression slope.")],
        "normal(0, 10)",
    ),
    _option(
        "ci_level",
        Annotated[
            float,
            typer.Option(
                min=CI_LEVEL_BOUNDS[0],
                max=CI_LEVEL_BOUNDS[1],
                help="Level of reported CIs (effect-size input).",
            ),
        ],
        0.95,
    ),
    _option("chains", ChainsOpt, 4),
    _option("draws", DrawsOpt, 2000),
    _option("tune", TuneOpt, 1000),
    _option(
        "seed",
        Annotated[int, typer.Option(help="Random seed: the same seed gives the same numbers.")],
        1,
    ),
    _option(
        "target_accept",
        Annotated[
            float | None,
            typer.Option(
                min=TARGET_ACCEPT_BOUNDS[0],
                max=TARGET_ACCEPT_BOUNDS[1],
                help="NUTS target acceptance rate (default: 0.99 with covariates, else 0.9).",
            ),
        ],
        None,
    ),
    _option(
        "hdi",
        Annotated[bool, typer.Option("--hdi", help="Also show 95% highest-density intervals.")],
        False,
    ),
    _option(
        "methods",
        Annotated[
            str | None,
            typer.Option(
                help="Frequentist methods shown, comma-separated (default: MH, IV, DL, REML, HKSJ)."
            ),
        ],
        None,
    ),
    _option("columns", ColumnsOpt, None),
    _option("sheet", SheetOpt, None),
    _option("separator", SeparatorOpt, None),
    _option("decimal", DecimalOpt, None),
    _option("encoding", EncodingOpt, None),
    _option("outcome", OutcomeOpt, None),
    _option("split_shared_control", SplitOpt, False),
)
MODEL_OPTION_NAMES = tuple(p.name for p in MODEL_PARAMETERS)


@dataclass(frozen=True)
class ModelOptions:
    """The model options of one command line, as given (see :data:`MODEL_PARAMETERS`).

    ``given`` names the options set on the command line rather than left at their defaults.
    :meth:`request` turns them into the :class:`~bayesmeta.workflows.request.AnalysisRequest`
    that ``fit`` and ``run`` plan and execute.
    """

    values: dict[str, Any]
    given: frozenset[str] = frozenset()

    @property
    def spec_file(self) -> Path | None:
        """DATA when it is an analysis specification (``.toml``) rather than a CSV file."""
        data = self.values.get("data")
        return data if data is not None and data.suffix.lower() == ".toml" else None

    def request(self) -> Any:
        """The AnalysisRequest these options make (from the TOML file when DATA is one).

        Raises
        ------
        BayesmetaError
            A TOML specification combined with model options (the file must say it all).
        """
        from bayesmeta.engines.nuts import SamplerSettings
        from bayesmeta.workflows.request import AnalysisRequest

        if self.spec_file is not None:
            from bayesmeta.io.spec import load_spec

            extra = sorted(self.given - {"data"})
            if extra:
                flags = ", ".join("--" + name.replace("_", "-") for name in extra)
                raise BayesmetaError(
                    f"{self.spec_file} is a specification file: set {flags} in it instead "
                    "of on the command line"
                )
            return AnalysisRequest.from_spec(load_spec(self.spec_file))
        v = self.values
        given = {
            "mu": v["prior_mu"],
            "tau": v["prior_tau"],
            "baseline": v["prior_baseline"],
            "beta": v["prior_beta"],
        }
        return AnalysisRequest(
            data=v["data"],
            example=v["example"],
            columns=parse_columns(v["columns"]),
            ci_level=v["ci_level"],
            reading=reading(v),
            model=v["model"],
            engine=v["engine"],
            priors={k: p for k, p in given.items() if p is not None},
            common_effect=v["common_effect"],
            covariates=tuple(v["covariate"] or ()),
            subgroup=v["subgroup"],
            separate_tau=v["separate_tau"],
            compare=v["compare"],
            bayes_factors=v["bayes_factors"],
            hdi=v["hdi"],
            settings=SamplerSettings(
                chains=v["chains"],
                draws=v["draws"],
                tune=v["tune"],
                seed=v["seed"],
                target_accept=v["target_accept"],
            ),
            methods=parse_methods(v["methods"]),
            split_shared_control=v["split_shared_control"],
        )


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``command`` the model options of ``fit`` (:data:`MODEL_PARAMETERS`).

    ``command`` declares its own parameters and one named ``options``; the command line shows
    its own options first, then the shared ones, and ``options`` receives the shared ones as
    :class:`ModelOptions`.
    """
    own = [
        p
        for p in inspect.signature(command, eval_str=True).parameters.values()
        if p.name != "options"
    ]
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    positional = [p for p in own if _is_argument(p)]
    rest = [p for p in own if not _is_argument(p)]
    context = inspect.Parameter(
        "typer_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
    )
    parameters = [context, *positional, *MODEL_PARAMETERS, *rest]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        context = kwargs.pop("typer_context")
        values = {name: kwargs.pop(name) for name in MODEL_OPTION_NAMES}
        given = frozenset(
            name
            for name in MODEL_OPTION_NAMES
            if getattr(context.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"
        )
        return command(options=ModelOptions(values, given), **kwargs)

    wrapper.__signature__ = inspect.Signature(parameters, return_annotation=None)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return wrapper


def _is_argument(parameter: inspect.Parameter) -> bool:
    """A positional command-line argument (``typer.Argument``), not an option."""
    metadata = getattr(parameter.annotation, "__metadata__", ())
    return any(isinstance(m, typer.models.ArgumentInfo) for m in metadata)
