"""A robustness set: labelled rendered clips turned into the kinds of footage real people make.

The renders are tidy: the recording starts well before the first rep, there is a still pause
between reps, the whole body is in a 640x480 landscape picture, the light is good. Real
recordings start late, run reps back to back, cut off the feet, are filmed in portrait, are
mirrored by a front camera, and come from a 15 fps webcam in a dim room. Each transform here
imitates one of those and changes the labels (`NAME.json`) and the ground-truth keypoints
(`NAME.npz`) to match, so `posecheck eval` can score the result. numpy and OpenCV only (no
anny/torch/numba), so it runs in posecheck's own environment.

    python -m posecheck.synth.variants sample_videos/*.json --out /tmp/robust [--seed 0] [--force]

The recipe (`RECIPE`, one clip `<source>__<variant>` each per source):

    late_start           the recording starts half-way through the first rep's way up/out
    starts_in_hold       the recording starts a quarter into the first rep's hold
    ends_in_hold         the recording stops in the middle of the last rep's hold
    back_to_back         no setup (5 frames kept) and no rests: 4 frames between reps
    feet_cut             tight framing: the picture ends between the knees and the ankles
    portrait             a 9:16 crop around the body (270x480), as a phone held upright
    mirror               flipped left-right, as a front camera shows it
    webcam               15 fps, dim, blurred, noisy, low-quality JPEG, a watermark
    back_to_back+webcam  both

Label bookkeeping after frames are cut (see `select_frames`): frame numbers are renumbered; a
rep that the clip's start or end cuts into moves from `reps` to `partial_reps` (with `cut_by`:
`start`, `end` or `both`); `rep_count` counts the whole reps, `rep_count_max` whole + partial
(a checker may or may not count a cut rep); `setup_end_frame` is 0 once the setup is cut;
`variant` records the source and every step with its parameters; `real` is false. A rep's
`index` stays its number in the source clip (the npz `rep_index` uses the same numbers).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posecheck.landmarks import LANDMARK_INDEX, LANDMARK_NAMES
from posecheck.source import VideoFileSource

BODY = [*range(11, 17), *range(23, 33)]  # shoulders to wrists, hips to feet
HOLD_KEYS = ("hold", "top", "bottom")  # hold windows: `hold_*` (v1.0), `top_*`/`bottom_*` (prototype)


@dataclass
class Clip:
    """A labelled clip in memory.

    frames: (T, H, W, 3) uint8 BGR; labels: the JSON labels; keypoints: the NPZ arrays
    (`kp2d` (T, 33, 2) pixels, `in_frame`/`visible` (T, 33), ...; per-frame arrays have T rows).
    """

    frames: np.ndarray
    labels: dict
    keypoints: dict[str, np.ndarray]

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.frames.shape[2], self.frames.shape[1]


# --- reading and writing ---------------------------------------------------------------------


def read_clip(label_file: Path) -> Clip:
    """Read NAME.json, NAME.mp4 and (when there) NAME.npz."""
    label_file = Path(label_file)
    labels = json.loads(label_file.read_text())
    labels.setdefault("clip", label_file.stem)
    n = labels["n_frames"]
    frames = np.empty((n, labels["height"], labels["width"], 3), np.uint8)
    count = 0
    with VideoFileSource(label_file.with_suffix(".mp4")) as source:
        for frame in source:
            if count < n:
                frames[count] = frame.image
            count += 1
            if count > n:
                break
    if count != n:
        raise ValueError(f"{label_file}: the video has {count}{'+' * (count > n)} frames, the labels {n}")
    npz = label_file.with_suffix(".npz")
    keypoints = {}
    if npz.is_file():
        with np.load(npz) as data:
            keypoints = {key: data[key] for key in data.files}
    return Clip(frames, labels, keypoints)


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """write(temporary path) then rename it to `path`, so a half-written file never has the name."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_video(path: Path, frames: np.ndarray, fps: float) -> None:
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    for frame in frames:
        writer.write(np.ascontiguousarray(frame))
    writer.release()


