"""Make one labelled clip: NAME.mp4 (OpenCV mp4v), NAME.json (labels) and NAME.npz (keypoints).

Steps: draw a body, an outfit, a tempo and the reps' timing from the seed; the exercise
script writes the timeline; every frame is solved into a pose and the poses are run through
anny in batches; the body is kept on the floor and its anchor (shoulders, support knee or
ankles) in place; a camera is placed for the requested view and fitted to the whole motion; the
room is ray-cast once and every frame is rasterized and written; then the labels.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import cv2
import numpy as np

from posecheck.synth import GENERATOR_VERSION
from posecheck.synth.appearance import dress
from posecheck.synth.body import APPROXIMATE_LANDMARKS, MP33_NAMES, Body
from posecheck.synth.exercises import EXERCISES, Exercise, RepPlan
from posecheck.synth.labels import frame_times, n_frames_for, rep_labels, setup_end_frame
from posecheck.synth.render import Camera, Renderer, Room, frame_camera, prop_mesh, random_light
from posecheck.synth.timeline import FAULT_PREFIX, wobble

VIEWS = ("side", "three_quarter")
CHUNK = 48  # poses run through anny at once


@dataclass
class ClipSpec:
    """What to make. `reps`: one entry per rep, a fault id or None for a clean rep."""

    exercise: str
    reps: list[str | None]
    out: Path
    name: str
    view: str = "side"
    seed: int = 0
    fps: int = 30
    width: int = 640
    height: int = 480
    hold_s: float | None = None
    camera_side: str | None = None  # "left"/"right" (the subject's side facing the camera) or random
    supersample: int = 2
    first_side: str | None = None  # alternating exercises: the working leg of the first rep
    phenotype: dict[str, float] = field(default_factory=dict)
    preview_dir: Path | None = None  # if set, a few PNG frames with the ground truth drawn


def parse_reps(text: str, exercise: str) -> list[str | None]:
    """'none,hips_sag,none' -> [None, 'hips_sag', None], checking the fault ids."""
    cls = EXERCISES.get(exercise)
    if cls is None:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(sorted(EXERCISES))}")
    reps: list[str | None] = []
    for item in text.split(","):
        item = item.strip()
        if item in ("", "none", "clean"):
            reps.append(None)
        elif item in cls.faults:
            reps.append(item)
        else:
            raise ValueError(f"{exercise} has no fault {item!r}; its faults: {', '.join(cls.faults)}")
    if not reps:
        raise ValueError("--reps needs at least one rep")
    return reps


def plan_reps(
    exercise: Exercise,
    reps: list[str | None],
    rng: np.random.Generator,
    hold_s: float | None,
    first_side: str | None = None,
) -> list[RepPlan]:
    """Timing for every rep (a clip-wide tempo, small per-rep variation) and, for alternating
    exercises, the working side (the first one random unless given, then alternating)."""
    tempo = rng.uniform(0.85, 1.15)
    side = first_side or ("l" if rng.random() < 0.5 else "r")
    plans = []
    for fault in reps:
        t = exercise.timing(rng, tempo, fault, hold_s)
        plans.append(RepPlan(fault=fault, side=side if exercise.alternating else None, **t))
        side = "r" if side == "l" else "l"
    return plans


def random_phenotype(rng: np.random.Generator) -> dict[str, float]:
    """An adult: anny's age slider runs 0 baby .. 1/3 child .. 2/3 young adult .. 1 old;
    gender 0 is male, 1 female; height 0.25-0.6 gives roughly 1.5-1.9 m."""
    return {
        "gender": rng.uniform(0, 1),
        "age": rng.uniform(0.64, 0.92),
        "muscle": rng.uniform(0.25, 0.75),
        "weight": rng.uniform(0.2, 0.85),
        "height": rng.uniform(0.25, 0.6),
        "proportions": rng.uniform(0.35, 0.65),
    }


def place_camera(
    exercise: Exercise,
    view: str,
    sign: float,
    centre: np.ndarray,
    rng: np.random.Generator,
    width: int,
    height: int,
    standing: bool,
) -> Camera:
    """A camera on the subject's left (sign +1, world +x) or right side; three-quarter views turn
    30-45 deg from there toward the head (floor exercises) or the front (standing ones)."""
    if exercise.three_quarter_toward == "front":
        toward = np.array([0.0, -1.0, 0.0])  # standing subjects face -y
    elif exercise.id in ("segmental_bridge", "dead_bug"):
        toward = np.array([0.0, 1.0, 0.0])  # supine: head toward +y
    else:
        toward = np.array([0.0, -1.0, 0.0])  # prone / quadruped: head toward -y
    az = np.radians(rng.uniform(-6, 6) if view == "side" else rng.uniform(30, 45))
    d = np.cos(az) * np.array([sign, 0.0, 0.0]) + np.sin(az) * toward
    dist = rng.uniform(2.6, 3.4)
    eye_z = rng.uniform(0.9, 1.4) if standing else rng.uniform(0.65, 1.25)
    eye = centre + dist * d
    eye[2] = eye_z
    return Camera(eye, centre, width, height, fov_deg=rng.uniform(50, 62))


def _anchor_points(body: Body, anchor: str, heads: np.ndarray) -> np.ndarray:
    """(B, 3) the point of each posed frame that stays in place."""
    ix = body.index
    if anchor == "shoulders":
        return 0.5 * (heads[:, ix["upperarm01.L"]] + heads[:, ix["upperarm01.R"]])
    if anchor == "hips":
        return 0.5 * (heads[:, ix["upperleg01.L"]] + heads[:, ix["upperleg01.R"]])
    if anchor == "ankles":
        return 0.5 * (heads[:, ix["foot.L"]] + heads[:, ix["foot.R"]])
    if anchor == "support_knee":
        kl, kr = heads[:, ix["lowerleg01.L"]], heads[:, ix["lowerleg01.R"]]
        half = 0.5 * (kl[0, 0] - kr[0, 0])
        left_lower = kl[:, 2] <= kr[:, 2] + 0.01
        right_lower = kr[:, 2] <= kl[:, 2] + 0.01
        both = left_lower & right_lower
        out = np.where(left_lower[:, None], kl - [half, 0, 0], kr + [half, 0, 0])
        out[both] = 0.5 * (kl[both] + kr[both])
        return out
    raise ValueError(f"unknown anchor {anchor!r}")


def make_clip(spec: ClipSpec, log=print) -> dict:
    """Render one clip and write its three files; returns the label dict."""
    import torch

    torch.set_num_threads(int(os.environ.get("POSECHECK_SYNTH_THREADS", "1")))
    if spec.view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {spec.view!r}")
    t_start = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    exercise = EXERCISES[spec.exercise]()
    phen = {**random_phenotype(rng), **spec.phenotype}
    body = Body(phen)
    albedo, outfit = dress(body, rng)
    plans = plan_reps(exercise, list(spec.reps), rng, spec.hold_s, spec.first_side)
    motion = exercise.script(body, plans, rng)
    tl = motion.timeline
    n = n_frames_for(tl, spec.fps)
    times = frame_times(n, spec.fps)
    params = tl.sample(times)
    for name, amp in motion.wobble.items():
        params[name] = params.get(name, np.zeros(n)) + wobble(times, rng, amp)
    params["spine"] = params.get("spine", np.zeros(n)) + 0.4 * np.sin(
        2 * np.pi * rng.uniform(0.2, 0.3) * times
    )

    # --- poses
    t0 = time.perf_counter()
    names = list(params)
    locals_, props = [], []
    for i in range(n):
        pose, aims, frame_props = exercise.solve(body, {k: float(params[k][i]) for k in names})
        locals_.append(body.local_rotations(pose, aims))
        props.append(frame_props)
    t_solve = time.perf_counter() - t0
    verts = np.zeros((n, len(body.rest_vertices), 3), np.float32)
    heads = np.zeros((n, len(body.bones), 3))
    marks = np.zeros((n, 33, 3))
    for a in range(0, n, CHUNK):
        out = body.mesh(np.stack(locals_[a : a + CHUNK]))
        verts[a : a + CHUNK], heads[a : a + CHUNK], marks[a : a + CHUNK] = (
            out["vertices"],
            out["heads"],
            out["landmarks"],
        )
    shift = -_anchor_points(body, motion.anchor, heads)
    shift[:, 2] = -verts[:, :, 2].min(axis=1)
    masks: dict[tuple[str, ...], np.ndarray] = {}
    for i in range(n):
        bones = exercise.floor_bones({k: float(params[k][i]) for k in names})
        if bones:
            if bones not in masks:
                on_floor = np.array([any(fnmatch(b, pat) for pat in bones) for b in body.bones])
                masks[bones] = on_floor[body.vertex_bone]
            shift[i, 2] = -verts[i, masks[bones], 2].min()
    sink = float(-(verts[:, :, 2].min(axis=1) + shift[:, 2]).max())  # deepest point below the floor
    verts += shift[:, None].astype(np.float32)
    heads += shift[:, None]
    marks += shift[:, None]
    prop_meshes = [
        [prop_mesh(p.a + shift[i], p.b + shift[i], p.radius, p.color) for p in props[i]] for i in range(n)
    ]
    t_pose = time.perf_counter() - t0

    # --- camera, room, light
    standing = exercise.three_quarter_toward == "front"
    sign = {"left": 1.0, "right": -1.0}.get(spec.camera_side or "", 1.0 if rng.random() < 0.5 else -1.0)
    sample = verts[:: max(1, n // 40), ::5].reshape(-1, 3)
    lo, hi = sample.min(0), sample.max(0)
    centre = 0.5 * (lo + hi)
    cam = place_camera(exercise, spec.view, sign, centre, rng, spec.width, spec.height, standing)
    cam = frame_camera(cam, sample, margin=0.06, fill=rng.uniform(0.58, 0.72))
    mat = None if standing and rng.random() < 0.5 else (rng.uniform(0.6, 0.7), rng.uniform(1.75, 1.9))
    if standing and mat is not None:
        mat = (rng.uniform(0.6, 0.7), rng.uniform(0.9, 1.2))
    room = Room(rng, centre, mat, rng.uniform(-4, 4), cam.target - cam.eye)
    light = random_light(rng)
    region = (lo[0] - 1.2, hi[0] + 1.2, lo[1] - 1.2, hi[1] + 1.2)
    renderer = Renderer(cam, room, light, rng, spec.supersample, region)
    body_albedo = albedo

    # --- render
    spec.out.mkdir(parents=True, exist_ok=True)
    video = spec.out / f"{spec.name}.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), spec.fps, (spec.width, spec.height))
    if not writer.isOpened():
        raise OSError(f"cannot write {video}")
    kp2d = np.zeros((n, 33, 2), np.float32)
    visible = np.zeros((n, 33), bool)
    in_frame = np.zeros((n, 33), bool)
    preview = set(np.linspace(0, n - 1, 8).astype(int).tolist())
    t1 = time.perf_counter()
    for i in range(n):
        image, depth = renderer.render(verts[i], body.faces, body_albedo, prop_meshes[i])
        uv, z = cam.project(marks[i])
        kp2d[i] = uv
        px = np.floor(uv).astype(int)
        inside = (px[:, 0] >= 0) & (px[:, 0] < spec.width) & (px[:, 1] >= 0) & (px[:, 1] < spec.height)
        in_frame[i] = inside
        near = np.full(33, -np.inf)
        for j in np.flatnonzero(inside):
            x, y = px[j]
            near[j] = depth[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].min()
        visible[i] = inside & (z <= near + 0.10)
        writer.write(image)
        if spec.preview_dir is not None and i in preview:
            _write_preview(spec.preview_dir / f"{spec.name}_f{i:04d}.png", image, uv, visible[i])
    writer.release()
    t_render = time.perf_counter() - t1

    # --- labels
    tracks = {k: v for k, v in params.items() if k.startswith(FAULT_PREFIX)}
    reps, phase, rep_index = rep_labels(
        tl,
        spec.fps,
        [[p.fault] if p.fault else [] for p in plans],
        exercise.fault_scope,
        tracks,
        sides=[p.side for p in plans],
        notes=motion.rep_notes,
    )
    labels = {
        "clip": spec.name,
        "exercise_id": exercise.id,
        "exercise": exercise.id,
        "fps": spec.fps,
        "n_frames": n,
        "duration_s": round(n / spec.fps, 3),
        "width": spec.width,
        "height": spec.height,
        "view": spec.view,
        "camera_side": "subject_left" if sign > 0 else "subject_right",
        "rep_count": len(reps),
        "clean_rep_count": sum(r["clean"] for r in reps),
        "setup_end_frame": setup_end_frame(phase),
        "reps": reps,
        "faults_available": list(exercise.faults),
        "subject": {
            "phenotype": {k: round(float(v), 4) for k, v in phen.items()},
            "stature_m": round(body.stature, 3),
            "outfit": outfit,
        },
        "camera": cam.to_dict(),
        "scene": {
            "floor": "wood" if room.wood else "plain",
            "mat": mat is not None,
            "light_dir": light.direction.round(3).tolist(),
        },
        "landmarks": {
            "file": f"{spec.name}.npz",
            "order": list(MP33_NAMES),
            "approximate": list(APPROXIMATE_LANDMARKS),
            "note": "kp2d: pixels (x right, y down) of the projected 3D landmarks; visible: not hidden "
            "behind the body (z-buffer test, 10 cm tolerance); in_frame: inside the picture",
        },
        "generator": {
            "tool": "posecheck.synth",
            "version": GENERATOR_VERSION,
            "seed": spec.seed,
            "reps_arg": ",".join(r or "none" for r in spec.reps),
            "hold_s_arg": spec.hold_s,
            "supersample": spec.supersample,
            "pose_s": round(t_pose, 1),
            "render_s": round(t_render, 1),
            "solve_s": round(t_solve, 1),
            "total_s": round(time.perf_counter() - t_start, 1),
            "render_fps": round(n / max(t_render, 1e-9), 1),
            "deepest_below_floor_m": round(max(sink, 0.0), 3) + 0.0,
        },
    }
    (spec.out / f"{spec.name}.json").write_text(json.dumps(labels, indent=1))
    np.savez_compressed(
        spec.out / f"{spec.name}.npz",
        kp2d=kp2d,
        visible=visible,
        in_frame=in_frame,
        kp3d_world=marks.astype(np.float32),
        rep_index=rep_index,
        phase=phase.astype(str),
        landmark_names=np.array(MP33_NAMES),
    )
    log(
        f"{spec.name}: {n} frames, {len(reps)} reps {[r['faults'] or 'clean' for r in reps]}, "
        f"poses {t_pose:.1f} s, render {t_render:.1f} s ({n / max(t_render, 1e-9):.1f} fps)"
    )
    return labels


def _write_preview(path: Path, image: np.ndarray, uv: np.ndarray, visible: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = image.copy()
    for j, (x, y) in enumerate(uv):
        cv2.circle(img, (int(round(x)), int(round(y))), 3, (0, 220, 0) if visible[j] else (0, 0, 230), -1)
    cv2.imwrite(str(path), img)
