"""Start-up stays quick: the heavy libraries are imported only where they are needed.

mediapipe (about 0.5 s to import) only when the pose model runs, matplotlib only when the HTML
report draws its plots. Checked in a fresh interpreter, not timed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("mediapipe", "matplotlib", "selenium")


@pytest.mark.parametrize(
    "modules",
    [
        ["posecheck.cli"],  # `posecheck --help`
        ["posecheck.cli", "posecheck.analysis", "posecheck.session_record", "posecheck.live"],
    ],
)
def test_heavy_libraries_are_not_imported_before_they_are_needed(modules):
    code = f"import sys; import {', '.join(modules)}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_loading_the_pose_model_does_not_import_matplotlib():
    """mediapipe's vision package imports matplotlib for drawing helpers posecheck never runs."""
    code = (
        "import sys; from posecheck.model_store import resolve_model;"
        "from posecheck.pose import PoseEstimator;"
        "PoseEstimator(resolve_model().path).close(); print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_mediapipes_drawing_helpers_still_work_when_asked_for():
    code = (
        "from posecheck.pose import import_mediapipe; vision = import_mediapipe();"
        "print(vision.drawing_utils.DrawingSpec.__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DrawingSpec"