def write_clip(clip: Clip, out_dir: Path, name: str) -> Path:
    """Write NAME.mp4 (mp4v), NAME.npz and NAME.json (last) into out_dir; returns the JSON path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = {**clip.labels, "clip": name}
    if isinstance(labels.get("landmarks"), dict):
        labels["landmarks"] = {**labels["landmarks"], "file": f"{name}.npz"}
    _atomic(out_dir / f"{name}.mp4", lambda tmp: _write_video(tmp, clip.frames, labels["fps"]))
    if clip.keypoints:
        _atomic(out_dir / f"{name}.npz", lambda tmp: np.savez_compressed(tmp, **clip.keypoints))
    label_file = out_dir / f"{name}.json"
    _atomic(label_file, lambda tmp: tmp.write_text(json.dumps(labels, indent=1)))
    return label_file


# --- label bookkeeping -----------------------------------------------------------------------


def _record(labels: dict, op: str, **params) -> None:
    """Note a transform in `labels['variant']['steps']`, mark the clip as not real and state the
    count range (`partial_reps`, `rep_count_max`)."""
    variant = labels.setdefault("variant", {"source": labels.get("clip"), "steps": []})
    variant["steps"].append({"op": op, **params})
    labels["real"] = False
    labels.setdefault("partial_reps", [])
    labels["rep_count_max"] = len(labels["reps"]) + len(labels["partial_reps"])


def remap_window(keep: np.ndarray, first: int, last: int) -> tuple[int, int] | None:
    """New numbers of the kept source frames in [first, last] (`keep`: the kept source frames,
    ascending). A window between two kept frames maps to the nearer one; None if the window is
    outside the kept span."""
    if last < keep[0] or first > keep[-1]:
        return None
    a = int(np.searchsorted(keep, first, "left"))
    b = int(np.searchsorted(keep, last, "right")) - 1
    if a > b:  # no kept frame inside: keep[b] < first <= last < keep[a]
        middle = (first + last) / 2
        a = b = b if middle - keep[b] <= keep[a] - middle else a
    return a, b


def _remap_rep(rep: dict, keep: np.ndarray) -> dict:
    """A rep with every `*start_frame`/`*end_frame` pair renumbered (None where the window is
    cut off) and its `fault_frames` renumbered and clipped to the rep."""
    out = copy.deepcopy(rep)
    for key in rep:
        end_key = key[: -len("start_frame")] + "end_frame"
        if key.endswith("start_frame") and end_key in rep and rep[key] is not None:
            window = remap_window(keep, rep[key], rep[end_key])
            out[key], out[end_key] = window if window else (None, None)
    if "fault_frames" in rep:
        out["fault_frames"] = {}
        for fault, (first, last) in rep["fault_frames"].items():
            window = remap_window(keep, first, last)
            if window:
                a, b = max(window[0], out["start_frame"]), min(window[1], out["end_frame"])
                if a <= b:
                    out["fault_frames"][fault] = [a, b]
    return out


def _cut_by(rep: dict, keep: np.ndarray) -> str | None:
    """'start', 'end' or 'both' when the kept span cuts into the rep, else None."""
    start_cut, end_cut = rep["start_frame"] < keep[0], rep["end_frame"] > keep[-1]
    return {(True, False): "start", (False, True): "end", (True, True): "both"}.get((start_cut, end_cut))


def _relabel(labels: dict, keep: np.ndarray, fps: float) -> dict:
    """Labels for a clip made of the source frames `keep` (ascending) played at `fps`."""
    out = copy.deepcopy(labels)
    reps, partial = [], []
    for rep in [*labels["reps"], *labels.get("partial_reps", [])]:
        if rep["end_frame"] < keep[0] or rep["start_frame"] > keep[-1]:
            continue  # wholly outside the new clip
        new = _remap_rep(rep, keep)
        cuts = {rep.get("cut_by"), _cut_by(rep, keep)} - {None}
        if cuts:
            partial.append({**new, "cut_by": cuts.pop() if len(cuts) == 1 else "both"})
        else:
            reps.append(new)
    n = len(keep)
    out.update(
        fps=int(fps) if float(fps).is_integer() else fps,
        n_frames=n,
        duration_s=round(n / fps, 3),
        reps=reps,
        partial_reps=partial,
        rep_count=len(reps),
        rep_count_max=len(reps) + len(partial),
        clean_rep_count=sum(bool(r.get("clean")) for r in reps),
    )
    if "setup_end_frame" in labels:
        out["setup_end_frame"] = min(int(np.searchsorted(keep, labels["setup_end_frame"], "left")), n)
    return out


def _take(array: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """array[keep], as a view (no copy) when `keep` is evenly spaced."""
    steps = np.unique(np.diff(keep))
    if len(steps) <= 1:
        return array[keep[0] : keep[-1] + 1 : int(steps[0]) if len(steps) else 1]
    return array[keep]


def select_frames(clip: Clip, keep: np.ndarray, fps: float | None = None) -> Clip:
    """The clip made of the source frames `keep` (ascending indices), played at `fps` (default:
    unchanged); labels and per-frame keypoints follow. Callers record the step."""
    keep = np.asarray(keep, dtype=int)
    if len(keep) == 0 or np.any(np.diff(keep) <= 0) or keep[0] < 0 or keep[-1] >= clip.n_frames:
        raise ValueError("keep must be a non-empty ascending list of the clip's frame indices")
    fps = clip.labels["fps"] if fps is None else fps
    keypoints = {
        key: _take(value, keep)
        if value.shape[:1] == (clip.n_frames,) and not key.endswith("_names")
        else value
        for key, value in clip.keypoints.items()
    }
    return Clip(_take(clip.frames, keep), _relabel(clip.labels, keep, fps), keypoints)


def hold_window(rep: dict) -> tuple[int, int]:
    """A rep's hold (`hold_*`, `top_*` or `bottom_*` frames); the middle third of the rep if
    it has none."""
    for name in HOLD_KEYS:
        if rep.get(f"{name}_start_frame") is not None:
            return rep[f"{name}_start_frame"], rep[f"{name}_end_frame"]
    third = (rep["end_frame"] - rep["start_frame"]) // 3
    return rep["start_frame"] + third, rep["end_frame"] - third


def rep_moment(labels: dict, rep: int, where: str) -> int:
    """A source frame in rep number `rep` (position in `reps`; -1 = the last): 'moving_out'
    (half-way from the start to the hold), 'hold' (a quarter into the hold) or 'mid_hold'."""
    r = labels["reps"][rep]
    first, last = hold_window(r)
    if where == "moving_out":
        return (r["start_frame"] + first) // 2
    if where == "hold":
        return first + (last - first) // 4
    if where == "mid_hold":
        return (first + last) // 2
    raise ValueError(f"unknown moment {where!r}")


# --- transforms that cut frames ----------------------------------------------------------------


def trim_start(clip: Clip, frame: int) -> Clip:
    """Start the clip at source frame `frame`: the recording started late, the person already
    moving (or holding)."""
    out = select_frames(clip, np.arange(frame, clip.n_frames))
    _record(out.labels, "trim_start", frame=int(frame))
    return out


def trim_end(clip: Clip, frame: int) -> Clip:
    """End the clip at source frame `frame` (kept): the recording stopped mid-rep, e.g. during a
    hold."""
    out = select_frames(clip, np.arange(0, frame + 1))
    _record(out.labels, "trim_end", frame=int(frame))
    return out


def back_to_back(clip: Clip, lead: int = 5, gap: int = 4) -> Clip:
    """Cut the setup (all but `lead` frames before the first rep), the rests between reps (all but
    `gap` frames: half after one rep's end, half before the next start) and the tail (all but
    `lead` frames): someone who starts filming in position and does the reps without a pause."""
    reps = sorted(clip.labels["reps"], key=lambda r: r["start_frame"])
    if not reps:
        raise ValueError("back_to_back needs reps")
    keep = np.zeros(clip.n_frames, bool)
    for i, rep in enumerate(reps):
        before = lead if i == 0 else gap - gap // 2
        after = lead if i == len(reps) - 1 else gap // 2
        keep[max(rep["start_frame"] - before, 0) : rep["end_frame"] + 1 + after] = True
    out = select_frames(clip, np.flatnonzero(keep))
    _record(out.labels, "back_to_back", lead=lead, gap=gap)
    return out


def drop_fps(clip: Clip, step: int = 2) -> Clip:
    """Keep every `step`-th frame (from the first) and divide the frame rate: a 15 fps webcam."""
    out = select_frames(clip, np.arange(0, clip.n_frames, step), fps=clip.labels["fps"] / step)
    _record(out.labels, "drop_fps", step=step)
    return out


# --- transforms of the picture -------------------------------------------------------------------


def _inside(kp2d: np.ndarray, width: int, height: int) -> np.ndarray:
    """Points in the picture: pixel (floor of x, y) inside it, the generator's own test."""
    px = np.floor(kp2d)
    return (px[..., 0] >= 0) & (px[..., 0] < width) & (px[..., 1] >= 0) & (px[..., 1] < height)


