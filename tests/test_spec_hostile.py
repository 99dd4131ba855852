"""Specs that used to pass `exercises --check` and then misbehave are rejected with the file, the
field and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from posecheck.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[1]
BRIDGE = (ROOT / "exercise_specs" / "segmental_bridge.toml").read_text()


def variant(tmp_path: Path, old: str, new: str) -> Path:
    assert BRIDGE.count(old) >= 1, old
    path = tmp_path / "segmental_bridge.toml"
    path.write_text(BRIDGE.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("below = 162", "below = nan", "rules[0].below", "finite number"),  # a rule that never fires
        ("below = 162", "below = inf", "rules[0].below", "finite number"),
        ("rest_below = 0.04", "rest_below = -inf", "reps.rest_below", "finite number"),
        ("persist_s = 0.8", "persist_s = -1.0", "rules[0].persist_s", "at least 0"),
        ("reps = 10", "reps = 0", "dose.reps", "at least 1"),
        ("reps = 10", "reps = 2.5", "dose.reps", "whole numbers"),
        ("range = [120, 185]", "range = [165, 165]", "gauge.range", "low below high"),
        ("range = [120, 185]", "range = [120, nan]", "gauge.range", "finite"),
        ('points = ["shoulder", "hip", "knee"]', 'points = ["hip", "hip", "hip"]', "metrics.hip_angle.points",
         "same landmark more than once (hip)"),
        ('label = "Shoulder-hip-knee line"', 'label = "$\\\\alpha^$"', "gauge.label", "must not contain '$'"),
        ('name = "Segmental bridge"', 'name = "Bridge $x$"', "name", "must not contain '$'"),
        ("hold_s = [5, 10]", "hold_s = 0", "dose.hold_s", "more than 0"),
        ("min_visibility = 0.5", "min_visibility = 7", "min_visibility", "between 0 and 1"),
    ],
)  # fmt: skip
def test_a_spec_that_would_misbehave_is_rejected(tmp_path, old, new, field, problem):
    path = variant(tmp_path, old, new)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert str(path) in message and f"'{field}'" in message and problem in message


def test_the_bundled_bridge_is_still_valid(tmp_path):
    assert load_spec(variant(tmp_path, "reps = 10", "reps = 10")).id == "segmental_bridge"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (BRIDGE.encode("utf-8").replace(b"Segmental", b"Segm\xe9ntal"), "not UTF-8 text (byte 0xe9"),
        (b"x = " + b"[" * 20000 + b"]" * 20000 + b"\n", "nested far too deeply"),
    ],
)
def test_unreadable_spec_files_are_one_line(tmp_path, content, problem):
    path = tmp_path / "segmental_bridge.toml"
    path.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "exercises", "--check", "--spec", str(path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert str(path) in result.stderr.replace("\n", "") and problem in result.stderr
