"""Empirical heterogeneity priors of Turner et al. (2015) for log odds ratios.

Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Predictive distributions for
between-study heterogeneity and simple methods for their application in Bayesian
meta-analysis. Stat Med 2015;34(6):984-998, doi:10.1002/sim.6381. Table IV gives log-normal
predictive distributions ``log tau^2 ~ N(m, s^2)`` for a new meta-analysis of a binary outcome
(log odds ratio scale), by type of outcome and type of comparison, from 14,886 meta-analyses
in the Cochrane Database of Systematic Reviews. The values below are Table IV's; they agree
with ``TurnerEtAlParameters`` of the R package bayesmeta (Rover 2020), version 3.4.

Since ``log tau = (log tau^2) / 2``, ``tau ~ LogNormal(m / 2, s / 2)``
(:func:`bayesmeta.model.priors.turner_prior`). This module holds the table and reads its names;
it knows nothing of prior objects.
"""

from __future__ import annotations

import re

from bayesmeta.errors import OptionError

PHARMA, NON_PHARMA, CONTROL = "pharmacological", "non-pharmacological", "placebo / control"

COMPARISONS = (
    f"{PHARMA} vs. {CONTROL}",
    f"{PHARMA} vs. {PHARMA}",
    f"{NON_PHARMA} vs. {CONTROL}",
    f"{NON_PHARMA} vs. {PHARMA}",
    f"{NON_PHARMA} vs. {NON_PHARMA}",
)

# Table IV: (mean, SD) of log tau^2 per outcome type, one pair per comparison in COMPARISONS.
TABLE_IV: dict[str, tuple[tuple[float, float], ...]] = {
    "all-cause mortality": (
        (-3.95, 1.34), (-4.18, 1.41), (-4.17, 1.55), (-2.92, 1.02), (-3.50, 1.26),
    ),
    "obstetric outcomes": (
        (-3.52, 1.74), (-3.75, 1.79), (-3.74, 1.91), (-2.49, 1.50), (-3.08, 1.68),
    ),
    "cause-specific mortality / major morbidity event / composite (mortality or morbidity)": (
        (-3.71, 1.74), (-3.95, 1.79), (-3.93, 1.91), (-2.68, 1.51), (-3.27, 1.68),
    ),
    "resource use / hospital stay / process": (
        (-2.34, 1.74), (-2.58, 1.79), (-2.56, 1.91), (-1.31, 1.50), (-1.90, 1.68),
    ),
    "surgical / device related success / failure": (
        (-2.14, 1.74), (-2.37, 1.79), (-2.36, 1.91), (-1.11, 1.50), (-1.69, 1.68),
    ),
    "withdrawals / drop-outs": (
        (-2.99, 1.74), (-3.23, 1.79), (-3.21, 1.91), (-1.96, 1.51), (-2.55, 1.68),
    ),
    "internal / structure-related outcomes": (
        (-2.71, 1.74), (-2.94, 1.79), (-2.93, 1.92), (-1.67, 1.51), (-2.26, 1.68),
    ),
    "general physical health indicators": (
        (-2.29, 1.53), (-2.53, 1.58), (-2.51, 1.72), (-1.26, 1.25), (-1.85, 1.46),
    ),
    "adverse events": (
        (-1.87, 1.52), (-2.10, 1.58), (-2.10, 1.71), (-0.84, 1.24), (-1.43, 1.45),
    ),
    "infection / onset of new disease": (
        (-2.49, 1.52), (-2.73, 1.58), (-2.71, 1.71), (-1.46, 1.24), (-2.05, 1.45),
    ),
    "signs / symptoms reflecting continuation / end of condition": (
        (-2.06, 1.51), (-2.29, 1.58), (-2.28, 1.71), (-1.03, 1.24), (-1.61, 1.45),
    ),
    "pain": (
        (-1.83, 1.52), (-2.06, 1.58), (-2.05, 1.71), (-0.80, 1.25), (-1.38, 1.45),
    ),
    "quality of life / functioning (dichotomized)": (
        (-2.54, 1.54), (-2.78, 1.60), (-2.77, 1.73), (-1.51, 1.27), (-2.10, 1.47),
    ),
    "mental health indicators": (
        (-2.12, 1.53), (-2.35, 1.60), (-2.34, 1.72), (-1.09, 1.27), (-1.67, 1.47),
    ),
    "biological markers (dichotomized)": (
        (-1.77, 1.52), (-2.00, 1.58), (-1.99, 1.71), (-0.74, 1.24), (-1.33, 1.45),
    ),
    "subjective outcomes (various)": (
        (-2.70, 1.52), (-2.93, 1.58), (-2.92, 1.71), (-1.67, 1.25), (-2.26, 1.45),
    ),
}  # fmt: skip