def _map_points(
    keypoints: dict[str, np.ndarray], sx: float, sy: float, tx: float, ty: float, size: tuple[int, int]
) -> dict[str, np.ndarray]:
    """x' = sx x + tx, y' = sy y + ty on every 2D array (`*2d`); `in_frame` recomputed for the
    new picture size, `visible` only where in frame."""
    out = dict(keypoints)
    for key, value in keypoints.items():
        if key.endswith("2d"):
            out[key] = (value * np.array([sx, sy]) + np.array([tx, ty])).astype(value.dtype)
    if "kp2d" in out:
        out["in_frame"] = _inside(out["kp2d"], *size)
        if "visible" in out:
            out["visible"] = out["visible"] & out["in_frame"]
    return out


def _map_camera(labels: dict, sx: float, sy: float, tx: float, ty: float, size: tuple[int, int]) -> None:
    """Follow a crop/resize in `labels['camera']['K']` and the picture size."""
    labels["width"], labels["height"] = size
    camera = labels.get("camera")
    if isinstance(camera, dict) and "K" in camera:
        K = np.array(camera["K"], float)
        K[0] = K[0] * sx + np.array([0, 0, tx])
        K[1] = K[1] * sy + np.array([0, 0, ty])
        camera["K"] = K.tolist()
        camera["width"], camera["height"] = size


