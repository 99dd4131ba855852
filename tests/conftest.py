"""Shared fixtures: the bundled specs and running a Checker over a synthetic sequence.

`tests/stickfigure.py` builds the sequences; test modules import it as `stickfigure`
(this folder is put on sys.path here, so that works in any pytest import mode).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from posecheck.engine import Checker, CheckResult, FrameState
from posecheck.landmarks import LandmarkSequence
from posecheck.spec import ExerciseSpec, load_spec

TESTS_DIR = Path(__file__).resolve().parent
SPEC_DIR = TESTS_DIR.parent / "exercise_specs"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

RunChecker = Callable[..., tuple[list[FrameState], CheckResult]]


def run_checker(
    spec: ExerciseSpec, seq: LandmarkSequence, side: str = "auto", chunk: int | None = None
) -> tuple[list[FrameState], CheckResult]:
    """Run a fresh Checker over `seq` (all at once, or `chunk` frames at a time) and finish it.

    Returns the per-frame states and the final result.
    """
    checker = Checker(spec, side=side)
    states: list[FrameState] = []
    step = chunk or max(len(seq), 1)
    for i in range(0, len(seq), step):
        states.extend(checker.process(seq[i : i + step]))
    return states, checker.finish()


def metric_values(spec: ExerciseSpec, seq: LandmarkSequence, side: str) -> dict[str, np.ndarray]:
    """The spec's metrics on the raw (unsmoothed) landmarks of one side: what the synthetic
    movement really shows, for checking that a test's motion does what the test says."""
    values = Checker(spec, smoothing=False).metric_values(seq.xy, seq.world, seq.t)
    column = 0 if side == "left" else 1
    return {name: v[:, column] for name, v in values.items()}


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    return SPEC_DIR


@pytest.fixture(scope="session")
def bridge_spec() -> ExerciseSpec:
    """The real segmental bridge spec from exercise_specs/."""
    return load_spec(SPEC_DIR / "segmental_bridge.toml")


@pytest.fixture(name="run_checker")
def run_checker_fixture() -> RunChecker:
    """`run_checker(spec, seq, side="auto", chunk=None) -> (states, result)`."""
    return run_checker


@pytest.fixture(name="metric_values")
def metric_values_fixture() -> Callable[[ExerciseSpec, LandmarkSequence, str], dict[str, np.ndarray]]:
    """`metric_values(spec, seq, side) -> {metric: (T,) values}` without smoothing."""
    return metric_values


@pytest.fixture(autouse=True)
def _private_user_folders(tmp_path_factory, monkeypatch):
    """Keep every test's history, cache and program config out of the real user folders."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("POSECHECK_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("POSECHECK_CONFIG", str(base / "program.toml"))
    monkeypatch.setenv("POSECHECK_CACHE_DIR", str(base / "cache"))
