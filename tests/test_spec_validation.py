"""Exercise specs: every bundled spec loads and runs; malformed specs fail with a SpecError that
names the file and the field, so a physiotherapist editing a TOML file can fix it."""

from __future__ import annotations

from pathlib import Path

import pytest
from stickfigure import sequence, standing, supine_knees_bent

from posecheck.engine import Checker
from posecheck.spec import SpecError, load_spec, load_specs

SPEC_DIR = Path(__file__).resolve().parents[1] / "exercise_specs"
SPEC_FILES = sorted(SPEC_DIR.glob("*.toml"))


def test_there_are_bundled_specs() -> None:
    assert SPEC_FILES, f"no specs in {SPEC_DIR}"


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_bundled_spec_loads_and_its_id_is_the_file_name(path: Path) -> None:
    spec = load_spec(path)
    assert spec.id == path.stem
    assert spec.source == path
    assert spec.reps.metric in spec.metrics
    assert all(rule.condition.metric in spec.metrics for rule in spec.rules)


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_bundled_spec_runs_on_a_stick_figure(path: Path) -> None:
    """Every metric of every spec can be computed and stepped (no crash, one state per frame)."""
    spec = load_spec(path)
    for pose in (standing(), supine_knees_bent()):
        seq = sequence([(0.0, pose), (1.0, pose.nudged(pelvis_y=0.05))], fps=15)
        checker = Checker(spec)
        assert len(checker.process(seq)) == len(seq)
        assert checker.finish().frames == len(seq)


def test_load_specs_has_every_bundled_spec_by_id() -> None:
    assert set(load_specs()) == {p.stem for p in SPEC_FILES}


# --- malformed specs ---------------------------------------------------------------------------------

VALID = """\
id = "mini"
name = "Mini bridge"
phase = "stabilize"
order = 1
view = "side"
summary = "A small but complete spec for the validation tests."
cues = ["Lift the hips."]
not_checked = []
visible = ["shoulder", "hip", "knee", "ankle"]

[dose]
reps = [8, 10]
hold_s = [5, 10]

[metrics]
hip_lift = { fn = "height_above_line", points = ["hip", "shoulder", "ankle"] }
hip_angle = { fn = "angle", points = ["shoulder", "hip", "knee"] }

[start]
require = [{ metric = "hip_angle", below = 170 }]

[reps]
metric = "hip_lift"
rest_below = 0.05
active_above = 0.1

[[rules]]
id = "hips_not_high"
message = "Lift your hips higher"
metric = "hip_angle"
below = 160
during = "hold"
"""


def write_spec(tmp_path: Path, text: str, name: str = "mini") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def mutate(old: str, new: str) -> str:
    assert old in VALID, f"test bug: {old!r} is not in the valid spec"
    return VALID.replace(old, new, 1)


def test_the_valid_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, VALID))
    assert spec.id == "mini"
    assert (spec.reps.rest, spec.reps.active, spec.reps.direction) == (0.05, 0.1, "up")