def crop(clip: Clip, box: tuple[int, int, int, int], size: tuple[int, int] | None = None) -> Clip:
    """Keep the picture inside box = (x0, y0, x1, y1), then resize it to size = (width, height)
    (default: the box's size): a camera placed too close or a tight frame."""
    x0, y0, x1, y1 = (int(v) for v in box)
    width, height = clip.size
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValueError(f"crop box {box} is not inside the {width}x{height} picture")
    size = size or (x1 - x0, y1 - y0)
    frames = clip.frames[:, y0:y1, x0:x1]
    if size != (x1 - x0, y1 - y0):
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    labels = copy.deepcopy(clip.labels)
    _map_camera(labels, sx, sy, -x0 * sx, -y0 * sy, size)
    out = Clip(frames, labels, _map_points(clip.keypoints, sx, sy, -x0 * sx, -y0 * sy, size))
    _record(out.labels, "crop", box=[x0, y0, x1, y1], size=list(size))
    return out


def _median_point(clip: Clip, names: list[str]) -> np.ndarray | None:
    """The median over the clip of the mean position of some landmarks (None without kp2d)."""
    if "kp2d" not in clip.keypoints:
        return None
    points = clip.keypoints["kp2d"][:, [LANDMARK_INDEX[n] for n in names]].mean(axis=1)
    return np.nanmedian(points, axis=0)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def feet_cut_box(clip: Clip) -> tuple[int, int, int, int]:
    """A crop box whose edge runs between the knees and the ankles (median pose), on the side of
    the picture where the feet are (below a standing person, beyond the feet of one lying or on
    all fours). Without keypoints: the top 80 %."""
    width, height = clip.size
    shoulders = _median_point(clip, ["left_shoulder", "right_shoulder"])
    knees = _median_point(clip, ["left_knee", "right_knee"])
    ankles = _median_point(clip, ["left_ankle", "right_ankle"])
    if shoulders is None:
        return 0, 0, width, _even(0.8 * height)
    axis = int(np.argmax(np.abs(ankles - shoulders)))  # 0: the feet are to one side, 1: below/above
    sign = np.sign(ankles[axis] - shoulders[axis])
    shin = float(np.linalg.norm(ankles - knees))
    edge = ankles[axis] - sign * max(abs(ankles[axis] - knees[axis]) / 2, 0.2 * shin)
    extent = (width, height)[axis]
    edge = _even(np.clip(edge, extent / 2, extent) if sign > 0 else np.clip(edge, 0, extent / 2))
    if axis == 0:
        return (0, 0, edge, height) if sign > 0 else (edge, 0, width, height)
    return (0, 0, width, edge) if sign > 0 else (0, edge, width, height)


