"""Arm-level network data: one row per arm (study, treatment, events, total), checked as a network.

The long format of metafor (``dat.hasselblad1998``: ``study, trt, xi, ni``), multinma
(``studyc, trtc, r, n``), gemtc (``study, treatment, responders, sampleSize``), netmeta
(``studlab, treat, event, n``) and RevMan exports (``Study, Intervention, Events, Total``) is
read with those spellings. The network is refused, in one line naming the row and column or
the treatments, when a study has one arm, a treatment appears twice in a study, an arm has no
patients or more events than patients, or the treatments fall into parts that no study links
(a network meta-analysis can only compare treatments that are connected by trials).

Treatments are coded with the reference first (``reference``, or the most connected: the
treatment compared directly with the most others, then in the most studies, then the first in
the file), the others in order of first appearance. Each study's arms are ordered by that code,
so its first arm, the study's baseline, is its lowest-coded treatment (as in NICE DSU TSD2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bayesmeta.errors import DataError, OptionError
from bayesmeta.io.cells import CellError, parse_count, parse_label, show
from bayesmeta.io.counts import SYNONYMS
from bayesmeta.io.table import Source, match_roles, names, read_source

ROLES = ("study", "treatment", "events", "total")
ALIASES: dict[str, tuple[str, ...]] = {
    "study": (*SYNONYMS["study"], "studyc", "studyn", "studlab"),
    "treatment": (
        "treatment",
        "trt",
        "trtc",
        "treat",
        "intervention",
        "arm",
        "treatment_name",
    ),
    "events": (*SYNONYMS["events"], "event", "quitters"),
    "total": (*SYNONYMS["total"], "samplesize", "sample_size", "n_total"),
}


@dataclass(frozen=True)
class NetworkData:
    """Arm-level binary outcomes of a network of trials, arms ordered study by study.

    Attributes
    ----------
    study
        Study names, in order of first appearance.
    treatments
        Treatment names, the reference first.
    arm_study, arm_treatment
        Per arm: the index of its study and of its treatment (0 = the reference).
    events, total
        Per arm: events and patients.
    rows
        Per arm: its 1-based data row in the input.
    source
        The input's name, for messages.
    """

    study: tuple[str, ...]
    treatments: tuple[str, ...]
    arm_study: np.ndarray
    arm_treatment: np.ndarray
    events: np.ndarray
    total: np.ndarray
    rows: tuple[int, ...]
    source: str = "data"

    @property
    def k(self) -> int:
        """The number of studies."""
        return len(self.study)

    @property
    def reference(self) -> str:
        """The reference treatment (the basic parameters are effects against it)."""
        return self.treatments[0]

    @property
    def n_arms(self) -> int:
        """The number of arms."""
        return int(self.events.size)

    @cached_property
    def start(self) -> np.ndarray:
        """Per study, the index of its first (baseline) arm."""
        return np.searchsorted(self.arm_study, np.arange(self.k))

    @cached_property
    def arms_per_study(self) -> np.ndarray:
        """Per study, its number of arms."""
        return np.bincount(self.arm_study, minlength=self.k)

    @cached_property
    def baseline_arm(self) -> np.ndarray:
        """Per arm: whether it is its study's baseline (first) arm."""
        flag = np.zeros(self.n_arms, dtype=bool)
        flag[self.start] = True
        return flag

    def edges(self) -> dict[tuple[int, int], int]:
        """Per pair of treatment indices ``(a, b)``, ``a < b``: the studies comparing them."""
        out: dict[tuple[int, int], int] = {}
        for i in range(self.k):
            arms = sorted(self.arm_treatment[self.arm_study == i])
            for x, a in enumerate(arms):
                for b in arms[x + 1 :]:
                    out[(a, b)] = out.get((a, b), 0) + 1
        return out

    def to_frame(self) -> object:
        """The arms as a flat table (``study, treatment, events, total``)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "study": [self.study[i] for i in self.arm_study],
                "treatment": [self.treatments[t] for t in self.arm_treatment],
                "events": self.events,
                "total": self.total,
            }
        )


def _components(n: int, links: list[tuple[int, int]]) -> list[list[int]]:
    """Connected parts of a graph on ``0..n-1`` (each sorted, ordered by smallest member)."""
    parent = list(range(n))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in links:
        parent[root(a)] = root(b)
    parts: dict[int, list[int]] = {}
    for a in range(n):
        parts.setdefault(root(a), []).append(a)
    return sorted(parts.values())


def most_connected(treatments: list[str], studies: list[set[int]]) -> int:
    """The treatment compared directly with the most others, then in the most studies, then
    the first (index into ``treatments``)."""
    neighbours = [set() for _ in treatments]
    count = [0] * len(treatments)
    for arms in studies:
        for t in arms:
            neighbours[t] |= arms - {t}
            count[t] += 1
    return max(range(len(treatments)), key=lambda t: (len(neighbours[t]), count[t], -t))


def load_network(
    source: Source,
    *,
    reference: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> NetworkData:
    """Read and check arm-level network data (see the module docstring).

    Parameters
    ----------
    source
        A CSV, workbook or DataFrame with one row per arm.
    reference
        The reference treatment's name (None: the most connected).
    columns
        Explicit ``role -> column`` choices (roles: study, treatment, events, total).

    Raises
    ------
    DataError
        A missing column, a bad cell, or a network that cannot be analysed (one line naming
        the row and column, or the treatments).
    OptionError
        A reference that is not one of the treatments.
    """
    table = read_source(source, ALIASES["study"], ALIASES)
    frame, name = table.frame, table.name
    found = match_roles(frame, ROLES, ALIASES, dict(columns or {}), name)
    missing = [r for r in ROLES if r not in found]
    if missing:
        raise DataError(
            f"arm-level network data need columns {', '.join(ROLES)}; no column for "
            f"{', '.join(missing)} (columns: {names(frame.columns)})",
            source=name,
        )
    if frame.empty:
        raise DataError("no rows of data", source=name)
    labels: list[str] = []
    trts: list[str] = []
    events: list[int] = []
    totals: list[int] = []
    for row, values in enumerate(frame.itertuples(index=False), start=1):
        cell = dict(zip(frame.columns, values, strict=True))
        try:
            study = parse_label(cell[found["study"]])
        except CellError as err:
            raise DataError(str(err), source=name, row=row, column=found["study"]) from None
        try:
            trt = parse_label(cell[found["treatment"]])
        except CellError as err:
            message = str(err).replace("study name", "treatment")
            raise DataError(
                message, source=name, row=row, study=study, column=found["treatment"]
            ) from None
        parsed = {}
        for role in ("events", "total"):
            try:
                parsed[role] = parse_count(cell[found[role]], role)
            except CellError as err:
                raise DataError(
                    str(err), source=name, row=row, study=study, column=found[role]
                ) from None
        if parsed["total"] == 0:
            raise DataError(
                "total is 0: an arm needs at least one patient",
                source=name,
                row=row,
                study=study,
                column=found["total"],
            )
        if parsed["events"] > parsed["total"]:
            raise DataError(
                f"events ({parsed['events']}) exceed total ({parsed['total']})",
                source=name,
                row=row,
                study=study,
                column=found["events"],
            )
        labels.append(study)
        trts.append(trt)
        events.append(parsed["events"])
        totals.append(parsed["total"])
    return _network(labels, trts, events, totals, name, found, reference)


def _network(
    labels: list[str],
    trts: list[str],
    events: list[int],
    totals: list[int],
    name: str,
    found: Mapping[str, str],
    reference: str | None,
) -> NetworkData:
    study = list(dict.fromkeys(labels))
    appearance = list(dict.fromkeys(trts))
    arms: dict[str, dict[str, int]] = {s: {} for s in study}
    for row, (s, t) in enumerate(zip(labels, trts, strict=True), start=1):
        if t in arms[s]:
            raise DataError(
                f"treatment {show(t)} appears twice in study {show(s)} (rows {arms[s][t]} and "
                f"{row}); combine the two arms into one row, or name them apart",
                source=name,
                row=row,
                study=s,
                column=found["treatment"],
            )
        arms[s][t] = row
    for s in study:
        if len(arms[s]) == 1:
            (row,) = arms[s].values()
            raise DataError(
                f"study {show(s)} has one arm; a network meta-analysis needs at least two arms "
                "per study (a comparison)",
                source=name,
                row=row,
                study=s,
                column=found["study"],
            )
    if len(appearance) < 2:
        raise DataError("a network needs at least two treatments", source=name)
    index = {t: i for i, t in enumerate(appearance)}
    sets = [{index[t] for t in arms[s]} for s in study]
    links = [(a, b) for arm_set in sets for a in arm_set for b in arm_set if a < b]
    parts = _components(len(appearance), links)
    if len(parts) > 1:
        shown = "; ".join("{" + ", ".join(appearance[t] for t in part) + "}" for part in parts)
        raise DataError(
            f"the network is disconnected: no study links these groups of treatments: {shown}; "
            "analyse each part on its own or add the studies that link them",
            source=name,
        )
    if reference is None:
        ref = appearance[most_connected(appearance, sets)]
    elif reference in index:
        ref = reference
    else:
        raise OptionError(
            f"--reference {show(reference)} is not a treatment of the network; choose one of "
            f"{', '.join(appearance)}"
        )
    treatments = (ref, *(t for t in appearance if t != ref))
    code = {t: i for i, t in enumerate(treatments)}
    position = {s: i for i, s in enumerate(study)}
    order = sorted(range(len(labels)), key=lambda i: (position[labels[i]], code[trts[i]]))
    return NetworkData(
        study=tuple(study),
        treatments=treatments,
        arm_study=np.array([position[labels[i]] for i in order], dtype=int),
        arm_treatment=np.array([code[trts[i]] for i in order], dtype=int),
        events=np.array([events[i] for i in order], dtype=np.int64),
        total=np.array([totals[i] for i in order], dtype=np.int64),
        rows=tuple(i + 1 for i in order),
        source=name,
    )
