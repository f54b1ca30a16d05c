"""Say when the counts carry no information on the effect (and the prior alone decides).

In a study with no events in either arm (or events in every patient of both arms) the
likelihood of the odds ratio is flat. A study with no treatment events, or with events in every
control patient, has a likelihood that keeps rising as the odds ratio goes to 0; with no
control events, or events in every treated patient, as it goes to infinity. When every study
is flat, or every study that is not flat points the same way, the data set no limit on the
effect in that direction (for the binomial-normal model the pooled log odds ratio's likelihood
is monotone there), so that side of the posterior is the prior's. The same holds for a pooled
proportion when no study has an event, or every patient in every study has one.
"""

from __future__ import annotations

import numpy as np

from bayesmeta.io.studies import StudyData


def _tail(side: str) -> str:
    return f"so the {side} tail of its posterior reflects the prior, not the data"


def information_warnings(data: StudyData) -> tuple[str, ...]:
    """Warnings (zero or one) for counts that carry no information on the effect, or on one side.

    Parameters
    ----------
    data
        Two-arm or single-arm counts.

    Returns
    -------
    tuple of str
        One-line warnings saying what the data lack.
    """
    if data.design == "single-arm":
        return _single_arm(data.events, data.total)
    return _two_arm(
        data.treatment_events, data.treatment_total, data.control_events, data.control_total
    )


def _single_arm(events: np.ndarray, total: np.ndarray) -> tuple[str, ...]:
    if np.all(events == 0):
        return (
            "no study has any event: the data set no lower limit on the proportion, "
            + _tail("lower"),
        )
    if np.all(events == total):
        return (
            "every patient in every study had the event: the data set no upper limit on the "
            "proportion, " + _tail("upper"),
        )
    return ()


def _two_arm(a: np.ndarray, n1: np.ndarray, c: np.ndarray, n2: np.ndarray) -> tuple[str, ...]:
    b, d = n1 - a, n2 - c
    flat = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    if np.all(flat):
        if np.all((a == 0) & (c == 0)):
            what = "no study has any event in either arm"
        elif np.all((b == 0) & (d == 0)):
            what = "every patient in every arm of every study had the event"
        else:
            what = "every study has no events in either arm or events in every patient"
        return (
            f"{what}: the data carry no information on the odds ratio, so its posterior "
            "reflects the prior, not the data",
        )
    towards_zero = flat | (a == 0) | (d == 0)
    if np.all(towards_zero):
        if np.all(flat | (a == 0)):
            what = "no study has an event in the treatment arm"
        elif np.all(flat | (d == 0)):
            what = "every control patient of every study had the event"
        else:
            what = "every study has no treatment events or no control patients without the event"
        return (f"{what}: the data set no lower limit on the odds ratio, {_tail('lower')}",)
    towards_infinity = flat | (c == 0) | (b == 0)
    if np.all(towards_infinity):
        if np.all(flat | (c == 0)):
            what = "no study has an event in the control arm"
        elif np.all(flat | (b == 0)):
            what = "every treated patient of every study had the event"
        else:
            what = "every study has no control events or no treated patients without the event"
        return (f"{what}: the data set no upper limit on the odds ratio, {_tail('upper')}",)
    return ()
