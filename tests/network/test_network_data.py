"""Arm-level network data (bayesmeta.io.network): the shipped smoking network as metadat has it,
the spellings of other packages, the reference treatment, and bad networks refused in one line
naming the row and column (or the treatments), exit code 2 on the command line.

The smoking network (examples/hasselblad1998_network.csv, written from R metadat 1.2-0
dat.hasselblad1998 by tests/reference/make_hasselblad1998_network.R): 24 trials, 50 arms, two
three-arm trials (Cottraux et al. 1983, Mothersill et al. 1988), sum(xi) 2082 and sum(ni) 16740
(R: `sum(dat.hasselblad1998$xi)`); per comparison the number of
trials counted by hand from metadat's table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.errors import DataError, OptionError
from bayesmeta.io.examples import load_example
from bayesmeta.io.network import load_network
from bayesmeta.model.likelihoods.network import multiarm_factor


def _frame(rows):
    return pd.DataFrame(rows, columns=["study", "treatment", "events", "total"])


GOOD = [
    ("A", "x", 1, 10),
    ("A", "y", 2, 10),
    ("B", "y", 3, 10),
    ("B", "z", 4, 10),
]


def test_smoking_network_is_metadat_hasselblad1998():
    data = load_example("hasselblad1998_network")
    assert (data.k, data.n_arms) == (24, 50)
    assert data.treatments == ("no_contact", "ind_counseling", "grp_counseling", "self_help")
    assert int(data.events.sum()) == 2082 and int(data.total.sum()) == 16740
    three = [data.study[i] for i in np.flatnonzero(data.arms_per_study == 3)]
    assert three == ["Cottraux et al. 1983", "Mothersill et al. 1988"]
    names = data.treatments
    edges = {(names[a], names[b]): n for (a, b), n in data.edges().items()}
    assert edges == {
        ("no_contact", "ind_counseling"): 15,
        ("no_contact", "grp_counseling"): 2,
        ("no_contact", "self_help"): 3,
        ("ind_counseling", "grp_counseling"): 4,
        ("ind_counseling", "self_help"): 2,
        ("grp_counseling", "self_help"): 2,
    }
    # each study's first arm is its lowest-coded treatment (TSD2's baseline)
    assert all(data.arm_treatment[s] == data.arm_treatment[data.arm_study == i].min()
               for i, s in enumerate(data.start))  # fmt: skip


def test_the_reference_is_chosen_or_the_most_connected():
    # y is compared with both x and z, the others with one treatment each
    assert load_network(_frame(GOOD)).treatments == ("y", "x", "z")
    assert load_network(_frame(GOOD), reference="z").treatments == ("z", "x", "y")
    with pytest.raises(OptionError, match=r"--reference 'w' is not a treatment.*x, y, z"):
        load_network(_frame(GOOD), reference="w")


def test_multinma_and_revman_spellings():
    multinma = pd.DataFrame(
        {"studyc": ["A", "A", "B", "B"], "trtc": list("xyyz"), "r": [1, 2, 3, 4], "n": [10] * 4}
    )
    revman = pd.DataFrame(
        {"Study": ["A", "A", "B", "B"], "Intervention": list("xyyz"),
         "Events": [1, 2, 3, 4], "Total": [10] * 4}
    )  # fmt: skip
    for frame in (multinma, revman):
        data = load_network(frame)
        assert data.treatments == ("y", "x", "z")
        assert data.events.tolist() == [2, 1, 3, 4]  # study A: y (the reference) first


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([*GOOD[:3], ("B", "z", 4, 0)], r"^data: row 4 \('B'\), column 'total': total is 0"),
        ([*GOOD[:3], ("B", "z", 11, 10)], r"^data: row 4 \('B'\), column 'events': events \(11\)"),
        (
            [*GOOD, ("C", "x", 1, 5)],
            r"^data: row 5 \('C'\), column 'study': study 'C' has one arm",
        ),
        (
            [*GOOD, ("A", "x", 1, 5)],
            r"^data: row 5 \('A'\), column 'treatment': treatment 'x' appears twice in study "
            r"'A' \(rows 1 and 5\)",
        ),
        (
            [*GOOD, ("C", "u", 1, 5), ("C", "v", 2, 5)],
            r"^data: the network is disconnected: .*\{x, y, z\}; \{u, v\}",
        ),
        ([*GOOD[:3], ("B", "z", "two", 10)], r"^data: row 4 \('B'\), column 'events': events must"),
    ],
)
def test_bad_networks_are_refused_in_one_line(rows, message):
    with pytest.raises(DataError, match=message) as err:
        load_network(_frame(rows))
    assert "\n" not in str(err.value)


def test_command_line_refuses_a_bad_network_with_exit_2(tmp_path):
    path = tmp_path / "net.csv"
    _frame([*GOOD, ("C", "u", 1, 5), ("C", "v", 2, 5)]).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["network", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert (
        len(lines) == 1
        and "network is disconnected" in lines[0]
        and "Traceback" not in result.output
    )


def test_multiarm_factor_gives_covariance_one_half():
    """Within a three-arm trial the two effects have variance tau^2 and covariance tau^2/2."""
    data = load_example("hasselblad1998_network")
    factor = multiarm_factor(data)
    cov = factor @ factor.T
    for i in range(data.k):
        arms = np.flatnonzero(data.arm_study == i)[1:]
        block = cov[np.ix_(arms, arms)]
        expected = np.full((arms.size, arms.size), 0.5) + 0.5 * np.eye(arms.size)
        np.testing.assert_allclose(block, expected, atol=1e-12)
    assert np.all(factor[data.start] == 0)  # baseline arms have no random effect
    # effects of different studies are independent
    other = cov[np.ix_(np.flatnonzero(data.arm_study == 0), np.flatnonzero(data.arm_study == 1))]
    assert np.all(other == 0)


def test_command_line_help_imports_no_pymc_and_bad_options_exit_2():
    import subprocess
    import sys

    code = (
        "import sys; from typer.testing import CliRunner; from bayesmeta.cli import app; "
        "r = CliRunner().invoke(app, ['network', '--help']); "
        "print(r.exit_code, [m for m in ('pymc', 'pytensor') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "0 []"
    runner = CliRunner()
    bad = runner.invoke(app, ["network", "--example", "hasselblad1998_network", "--reference", "x"])
    assert bad.exit_code == 2 and bad.output.startswith("error: --reference 'x' is not a treatment")
    assert runner.invoke(app, ["network"]).exit_code == 2


@pytest.mark.parametrize("command", ["fit", "classic"])
def test_pairwise_commands_refuse_the_network_example(command):
    """Read as a table of studies, one row per arm would be a meta-analysis of proportions."""
    result = CliRunner().invoke(app, [command, "--example", "hasselblad1998_network"])
    assert result.exit_code == 2
    assert "is a network (one row per arm); analyse it with bayesmeta network" in result.output
