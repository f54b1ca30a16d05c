"""Repeated study labels and multi-arm trials whose comparisons share one control arm.

Published tables repeat a label when a trial has several arms (one row per comparison) or when
two trials have the same author-year label. Every row is kept: repeats are renamed in input
order, ``"Moolchan 2005"``, ``"Moolchan 2005 [2]"``, ..., skipping any name that is already a
label, and the data carry a warning naming the rows.

Rows with the same label and the same control arm (events and total) are taken to be
comparisons of a multi-arm trial against one shared control group, whose patients the
meta-analysis then counts more than once (a unit-of-analysis error). The Cochrane Handbook
(Higgins et al., eds., version 6.4, 2023, section 23.3.4 "How to include multiple groups from
one study") first recommends combining the intervention groups into one comparison; its
further option, implemented by :func:`split_shared_control`, keeps each comparison and divides
the shared group "out approximately evenly among the comparisons": for a dichotomous outcome
both the events and the patients are divided up. The Handbook notes the comparisons remain
correlated, so this only partially removes the unit-of-analysis error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bayesmeta.errors import DataError
from bayesmeta.io.cells import show
from bayesmeta.io.information import information_warnings
from bayesmeta.io.studies import TwoArmData

HANDBOOK = "Cochrane Handbook v6.4, section 23.3.4"
NOTHING_TO_SPLIT = (
    "--split-shared-control applies to two-arm counts (a shared control arm); nothing was split"
)


def disambiguate(labels: Sequence[str]) -> tuple[str, ...]:
    """Unique study names: the first of each label as it is, repeats as ``"label [n]"``.

    ``n`` is the repeat's rank in input order (2, 3, ...), raised past any name that is
    already taken by another label or an earlier repeat, so no two names can collide.
    """
    taken = set(labels)
    rank: dict[str, int] = {}
    out: list[str] = []
    for label in labels:
        rank[label] = rank.get(label, 0) + 1
        name = label
        if rank[label] > 1:
            n = rank[label]
            while f"{label} [{n}]" in taken:
                n += 1
            name = f"{label} [{n}]"
            taken.add(name)
        out.append(name)
    return tuple(out)


def _rows(rows: Sequence[int]) -> str:
    return ", ".join(str(r + 1) for r in rows)


def repeated_label_warnings(labels: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """One warning per repeated label, naming its rows and the names the repeats were given."""
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    return tuple(
        f"study label {show(label)} appears in rows {_rows(rows)}; every row is kept, the "
        f"repeats named {', '.join(show(names[i]) for i in rows[1:])}"
        for label, rows in groups.items()
        if len(rows) > 1
    )


def shared_control_groups(data: TwoArmData) -> list[list[int]]:
    """Row indices (0-based, in order) of each set of >= 2 rows with one label and control arm.

    Studies whose shared control was already split (``data.split_controls``) are left out.
    """
    done = {name for names in data.split_controls for name in names}
    groups: dict[tuple[str, int, int], list[int]] = {}
    arms = zip(data.labels, data.control_events.tolist(), data.control_total.tolist(), strict=True)
    for i, key in enumerate(arms):
        if data.study[i] not in done:
            groups.setdefault(key, []).append(i)
    return [rows for rows in groups.values() if len(rows) > 1]


def shared_control_warnings(data: TwoArmData) -> tuple[str, ...]:
    """A warning for each multi-arm trial whose comparisons share one control arm."""
    out = []
    for rows in shared_control_groups(data):
        events, total = int(data.control_events[rows[0]]), int(data.control_total[rows[0]])
        out.append(
            f"rows {_rows(rows)} ({show(data.labels[rows[0]])}) share one control arm "
            f"({events}/{total}): a multi-arm trial whose {total} control patients are counted "
            f"{len(rows)} times; split the shared control between the comparisons "
            f"(--split-shared-control, {HANDBOOK}) or combine the intervention arms into one row"
        )
    return tuple(out)


def divide(count: int, parts: int) -> list[int]:
    """``count`` divided into ``parts`` whole numbers as evenly as possible, larger ones first.

    Each part is ``count // parts``; the first ``count % parts`` parts get one more, so the
    parts add up to ``count`` and differ by at most 1 (the Handbook's example divides 121
    patients into 61 and 60).
    """
    base, extra = divmod(count, parts)
    return [base + (i < extra) for i in range(parts)]


def split_shared_control(data: TwoArmData) -> TwoArmData:
    """Divide each shared control arm between the comparisons that share it.

    For ``m`` rows with one label and one control arm of ``e`` events among ``n`` patients,
    the ``i``-th row (input order) gets ``n // m`` patients plus one if ``i < n % m``, and
    ``e // m`` events plus one if ``i < e % m`` (:func:`divide`). The binomial likelihood needs
    whole numbers, so the division is in whole patients, "approximately evenly" as the
    Cochrane Handbook v6.4, section 23.3.4, asks (its example: 121 patients -> 61 and 60); the
    parts add up to the original arm, and events never exceed patients in a part (with
    ``e <= n`` both divisions give ``e_i <= n_i``). RevMan and R meta do not split automatically.

    Parameters
    ----------
    data
        Validated two-arm counts (from :func:`bayesmeta.io.counts.load`).

    Returns
    -------
    TwoArmData
        The same rows with the shared control arms divided (recorded in
        ``split_controls``, so a second call divides nothing again), and a warning per
        divided arm in place of the warning that the arm was shared. Unchanged if no arm is
        shared.

    Raises
    ------
    DataError
        A shared control arm with fewer patients than comparisons (a part would be empty).
    """
    groups = shared_control_groups(data)
    if not groups:
        return data
    events, total = data.control_events.copy(), data.control_total.copy()
    notes = []
    for rows in groups:
        e, n, m = int(events[rows[0]]), int(total[rows[0]]), len(rows)
        if n < m:
            raise DataError(
                f"cannot split the control arm of {show(data.labels[rows[0]])} ({e}/{n}, rows "
                f"{_rows(rows)}) between {m} comparisons: fewer patients than comparisons",
                source=data.source,
                row=rows[0] + 1,
            )
        parts = list(zip(divide(e, m), divide(n, m), strict=True))
        for row, (e_i, n_i) in zip(rows, parts, strict=True):
            events[row], total[row] = e_i, n_i
        notes.append(
            f"the control arm shared by rows {_rows(rows)} ({show(data.labels[rows[0]])}, "
            f"{e}/{n}) was split between the {m} comparisons as "
            f"{', '.join(f'{a}/{b}' for a, b in parts)} ({HANDBOOK}); the comparisons remain "
            "correlated"
        )
    stale = set(shared_control_warnings(data)) | set(information_warnings(data))
    kept = tuple(w for w in data.warnings if w not in stale)
    out = replace(
        data,
        control_events=events,
        control_total=total,
        warnings=(),
        split_controls=(
            *data.split_controls,
            *(tuple(data.study[i] for i in rows) for rows in groups),
        ),
    )
    return replace(out, warnings=(*kept, *notes, *information_warnings(out)))
