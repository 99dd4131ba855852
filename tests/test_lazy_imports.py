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
