"""Per-frame data is kept in bounded memory, whatever the video's length (the benchmark
benchmarks/bench_memory.py measures the whole pipeline's peak memory)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from posecheck.landmark_store import LandmarkRecorder
from posecheck.landmarks import N_LANDMARKS, LandmarkSequence
from posecheck.report import MAX_SERIES_POINTS, SeriesRecorder, frame_series


def state(i: int) -> SimpleNamespace:
    return SimpleNamespace(t=i / 30.0, rep_value=float(i % 50), gauge_value=float("nan"), phase="rest")


def test_the_series_of_an_hour_keeps_as_few_points_as_a_minute():
    recorder = SeriesRecorder()
    for i in range(30 * 3600):
        recorder.add(state(i))
    assert len(recorder._kept) <= 2 * MAX_SERIES_POINTS  # an hour of frames, a few thousand kept
    series = recorder.series()
    assert len(series["t"]) <= MAX_SERIES_POINTS
    assert series["t"][0] == 0.0 and series["t"][-1] > 3600 * 0.99  # seconds: spread over the whole hour
    assert np.all(np.diff(series["t"]) > 0)


def test_a_short_run_gives_the_same_series_as_before():
    states = [state(i) for i in range(1000)]
    recorder = SeriesRecorder()
    for s in states:
        recorder.add(s)
    assert recorder.series() == frame_series(states)


def frame(i: int, detected: bool = True) -> LandmarkSequence:
    if not detected:
        return LandmarkSequence.missing(i / 30.0, (640, 480))
    rng = np.random.default_rng(i)
    return LandmarkSequence(
        xy=rng.random((1, N_LANDMARKS, 2)) * 400, z=rng.random((1, N_LANDMARKS)),
        visibility=np.ones((1, N_LANDMARKS)), world=rng.random((1, N_LANDMARKS, 3)),
        t=np.array([i / 30.0]), image_size=(640, 480),
    )  # fmt: skip


def test_landmarks_in_memory_are_a_bounded_even_sample():
    recorder = LandmarkRecorder((640, 480), sample_size=100)
    for i in range(5000):
        recorder.add(frame(i, detected=i > 10))
    sample = recorder.sample()
    assert recorder.frames == 5000 and recorder.any_detected
    assert 50 <= len(sample) <= 100 and sample.t[0] == 0.0 and sample.t[-1] > 4800 / 30.0


def test_all_landmarks_are_spooled_to_disk_and_saved_whole(tmp_path):
    recorder = LandmarkRecorder((640, 480), spool_dir=tmp_path, sample_size=10)
    frames = [frame(i, detected=i % 7 != 0) for i in range(300)]
    for f in frames:
        recorder.add(f)
    recorder.save(tmp_path / "all.npz", source="test")
    recorder.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.npz"]  # spool files removed
    saved = LandmarkSequence.load(tmp_path / "all.npz")
    whole = LandmarkSequence.stack(frames, (640, 480))
    assert len(saved) == 300
    np.testing.assert_allclose(saved.xy, whole.xy, rtol=1e-6)  # float32 on disk
    np.testing.assert_array_equal(saved.t, whole.t)
    assert np.array_equal(saved.detected, whole.detected)
