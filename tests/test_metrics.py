"""The metric library, the body scale and the One Euro filter on tiny arrays with known answers.

Points are (T, D) arrays; in image coordinates y grows DOWN, so "above" means a smaller y.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from posecheck import metrics as m
from posecheck.landmarks import LANDMARK_INDEX, N_LANDMARKS
from posecheck.smoothing import OneEuroFilter

ONE = np.array([1.0])


def pts(*xy: tuple[float, ...]) -> np.ndarray:
    """One point per frame: pts((0, 0), (1, 2)) is a point at (0, 0) then at (1, 2)."""
    return np.array(xy, dtype=float)


def scale(value: float = 1.0, frames: int = 1) -> np.ndarray:
    return np.full(frames, value)


# --- naming points ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "side", "expected"),
    [
        ("left_knee", "right", ("left_knee",)),  # a MediaPipe name ignores the side
        ("nose", "left", ("nose",)),
        ("knee", "left", ("left_knee",)),
        ("knee", "right", ("right_knee",)),
        ("opposite_knee", "left", ("right_knee",)),
        ("opposite_shoulder", "right", ("left_shoulder",)),
        ("mid_hip", "left", ("left_hip", "right_hip")),
        ("mid_hip", "right", ("left_hip", "right_hip")),
        ("foot_index", "right", ("right_foot_index",)),
        ("ear", "left", ("left_ear",)),
    ],
)
def test_point_names(name: str, side: str, expected: tuple[str, ...]) -> None:
    assert m.point_indices(name, side) == tuple(LANDMARK_INDEX[n] for n in expected)
    assert m.is_point_name(name)


@pytest.mark.parametrize("name", ["hipp", "knee_left", "opposite_nose", "mid_nose", "mid_", "opposite_", ""])
def test_unknown_point_names_raise_key_error(name: str) -> None:
    with pytest.raises(KeyError):
        m.point_indices(name, "left")
    assert not m.is_point_name(name)


def test_gather_point_averages_mid_points() -> None:
    coords = np.zeros((2, N_LANDMARKS, 2))
    coords[:, LANDMARK_INDEX["left_hip"]] = [[0.0, 10.0], [2.0, 10.0]]
    coords[:, LANDMARK_INDEX["right_hip"]] = [[4.0, 20.0], [6.0, 30.0]]
    np.testing.assert_array_equal(m.gather_point(coords, "mid_hip", "left"), [[2.0, 15.0], [4.0, 20.0]])
    np.testing.assert_array_equal(m.gather_point(coords, "hip", "right"), [[4.0, 20.0], [6.0, 30.0]])
    np.testing.assert_array_equal(m.gather_point(coords, "opposite_hip", "right"), [[0.0, 10.0], [2.0, 10.0]])


# --- metric functions ----------------------------------------------------------------------------


def test_angle_known_values() -> None:
    b = pts((0, 0), (0, 0), (0, 0), (0, 0))
    a = pts((1, 0), (1, 0), (1, 0), (1, 0))
    c = pts((0, 1), (-1, 0), (1, 1), (1, 0))
    np.testing.assert_allclose(m.angle(a, b, c, scale(frames=4)), [90.0, 180.0, 45.0, 0.0], atol=1e-6)


def test_angle_in_3d_and_independent_of_scale() -> None:
    a, b, c = pts((1, 0, 0)), pts((0, 0, 0)), pts((0, 0, 5))
    assert m.angle(a, b, c, scale(7.0))[0] == pytest.approx(90.0)


def test_height_above_line_is_signed_and_in_torso_lengths() -> None:
    a, b = pts((0, 0), (0, 0)), pts((10, 0), (10, 0))
    p = pts((5, -3), (5, 3))  # image y down: the first point is above the line
    np.testing.assert_allclose(m.height_above_line(p, a, b, scale(2.0, 2)), [1.5, -1.5])
    np.testing.assert_allclose(m.height_above_line(p, b, a, scale(2.0, 2)), [1.5, -1.5])  # line direction


def test_height_above_a_sloping_line_is_the_perpendicular_distance() -> None:
    a, b, p = pts((0, 0)), pts((4, -4)), pts((0, -4))  # line y = -x (rising to the right), p above it
    assert m.height_above_line(p, a, b, ONE)[0] == pytest.approx(np.sqrt(8.0))
    assert m.height_above_line(pts((2, -2)), a, b, ONE)[0] == pytest.approx(0.0, abs=1e-12)


def test_line_deviation() -> None:
    first, last = pts((0, 0), (0, 0)), pts((10, 0), (10, 0))
    inner1 = pts((3, 0), (3, 2))
    inner2 = pts((6, 0), (6, -4))
    np.testing.assert_allclose(m.line_deviation(first, inner1, inner2, last, scale(2.0, 2)), [0.0, 2.0])
    collinear_3d = m.line_deviation(pts((0, 0, 0)), pts((1, 1, 1)), pts((2, 2, 2)), ONE)
    assert collinear_3d[0] == pytest.approx(0.0, abs=1e-12)


def test_height_level_offset_and_distance() -> None:
    p, ref = pts((3, 6), (3, 14)), pts((0, 10), (0, 10))
    np.testing.assert_allclose(m.height(p, ref, scale(2.0, 2)), [2.0, -2.0])  # above is positive
    np.testing.assert_allclose(m.level_difference(p, ref, scale(2.0, 2)), [2.0, 2.0])
    np.testing.assert_allclose(m.horizontal_offset(p, ref, scale(2.0, 2)), [1.5, 1.5])
    np.testing.assert_allclose(m.distance(pts((0, 0)), pts((3, 4)), scale(5.0)), [1.0])


def test_vertical_extent_is_lowest_to_highest_whatever_the_order() -> None:
    hip = pts((0, 10), (0, 6), (0, 10))
    knee = pts((4, 10), (4, 10), (4, 8))
    ankle = pts((8, 10), (8, 4), (8, 10))
    # lying flat; hips and feet up (the highest is the ankle); knees up above hips and feet
    np.testing.assert_allclose(m.vertical_extent(hip, knee, ankle, scale(2.0, 3)), [0.0, 3.0, 1.0])
    np.testing.assert_allclose(m.vertical_extent(ankle, hip, knee, scale(2.0, 3)), [0.0, 3.0, 1.0])


def test_inclination_from_straight_up() -> None:
    a = pts((0, 0), (0, 0), (0, 0), (0, 0))
    b = pts((0, -5), (5, 0), (0, 5), (-5, -5))  # above, level, below, up-left
    np.testing.assert_allclose(m.inclination(a, b, scale(frames=4)), [0.0, 90.0, 180.0, 45.0], atol=1e-6)


def test_segment_angle() -> None:
    a1, a2 = pts((0, 0), (0, 0), (0, 0)), pts((1, 0), (1, 0), (1, 0))
    b1, b2 = pts((5, 5), (5, 5), (5, 5)), pts((9, 5), (5, 9), (1, 5))
    np.testing.assert_allclose(
        m.segment_angle(a1, a2, b1, b2, scale(frames=3)), [0.0, 90.0, 180.0], atol=1e-6
    )


KNOWN_VALUE_TESTS = {
    "angle": test_angle_known_values,
    "height_above_line": test_height_above_line_is_signed_and_in_torso_lengths,
    "line_deviation": test_line_deviation,
    "height": test_height_level_offset_and_distance,
    "vertical_extent": test_vertical_extent_is_lowest_to_highest_whatever_the_order,
    "level_difference": test_height_level_offset_and_distance,
    "horizontal_offset": test_height_level_offset_and_distance,
    "distance": test_height_level_offset_and_distance,
    "inclination": test_inclination_from_straight_up,
    "segment_angle": test_segment_angle,
}


def test_every_metric_function_has_a_known_value_test() -> None:
    """A new metric function needs a test with hand-made answers here."""
    assert set(m.METRIC_FUNCTIONS) == set(KNOWN_VALUE_TESTS)


def _n_points(spec: m.MetricFunction) -> int:
    return spec.n_points if spec.n_points is not None else 3


@pytest.mark.parametrize("name", sorted(m.METRIC_FUNCTIONS))
def test_every_metric_propagates_nan_per_frame(name: str) -> None:
    spec = m.METRIC_FUNCTIONS[name]
    rng = np.random.default_rng(0)
    points = [rng.normal(size=(3, 2)) for _ in range(_n_points(spec))]
    points[-1][1] = np.nan  # frame 1 of one point is missing
    with np.errstate(invalid="ignore"):
        out = spec.function(*points, scale(frames=3))
    assert out.shape == (3,)
    assert np.isnan(out[1])
    assert np.isfinite(out[[0, 2]]).all()


@pytest.mark.parametrize("name", sorted(m.METRIC_FUNCTIONS))
def test_metric_table_matches_the_functions(name: str) -> None:
    spec = m.METRIC_FUNCTIONS[name]
    assert spec.unit in ("deg", "torso")
    parameters = inspect.signature(spec.function).parameters
    if spec.n_points is None:
        assert any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    else:
        assert len(parameters) == spec.n_points + 1  # the points, then the scale


def test_line_deviation_takes_any_number_of_points() -> None:
    line = [pts((float(i), 0.0)) for i in range(6)]
    line[2] = pts((2.0, 1.0))
    assert m.line_deviation(*line, ONE)[0] == pytest.approx(1.0)


# --- body scale -----------------------------------------------------------------------------------


def torso_frames(lengths: list[float], dims: int = 2) -> np.ndarray:
    """(T, 33, D) coordinates whose mid-shoulder is `length` above the mid-hip."""
    coords = np.zeros((len(lengths), N_LANDMARKS, dims))
    for i, length in enumerate(lengths):
        coords[i, LANDMARK_INDEX["left_hip"], 0] = -1.0
        coords[i, LANDMARK_INDEX["right_hip"], 0] = 1.0
        for name, x in (("left_shoulder", -1.2), ("right_shoulder", 1.2)):
            coords[i, LANDMARK_INDEX[name], :2] = [x, -length]
    return coords


def test_body_scale_is_the_torso_length() -> None:
    out = m.BodyScale().update(torso_frames([10.0] * 20))
    np.testing.assert_allclose(out, 10.0)


def test_body_scale_ignores_a_single_frame_spike() -> None:
    lengths = [10.0] * 10 + [30.0] + [10.0] * 10
    out = m.BodyScale().update(torso_frames(lengths))
    np.testing.assert_allclose(out, 10.0)


def test_body_scale_keeps_the_running_maximum() -> None:
    lengths = [10.0] * 20 + [12.0] * 20 + [8.0] * 30  # grows, then foreshortened
    out = m.BodyScale().update(torso_frames(lengths))
    assert out[19] == pytest.approx(10.0)
    assert out[39] == pytest.approx(12.0)
    np.testing.assert_allclose(out[40:], 12.0)  # foreshortening never shrinks it
    assert np.all(np.diff(out) >= 0)


def test_body_scale_takes_a_much_larger_body_at_once_but_not_a_two_frame_glitch() -> None:
    """The model found the person after following something smaller: the new size is taken
    after three frames, not half a median window later (when metrics would spike meanwhile)."""
    out = m.BodyScale().update(torso_frames([10.0] * 20 + [25.0] * 10))
    assert out[21] == pytest.approx(10.0)
    np.testing.assert_allclose(out[22:], 25.0)
    glitch = m.BodyScale().update(torso_frames([10.0] * 20 + [25.0] * 2 + [10.0] * 10))
    np.testing.assert_allclose(glitch, 10.0)


def test_body_scale_before_enough_frames_uses_the_raw_length() -> None:
    out = m.BodyScale().update(torso_frames([10.0, 11.0, 9.0]))
    np.testing.assert_allclose(out, [10.0, 11.0, 9.0])


def test_body_scale_holds_its_value_through_missing_frames() -> None:
    coords = torso_frames([10.0] * 10 + [0.0] * 5)
    coords[10:] = np.nan
    out = m.BodyScale().update(coords)
    np.testing.assert_allclose(out[10:], 10.0)
    assert np.isnan(m.BodyScale().update(coords[10:])).all()  # nothing seen yet: no scale


def test_body_scale_is_causal_and_chunk_independent() -> None:
    rng = np.random.default_rng(1)
    coords = torso_frames(list(10.0 + rng.normal(0, 1.0, 60)), dims=3)
    whole = m.BodyScale().update(coords)
    stepper = m.BodyScale()
    one_by_one = np.concatenate([stepper.update(coords[i : i + 1]) for i in range(len(coords))])
    chunker = m.BodyScale()
    chunks = np.concatenate([chunker.update(coords[i : i + 7]) for i in range(0, len(coords), 7)])
    np.testing.assert_array_equal(whole, one_by_one)
    np.testing.assert_array_equal(whole, chunks)
    prefix = m.BodyScale().update(coords[:30])
    np.testing.assert_array_equal(whole[:30], prefix)  # later frames never change earlier values


# --- One Euro filter ------------------------------------------------------------------------------

FPS = 30.0


def test_one_euro_reduces_jitter_on_a_still_value() -> None:
    # the engine's settings, on coordinates normalised by the image size: 0.002 ~ 1.3 px at 640
    t = np.arange(300) / FPS
    noisy = 0.5 + np.random.default_rng(2).normal(0.0, 0.002, (300, 33, 2))
    out = OneEuroFilter(min_cutoff_hz=1.0, beta=3.0).run(noisy, t)
    np.testing.assert_array_equal(out[0], noisy[0])  # the first frame passes through
    settled = out[30:]
    assert settled.std() < 0.5 * noisy[30:].std()
    assert settled.mean() == pytest.approx(0.5, abs=0.001)


def test_one_euro_follows_a_step_quickly() -> None:
    t = np.arange(60) / FPS
    step = np.where(t >= 1.0, 10.0, 0.0)[:, None]
    adaptive = OneEuroFilter(min_cutoff_hz=1.0, beta=3.0).run(step, t)[:, 0]
    plain = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0).run(step, t)[:, 0]  # a fixed low-pass
    after = int(1.0 * FPS) + 4  # 4 frames (0.13 s) after the step
    assert adaptive[after] > 9.0
    assert plain[after] < 7.0  # the speed-dependent cutoff is what makes it quick
    assert np.all(adaptive <= 10.0 + 1e-9)  # no overshoot


def test_one_euro_restarts_missing_entries_and_keeps_the_others() -> None:
    t = np.arange(6) / FPS
    x = np.array([[1.0, 1.0], [2.0, 2.0], [np.nan, 3.0], [np.nan, 4.0], [7.0, 5.0], [8.0, 6.0]])
    out = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0).run(x, t)
    assert np.isnan(out[2, 0]) and np.isnan(out[3, 0])
    assert out[4, 0] == 7.0  # back after a gap: starts again from the measurement
    assert 7.0 < out[5, 0] < 8.0  # and filters from there
    assert np.isfinite(out[:, 1]).all()
    reference = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0).run(x[:, 1:], t)
    np.testing.assert_array_equal(out[:, 1], reference[:, 0])  # the other entry is unaffected


def test_one_euro_resets_when_time_does_not_advance() -> None:
    f = OneEuroFilter()
    f.step(np.array([0.0]), 1.0)
    f.step(np.array([1.0]), 1.1)
    assert f.step(np.array([5.0]), 1.1)[0] == 5.0  # same timestamp: a new start, not a division by 0


def test_one_euro_chunked_equals_whole() -> None:
    t = np.arange(120) / FPS
    x = np.cumsum(np.random.default_rng(3).normal(0.0, 1.0, (120, 33, 2)), axis=0)
    whole = OneEuroFilter(min_cutoff_hz=1.0, beta=3.0).run(x, t)
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=3.0)
    chunked = np.concatenate([f.run(x[i : i + 11], t[i : i + 11]) for i in range(0, 120, 11)])
    np.testing.assert_array_equal(whole, chunked)


def standing_world(frames: int, tilt_deg: float) -> np.ndarray:
    """(frames, 33, 3) a person standing straight, seen by a camera pitched down by tilt_deg."""
    coords = np.zeros((frames, N_LANDMARKS, 3))
    body = {"shoulder": 0.5, "hip": 0.0, "knee": -0.45, "ankle": -0.88, "ear": 0.7}  # heights (m)
    for part, height_m in body.items():
        for side, x in (("left", 0.1), ("right", -0.1)):
            coords[:, LANDMARK_INDEX[f"{side}_{part}"]] = [x, -height_m, 0.05 * (part == "ankle")]
    a = np.radians(tilt_deg)  # camera pitched about x: y and z mix
    pitch = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    return coords @ pitch.T


def test_body_up_levels_a_tilted_camera_by_the_standing_body() -> None:
    level, tilted = standing_world(30, 0.0), standing_world(30, 15.0)
    t = np.arange(30) / 30
    levelled = m.BodyUp().level(tilted, t)
    np.testing.assert_allclose(levelled[-1, :, 1], level[-1, :, 1], atol=0.01)  # heights as if level
    assert not np.allclose(tilted[-1, :, 1], level[-1, :, 1], atol=0.01)


def test_body_up_learns_only_from_a_body_standing_straight() -> None:
    crouched = standing_world(30, 0.0)
    knee = LANDMARK_INDEX["left_knee"]
    crouched[:, knee, 2] = 0.4  # a bent knee: no 'up' learnt, the camera's up is kept
    world = crouched @ np.array([[1, 0, 0], [0, np.cos(0.3), -np.sin(0.3)], [0, np.sin(0.3), np.cos(0.3)]]).T
    np.testing.assert_allclose(m.BodyUp().level(world, np.arange(30) / 30), world)