def expect_spec_error(path: Path, *fragments: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        pytest.param('name = "Mini bridge"\n', "", ["field 'name'", "missing"], id="missing-name"),
        pytest.param(
            'fn = "angle"', 'fn = "angel"', ["field 'metrics.hip_angle.fn'", "'angel'"], id="unknown-fn"
        ),
        pytest.param(
            'points = ["shoulder", "hip", "knee"]',
            'points = ["shoulder", "hipp", "knee"]',
            ["field 'metrics.hip_angle.points'", "'hipp'"],
            id="unknown-landmark",
        ),
        pytest.param(
            'points = ["shoulder", "hip", "knee"]',
            'points = ["shoulder", "hip"]',
            ["field 'metrics.hip_angle.points'", "3 points"],
            id="wrong-number-of-points",
        ),
        pytest.param(
            'visible = ["shoulder", "hip", "knee", "ankle"]',
            'visible = ["shoulder", "hip", "knee", "ankel"]',
            ["field 'visible'", "'ankel'"],
            id="unknown-visible-landmark",
        ),
        pytest.param(
            'metric = "hip_angle"\nbelow = 160',
            'metric = "hip_angel"\nbelow = 160',
            ["field 'rules[0].metric'", "unknown metric 'hip_angel'"],
            id="rule-unknown-metric",
        ),
        pytest.param(
            '{ metric = "hip_angle", below = 170 }',
            '{ metric = "knee_angle", below = 170 }',
            ["field 'start.require[0].metric'", "'knee_angle'"],
            id="start-unknown-metric",
        ),
        pytest.param(
            'metric = "hip_lift"\nrest_below',
            'metric = "lift"\nrest_below',
            ["field 'reps.metric'", "'lift'"],
            id="reps-unknown-metric",
        ),
        pytest.param(
            "active_above = 0.1",
            "active_above = 0.05",
            ["field 'reps.active_above'", "greater than rest_below"],
            id="thresholds-equal",
        ),
        pytest.param(
            "active_above = 0.1",
            "active_above = 0.01",
            ["field 'reps.active_above'", "greater than rest_below"],
            id="thresholds-wrong-order",
        ),
        pytest.param(
            "rest_below = 0.05\nactive_above = 0.1",
            "rest_above = 150\nactive_below = 160",
            ["field 'reps.active_below'", "less than rest_above"],
            id="falling-thresholds-wrong-order",
        ),
        pytest.param(
            "rest_below = 0.05\nactive_above = 0.1",
            "rest_below = 0.05\nactive_below = 0.01",
            ["field 'reps.rest_below'", "either rest_below + active_above"],
            id="mixed-thresholds",
        ),
        pytest.param(
            'during = "hold"',
            'during = "hold"\npersist = 0.5',
            ["field 'rules[0].persist'", "unknown"],
            id="typo-in-rule",
        ),
        pytest.param(
            "order = 1",
            "order = 1\nmin_visibilty = 0.5",
            ["field 'min_visibilty'", "unknown"],
            id="typo-at-top",
        ),
        pytest.param(
            "hold_s = [5, 10]",
            "hold_s = [5, 10]\nhold_tolerance = 1",
            ["field 'dose.hold_tolerance'"],
            id="typo-in-dose",
        ),
        pytest.param(
            'hip_lift = { fn = "height_above_line",',
            'hip_lift = { fun = "height_above_line", fn = "height_above_line",',
            ["field 'metrics.hip_lift.fun'", "unknown"],
            id="typo-in-metric",
        ),
        pytest.param(
            'phase = "stabilize"', 'phase = "warmup"', ["field 'phase'", "'warmup'", "align"], id="bad-phase"
        ),
        pytest.param('view = "side"', 'view = "top"', ["field 'view'", "'top'"], id="bad-view"),
        pytest.param(
            'during = "hold"',
            'during = "always"',
            ["field 'rules[0].during'", "'always'"],
            id="bad-rule-phase",
        ),
        pytest.param(
            "below = 160",
            'below = 160\nrelative_to = "top"',
            ["field 'rules[0].relative_to'", "'top'"],
            id="bad-relative-to",
        ),
        pytest.param("order = 1", 'order = "first"', ["field 'order'", "'first'"], id="wrong-type"),
        pytest.param(
            "reps = [8, 10]",
            "reps = [10, 8]",
            ["field 'dose.reps'", "low must not exceed high"],
            id="reversed-range",
        ),
        pytest.param(
            'metric = "hip_angle"\nbelow = 160',
            'metric = "hip_angle"',
            ["field 'rules[0].below'", "needs 'below', 'above'"],
            id="condition-without-bound",
        ),
        pytest.param(
            "[[rules]]\n",
            '[[rules]]\nid = "hips_not_high"\nmessage = "x"\nmetric = "hip_angle"\nbelow = 1\n\n[[rules]]\n',
            ["field 'rules[1].id'", "duplicate"],
            id="duplicate-rule-id",
        ),
        pytest.param(
            'points = ["hip", "shoulder", "ankle"] }',
            'points = ["hip", "shoulder", "ankle"], fallback = ["hip", "knee"] }',
            ["field 'metrics.hip_lift.fallback'", "as many points"],
            id="fallback-of-another-length",
        ),
        pytest.param(
            'points = ["hip", "shoulder", "ankle"] }',
            'points = ["hip", "shoulder", "ankle"], fallback = ["hip", "shoulder", "kne"] }',
            ["field 'metrics.hip_lift.fallback'", "'kne'"],
            id="fallback-unknown-landmark",
        ),
        pytest.param(
            'points = ["hip", "shoulder", "ankle"] }',
            'points = ["hip", "shoulder", "ankle"], both_sides = "mean" }',
            ["field 'metrics.hip_lift.both_sides'", "'mean'"],
            id="both-sides-unknown",
        ),
    ],
)
def test_malformed_spec_names_the_file_and_the_field(
    tmp_path: Path, old: str, new: str, fragments: list[str]
) -> None:
    expect_spec_error(write_spec(tmp_path, mutate(old, new)), *fragments)


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write_spec(tmp_path, mutate("order = 1", "order = = 1"))
    expect_spec_error(path, "not valid TOML", "line 4")


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    path = write_spec(tmp_path, VALID, name="other_name")
    expect_spec_error(path, "field 'id'", "'mini'", "other_name.toml")


def test_id_must_be_lower_case_with_underscores(tmp_path: Path) -> None:
    path = write_spec(tmp_path, mutate('id = "mini"', 'id = "Mini-Bridge"'))
    expect_spec_error(path, "field 'id'", "lower_case_with_underscores")


def test_missing_spec_file_is_a_spec_error(tmp_path: Path) -> None:
    expect_spec_error(tmp_path / "nope.toml", "Cannot read spec")