def portrait_box(clip: Clip, aspect: float = 9 / 16) -> tuple[int, int, int, int]:
    """The widest box of width/height = aspect (full height) centred on the body (median over the
    clip of the body landmarks' mean x), kept inside the picture."""
    width, height = clip.size
    box_w = min(_even(height * aspect), width)
    centre = _median_point(clip, [LANDMARK_NAMES[i] for i in BODY])
    cx = width / 2 if centre is None or not np.isfinite(centre[0]) else float(centre[0])
    x0 = int(np.clip(round(cx - box_w / 2), 0, width - box_w))
    return x0, 0, x0 + box_w, height


def _swap_name(name: str) -> str:
    """The left/right counterpart of a landmark or joint name (`left_knee`, `foot.L`, ...)."""
    for a, b in (("left", "right"), ("right", "left"), (".L", ".R"), (".R", ".L")):
        if a in name:
            return name.replace(a, b)
    return name


def _swap_order(names) -> np.ndarray:
    """Index array that swaps left and right in a list of names."""
    index = {str(n): i for i, n in enumerate(names)}
    return np.array([index.get(_swap_name(str(n)), i) for i, n in enumerate(names)])


def _reflect_world(points: np.ndarray, camera: dict) -> np.ndarray:
    """Reflect world points in the camera's vertical plane (through the eye, containing the
    optical axis): the same camera then sees the flipped picture."""
    normal = np.array(camera["R_world_to_cam"][0], float)  # the camera's x axis in the world
    eye = np.array(camera["eye"], float)
    return (points - 2 * ((points - eye) @ normal)[..., None] * normal).astype(points.dtype)


SIDE_SWAP = {
    "left": "right",
    "right": "left",
    "L": "R",
    "R": "L",
    "subject_left": "subject_right",
    "subject_right": "subject_left",
}


def _mirror_labels(labels: dict) -> dict:
    """Labels of the flipped clip: camera side, reps' sides, and the camera (cx' = W - cx;
    the world is reflected in the camera's vertical plane, see `_reflect_world`)."""
    out = copy.deepcopy(labels)
    out["camera_side"] = SIDE_SWAP.get(out.get("camera_side"), out.get("camera_side"))
    for rep in [*out["reps"], *out.get("partial_reps", [])]:
        for key in ("side", "arm_side", "leg_side"):
            if rep.get(key) is not None:
                rep[key] = SIDE_SWAP.get(rep[key], rep[key])
    camera = out.get("camera")
    if isinstance(camera, dict) and "K" in camera:
        camera["K"][0][2] = out["width"] - camera["K"][0][2]
    scene = out.get("scene")
    if isinstance(scene, dict) and "light_dir" in scene and _has_pose(camera):
        light = np.array(scene["light_dir"], float)
        normal = np.array(camera["R_world_to_cam"][0], float)
        scene["light_dir"] = (light - 2 * (light @ normal) * normal).round(3).tolist()
    return out


