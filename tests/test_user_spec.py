"""Adding an exercise from a user's own spec file, as exercise_specs/README.md documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BRIDGE = ROOT / "exercise_specs" / "segmental_bridge.toml"


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "posecheck.cli", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


@pytest.fixture
def user_specs(tmp_path):
    folder = tmp_path / "my_specs"
    folder.mkdir()
    text = BRIDGE.read_text().replace('id = "segmental_bridge"', 'id = "my_bridge"')
    text = text.replace('name = "Segmental bridge"', 'name = "My stricter bridge"')
    text = text.replace("below = 162", "below = 179")  # a hip line nobody reaches: every rep is flagged
    (folder / "my_bridge.toml").write_text(text)
    return folder


def test_a_user_spec_is_validated_listed_and_shown(user_specs):
    checked = run_cli("exercises", "--check", "--spec", str(user_specs))
    assert checked.returncode == 0 and "valid" in checked.stdout
    listed = run_cli("exercises", "--spec", str(user_specs))
    assert "my_bridge" in listed.stdout and "segmental_bridge" in listed.stdout
    shown = run_cli("exercises", "my_bridge", "--spec", str(user_specs / "my_bridge.toml"))
    assert shown.returncode == 0 and "My stricter bridge" in shown.stdout and "179" in shown.stdout


def test_a_broken_user_spec_names_the_file_and_field(user_specs):
    spec = user_specs / "my_bridge.toml"
    spec.write_text(spec.read_text().replace('fn = "angle"', 'fn = "angel"', 1))
    result = run_cli("exercises", "--check", "--spec", str(user_specs))
    assert result.returncode == 2
    assert "my_bridge.toml" in result.stderr and "metrics." in result.stderr and "angel" in result.stderr


@pytest.mark.e2e
def test_analysing_with_a_user_spec(user_specs, tmp_path):
    clip = ROOT / "sample_videos" / "bridge_side_demo.mp4"
    first = run_cli(
        "analyze", str(clip), "-e", "my_bridge", "--spec", str(user_specs), "--out", str(tmp_path),
        "--save-landmarks", "--no-video",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    report = json.loads((tmp_path / "bridge_side_demo.report.json").read_text())
    assert report["exercise"]["id"] == "my_bridge" and report["summary"]["reps"] == 3
    landmarks = tmp_path / "bridge_side_demo.landmarks.npz"
    default = run_cli(
        "analyze", "-e", "segmental_bridge", "--landmarks", str(landmarks), "--out", str(tmp_path / "d")
    )
    assert default.returncode == 0, default.stderr
    default_report = json.loads((tmp_path / "d" / "bridge_side_demo.report.json").read_text())
    assert default_report["summary"]["reps"] == 3
    flagged = [[f["rule"] for f in rep["faults"]] for rep in report["reps"]]
    assert flagged == [["hips_not_high"]] * 3  # the user's rule, not the bundled one
    assert [rep["good"] for rep in default_report["reps"]] == [True, True, False]
