"""What a likelihood is: one object that owns everything about one kind of model.

A :class:`Likelihood` (bambi's ``Family``) says which data it needs and how they are laid out
(``given`` and ``observed`` arrays), how the PyMC model observes them, which engines and
frequentist methods apply, how the methods paragraph describes it and what the study table
and forest plot show of its data. Engines, workflows and reports read these attributes; none
of them branches on a likelihood's name. Each likelihood is one module of this package and one
row of :mod:`bayesmeta.model.likelihoods.registry`. The modules import numpy, pandas and the
data classes only when asked, so the command line's ``--help`` can list the registry's names
without them.

Some of a likelihood's answers are about its *data* rather than the model (the cells of a study
row, the effect measure, the frequentist design): they are asked of the likelihood native to
the data (:func:`bayesmeta.model.likelihoods.registry.native`), so a normal-normal model on
two-arm counts still shows the counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd


class Likelihood:
    """One likelihood (see the module docstring); subclasses set the class attributes.

    Attributes
    ----------
    name
        The model's name (``--model``, the JSON ``model`` key).
    data_class
        The validated data class it is native to (the one ``--model auto`` picks it for).
    needs
        What it needs, for the one-line error when given other data.
    measure
        The escalc measure of its native data (``OR``, ``PLO``...): the scale of ``mu``, the
        observed study estimates and the inputs of the frequentist methods.
    design
        The frequentist design of its native data (:mod:`bayesmeta.frequentist.methods`).
    baseline
        The model has study baselines ``alpha`` with the ``baseline`` prior.
    kernel
        The code of the hand-written kernels (:mod:`bayesmeta.engines._numba`), None if the
        kernels do not implement it (then the PyMC path runs).
    exact
        The exact engine that integrates it, as the name of its summaries module in
        :mod:`bayesmeta.summaries` (``"exact"``: normal-normal quadrature; ``"exact_binomial"``:
        the exact binomial engine); None if none does.
    exact_default
        ``--engine auto`` chooses the exact engine.
    exact_refusal
        Why ``--engine exact`` is refused when :attr:`exact` is None (one line).
    derived_data
        Its arrays are derived from the data (effect sizes), so data swapped in with
        ``pm.set_data`` cannot be read back as input data.
    readable_arrays
        Data swapped in with ``pm.set_data`` read back as input data (False for a mixed
        table, whose arrays span two kinds of study): otherwise such a model is sampled as
        the PyMC model it is (:func:`bayesmeta.engines.pymc.spec_of`).
    checks_information
        Its data are counts that :func:`bayesmeta.io.information.information_warnings` checks
        for information on the effect.
    references
        Keys of :data:`bayesmeta.report.methods.REFERENCES` its methods sentence cites.
    citations
        The full text of those references that only this likelihood cites, by key (the
        report's reference list includes them).
    cell_titles
        Titles of the data columns of its rows in the terminal study table.
    forest_titles
        ``(key, title)`` of its data columns in the forest plot (:meth:`forest_columns`).
    corrected_note
        What the asterisk of a continuity-corrected observed estimate means (forest plot).
    corrected_use
        How the model uses such a study (report footnote).
    """

    name: ClassVar[str]
    needs: ClassVar[str]
    measure: ClassVar[str]
    design: ClassVar[str]
    baseline: ClassVar[bool] = False
    kernel: ClassVar[str | None] = None
    exact: ClassVar[str | None] = None
    exact_default: ClassVar[bool] = False
    exact_refusal: ClassVar[str] = "no exact engine integrates its likelihood"
    derived_data: ClassVar[bool] = False
    readable_arrays: ClassVar[bool] = True
    checks_information: ClassVar[bool] = False
    references: ClassVar[tuple[str, ...]] = ()
    citations: ClassVar[dict[str, str]] = {}
    cell_titles: ClassVar[tuple[str, ...]] = ()
    forest_titles: ClassVar[tuple[tuple[str, str], ...]] = ()
    corrected_note: ClassVar[str] = "* 0.5 added to every cell of a study with a zero cell"
    corrected_use: ClassVar[str] = "the Bayesian binomial model uses the counts as they are."

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def data_class(self) -> type:
        """The validated data class it is native to."""
        raise NotImplementedError

    # --- the model -------------------------------------------------------------------------
    def accepts(self, data: Any) -> bool:
        """Whether this model can be fitted to ``data``."""
        return isinstance(data, self.data_class)

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(given, observed)`` arrays of the data of ``spec`` (a model description), by name (see
        :meth:`bayesmeta.model.description.ModelSpec.arrays`)."""
        raise NotImplementedError

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        """Add the observed variables to the current PyMC model.

        ``data`` are the model's ``pm.Data`` containers by the names of :meth:`arrays`,
        ``theta`` the per-study effects, ``alpha`` the study baselines (None without). PyMC is
        imported here, so describing a model does not import it.
        """
        raise NotImplementedError

    def methods_text(self, data: Any, scale: str) -> str:
        """The model's sentences of the methods paragraph (``scale``: its name in words)."""
        raise NotImplementedError

    # --- its native data ---------------------------------------------------------------------
    def reference_direction(self, data: Any) -> str:
        """What the effect measures and which way it points."""
        raise NotImplementedError

    def measure_note(self, data: Any) -> str | None:
        """How the effect sizes of ``data`` were computed, if the classic report says it."""
        return None

    def cells(self, data: Any, index: Any) -> list[str]:
        """The data cells of the studies at ``index`` (summed over several), one per
        :attr:`cell_titles` / :attr:`forest_titles`."""
        return []

    def forest_columns(self, data: Any) -> tuple[tuple[str, str], ...]:
        """``(key, title)`` of the data columns of ``data`` in the forest plot."""
        return self.forest_titles

    def forest_cells(self, data: Any, index: Any) -> list[str]:
        """The forest plot's data cells of the studies at ``index``, one per
        :meth:`forest_columns`."""
        return self.cells(data, index)

    def data_block(self, data: Any) -> dict[str, Any]:
        """What the JSON ``data`` block says of these data beyond source, design, k, sha256."""
        return {}

    def header(self, data: Any, block: dict[str, Any]) -> str:
        """What the terminal's first line adds about the data (``block``: :meth:`data_block`)."""
        return ""

    def zero_cell_line(self, block: dict[str, Any], native_model: bool) -> str | None:
        """The terminal's line on zero cells, if any (``native_model``: this likelihood, not
        a normal-normal model on its effect sizes, was fitted)."""
        return None

    def measure_of(self, data: Any) -> str:
        """The effect measure of ``data`` (:attr:`measure`; reported data carry their own)."""
        return self.measure

    def effect_sizes(self, data: Any) -> Any:
        """The study estimates of the frequentist methods: metafor ``escalc`` defaults for
        :attr:`measure` (:class:`~bayesmeta.effects.EffectSizes`)."""
        from bayesmeta.effects import effect_sizes

        return effect_sizes(data, measure=self.measure)

    def effect_inputs(self, data: Any) -> tuple[Any, Any, tuple[str, ...]]:
        """Estimates, variances and study names of ``data`` for a normal-normal model.

        Counts are turned into effect sizes with metafor's ``escalc`` conventions (0.5 added
        to the cells of studies with a zero cell). Double-zero studies are left out
        (``drop00 = TRUE``): under the normal approximation their corrected estimate of about
        0 is an artefact of the correction, not information; the count models use them as
        they are.
        """
        from bayesmeta.effects import effect_sizes

        es = effect_sizes(data, measure=self.measure, drop00=True)
        return es.yi, es.vi, es.study

    def data_rows(
        self, data: Any, show: Any, scale: str
    ) -> tuple[list[str], list[list[str | float]]]:
        """Column titles and rows of the report's data table (before the covariates): text,
        or floats for the report to format; ``show`` maps the model scale to the shown one,
        ``scale`` is its name in words."""
        raise NotImplementedError

    def flat(self, data: Any) -> pd.DataFrame:
        """The data as one flat table: the JSON ``studies`` rows and the data checksum."""
        return data.to_frame()

    # posterior predictive checks (bayesmeta.summaries.checks): a likelihood that sets
    # ``check_statistic`` (what is compared, in words) defines the next two methods
    check_statistic: ClassVar[str | None] = None

    def observed_statistic(self, spec: Any) -> tuple[tuple[str, ...], Any]:
        """The studies of the model and each one's statistic ``T_i``."""
        raise NotImplementedError

    def replicate_statistic(self, spec: Any, post: dict[str, Any], theta: Any, rng: Any) -> Any:
        """``T_i^rep`` (draws x studies): the study's data replicated given the study effects
        ``theta`` and the posterior draws ``post`` (flattened over chains), then ``T_i``."""
        raise NotImplementedError

    def integrated_loo(
        self, spec: Any, post: dict[str, Any], mean: Any, tau: Any, rng: Any
    ) -> tuple[Any, Any]:
        """What leave-one-out leaves out of study ``i``, with its effect ``theta_i ~ N(mean,
        tau^2)`` integrated out (draws x studies each): the log likelihood of that data given
        the draw and ``T_i^rep`` replicated from the same integrated predictive (the study's
        other data, if any, as observed)."""
        raise NotImplementedError


def sums(values: Any, index: Any) -> Any:
    """``values[index]`` summed (one study or several)."""
    return values[index].sum()