def _has_pose(camera) -> bool:
    return isinstance(camera, dict) and "R_world_to_cam" in camera and "eye" in camera


def _mirror_keypoints(keypoints: dict[str, np.ndarray], width: int, camera) -> dict[str, np.ndarray]:
    """Flip x of the 2D points, swap left/right in every landmark array, reflect the 3D world
    points (dropped if the labels have no camera pose)."""
    orders = {len(LANDMARK_NAMES): _swap_order(LANDMARK_NAMES)}
    for key, names in keypoints.items():
        if key.endswith("_names") and names.ndim == 1 and len(names) != len(LANDMARK_NAMES):
            orders[len(names)] = _swap_order(names)
    out = {}
    for key, value in keypoints.items():
        if key.endswith("_names") or value.ndim < 2 or value.shape[1] not in orders:
            out[key] = value
            continue
        value = value[:, orders[value.shape[1]]]
        if key.endswith("2d"):
            value = value.copy()
            value[..., 0] = width - value[..., 0]
        elif key.endswith("_world"):
            if not _has_pose(camera):
                continue
            value = _reflect_world(value, camera)
        out[key] = value
    return out


def mirror(clip: Clip) -> Clip:
    """Flip the picture left-right, as a phone's front camera shows it. A mirrored person's left
    arm looks like a right arm, so the ground truth swaps left and right landmarks; the reps'
    `side` and `camera_side` swap too."""
    labels = _mirror_labels(clip.labels)
    keypoints = _mirror_keypoints(clip.keypoints, clip.size[0], clip.labels.get("camera"))
    out = Clip(clip.frames[:, :, ::-1], labels, keypoints)
    _record(out.labels, "mirror")
    return out