# Turner et al. 2015, p. 993: the predictive distribution for a meta-analysis of any type.
MARGINAL = (-2.56, 1.74)
ANY = "any"

_COMPARATOR_ALIASES = {
    PHARMA: ("pharmacological", "pharmacologic", "pharma", "drug"),
    NON_PHARMA: ("nonpharmacological", "nonpharmacologic", "nonpharma", "nondrug"),
    CONTROL: ("placebocontrol", "placebo", "control", "usualcare", "nointervention"),
}


def _key(text: str) -> str:
    """Lower case, letters and digits only: 'All-cause Mortality' -> 'allcausemortality'."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _match_outcome(text: str) -> str:
    """Exact, unique-prefix or unique-substring match, forgiving case and punctuation."""
    key = _key(text)
    if key in {ANY, "marginal"}:
        return ANY
    found = [name for name in TABLE_IV if _key(name) == key]
    found = found or [name for name in TABLE_IV if key and _key(name).startswith(key)]
    found = found or [name for name in TABLE_IV if key and key in _key(name)]
    if len(found) == 1:
        return found[0]
    what = "ambiguous" if found else "unknown"
    choices = found or [*TABLE_IV, ANY]
    raise OptionError(
        f"{what} Turner et al. outcome type {text!r}; choose one of: {'; '.join(choices)}"
    )


def _match_comparator(text: str, comparison: str) -> str:
    key = _key(text)
    found = {
        name
        for name, aliases in _COMPARATOR_ALIASES.items()
        if key and any(alias.startswith(key) or key == alias for alias in aliases)
    }
    if len(found) != 1:
        raise OptionError(
            f"cannot read comparator {text!r} in Turner et al. comparison {comparison!r}; "
            f"each side must be one of {PHARMA}, {NON_PHARMA}, {CONTROL}"
        )
    return found.pop()


def _match_comparison(text: str) -> str:
    """``"A vs B"`` in either order, each side pharmacological, non-pharma or placebo/control."""
    sides = re.split(r"\s+(?:vs\.?|versus|v\.?)\s+", text.strip(), flags=re.IGNORECASE)
    if len(sides) != 2:
        raise OptionError(
            f"cannot read Turner et al. comparison {text!r}: write 'A vs B'; "
            f"choose one of: {'; '.join(COMPARISONS)}"
        )
    a, b = (_match_comparator(side, text) for side in sides)
    for comparison in COMPARISONS:
        first, second = comparison.split(" vs. ")
        if {a, b} == {first, second} and (a == b) == (first == second):
            return comparison
    raise OptionError(
        f"Turner et al. give no prior for {CONTROL} vs. {CONTROL}; "
        f"choose one of: {'; '.join(COMPARISONS)}"
    )


def turner_log_tau2(outcome: str, comparison: str | None = None) -> tuple[float, float]:
    """Mean and SD of ``log tau^2`` from Turner et al. (2015), Table IV.

    ``outcome="any"`` gives the marginal distribution ``N(-2.56, 1.74^2)`` (p. 993).
    """
    name = _match_outcome(outcome)
    if name == ANY:
        return MARGINAL
    if comparison is None:
        raise OptionError(
            f"Turner et al. prior for {name!r} needs a comparison type: {'; '.join(COMPARISONS)}"
        )
    return TABLE_IV[name][COMPARISONS.index(_match_comparison(comparison))]


def turner_parameters(outcome: str, comparison: str | None = None) -> tuple[float, float, str]:
    """Mean and SD of ``log tau^2`` (Table IV) with the canonical ``turner(...)`` text.

    Parameters
    ----------
    outcome
        Outcome type, e.g. ``"all-cause mortality"``, ``"adverse events"``; case, spaces and
        punctuation are ignored and a unique prefix is enough (``"surgical"``). ``"any"``
        gives the distribution for a meta-analysis of unspecified type.
    comparison
        ``"A vs B"`` with A, B each ``pharmacological``, ``non-pharmacological`` or
        ``placebo / control`` (``"control"``, ``"placebo"`` and ``"drug"`` are understood), in
        either order. Not needed for ``outcome="any"``.

    Returns
    -------
    tuple
        ``(m, s, label)`` where ``log tau^2 ~ N(m, s^2)`` and ``label`` is
        ``turner(OUTCOME, COMPARISON)`` with the canonical names.
    """
    m, s = turner_log_tau2(outcome, comparison)
    name = _match_outcome(outcome)
    label = f"turner({ANY})" if name == ANY else f"turner({name}, {_match_comparison(comparison)})"
    return m, s, label


def split_arguments(args: str) -> tuple[str, str | None]:
    """``"OUTCOME, COMPARISON"`` (the text inside ``turner(...)``) or ``"any"``, split."""
    outcome, _, comparison = args.rpartition(",") if "," in args else (args, "", "")
    return outcome.strip(), comparison.strip() or None