def _watermark(frame: np.ndarray, text: str, alpha: float = 0.5) -> np.ndarray:
    """Blend white text with a dark outline into the bottom-right corner."""
    height, width = frame.shape[:2]
    scale = height / 640
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    origin = (max(width - tw - int(10 * scale) - 4, 0), height - int(12 * scale) - 4)
    overlay = frame.copy()
    cv2.putText(overlay, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(overlay, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return cv2.addWeighted(overlay, alpha, frame, 1 - alpha, 0)


def _sensor_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian noise drawn at half resolution and scaled up (grainy like a demosaiced sensor's,
    and 4x cheaper to draw)."""
    height, width, channels = shape
    half = rng.standard_normal(((height + 1) // 2, (width + 1) // 2, channels), dtype=np.float32)
    return cv2.resize(half * sigma, (width, height), interpolation=cv2.INTER_LINEAR).reshape(shape)


def degrade(
    clip: Clip,
    seed: int,
    noise: float = 6.0,
    blur: float = 0.9,
    jpeg_quality: int = 25,
    gamma: float = 1.5,
    gain: float = 0.75,
    watermark: str | None = "LiveCam HD",
) -> Clip:
    """Dim light (gamma and gain), a slight Gaussian blur (sigma px), sensor noise (sigma in grey
    levels at half resolution, seeded), JPEG re-compression and an optional semi-transparent
    watermark: a cheap webcam in a poorly lit room. Frames only; labels and keypoints stay."""
    rng = np.random.default_rng(seed)
    lut = np.clip(255 * gain * (np.arange(256) / 255) ** gamma, 0, 255).astype(np.uint8)
    frames = np.empty_like(clip.frames)
    for i, frame in enumerate(clip.frames):
        image = cv2.GaussianBlur(cv2.LUT(np.ascontiguousarray(frame), lut), (0, 0), blur)
        image = image + _sensor_noise(rng, image.shape, noise)
        image = np.clip(image, 0, 255).astype(np.uint8)
        if watermark:
            image = _watermark(image, watermark)
        _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        frames[i] = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    out = Clip(frames, copy.deepcopy(clip.labels), clip.keypoints)
    _record(
        out.labels,
        "degrade",
        seed=seed,
        noise=noise,
        blur=blur,
        jpeg_quality=jpeg_quality,
        gamma=gamma,
        gain=gain,
        watermark=watermark,
    )
    return out


def webcam(clip: Clip, seed: int, step: int = 2, **degrade_args) -> Clip:
    """A cheap webcam: 15 fps (`drop_fps`) and a dim, blurred, noisy, compressed picture (`degrade`)."""
    return degrade(drop_fps(clip, step), seed, **degrade_args)


# --- the recipe --------------------------------------------------------------------------------

RECIPE: dict[str, Callable[[Clip, int], Clip]] = {
    "late_start": lambda c, seed: trim_start(c, rep_moment(c.labels, 0, "moving_out")),
    "starts_in_hold": lambda c, seed: trim_start(c, rep_moment(c.labels, 0, "hold")),
    "ends_in_hold": lambda c, seed: trim_end(c, rep_moment(c.labels, -1, "mid_hold")),
    "back_to_back": lambda c, seed: back_to_back(c),
    "feet_cut": lambda c, seed: crop(c, feet_cut_box(c)),
    "portrait": lambda c, seed: crop(c, portrait_box(c), (270, 480)),
    "mirror": lambda c, seed: mirror(c),
    "webcam": lambda c, seed: webcam(c, seed),
    "back_to_back+webcam": lambda c, seed: webcam(back_to_back(c), seed),
}


def variant_seed(source: str, variant: str, seed: int) -> int:
    """A per-clip seed: the same for the same source, variant and seed, different across them."""
    return zlib.crc32(f"{source}/{variant}/{seed}".encode())


def make_robustness_set(
    sources: list[Path], out_dir: Path, seed: int = 0, *, force: bool = False, log=print
) -> list[Path]:
    """Make every `RECIPE` variant of every source label file (NAME.json beside NAME.mp4) in
    out_dir as `<NAME>__<variant>.{mp4,json,npz}`; one source in memory at a time. Variants
    whose JSON exists are skipped unless `force`. Returns the label files of the whole set."""
    made = []
    for source in map(Path, sources):
        targets = {v: Path(out_dir) / f"{source.stem}__{v}.json" for v in RECIPE}
        todo = [v for v, path in targets.items() if force or not path.exists()]
        clip = read_clip(source) if todo else None
        for name in todo:
            t0 = time.perf_counter()
            variant = RECIPE[name](clip, variant_seed(source.stem, name, seed))
            variant.labels["variant"]["name"] = name
            path = write_clip(variant, out_dir, targets[name].stem)
            labels = variant.labels
            log(
                f"{path}  {labels['n_frames']} frames {labels['width']}x{labels['height']} "
                f"{labels['fps']} fps, reps {labels['rep_count']}-{labels['rep_count_max']} "
                f"({time.perf_counter() - t0:.1f} s)"
            )
            del variant
        del clip
        made.extend(targets.values())
    return made


def _label_files(paths: list[str]) -> list[Path]:
    """NAME.json for each NAME.json / NAME.mp4 given, or every labelled clip in a folder."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(p for p in sorted(path.glob("*.json")) if p.with_suffix(".mp4").is_file())
        elif path.with_suffix(".json").is_file() and path.with_suffix(".mp4").is_file():
            found.append(path.with_suffix(".json"))
        else:
            raise SystemExit(f"{path}: not a labelled clip (NAME.json beside NAME.mp4) or a folder of them")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m posecheck.synth.variants",
        description="Make the robustness set: late starts, back-to-back reps, crops, mirrored and "
        "webcam-degraded versions of labelled clips, with labels and keypoints to match.",
    )
    ap.add_argument("sources", nargs="+", help="label files (NAME.json beside NAME.mp4), videos or folders")
    ap.add_argument("--out", required=True, type=Path, help="output folder")
    ap.add_argument("--seed", type=int, default=0, help="seeds the webcam noise (default 0)")
    ap.add_argument("--force", action="store_true", help="remake variants that exist")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    files = make_robustness_set(_label_files(args.sources), args.out, args.seed, force=args.force)
    print(f"{len(files)} clips in {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
