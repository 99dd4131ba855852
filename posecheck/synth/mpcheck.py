"""What MediaPipe makes of rendered clips: detection rate and 2D landmark error against the
ground truth (NAME.npz beside NAME.mp4). Runs in posecheck's own environment (it needs
mediapipe, not the synth extra).

    python -m posecheck.synth.mpcheck sample_videos/synth_*.mp4 [--model-variant lite] [--json out.json]

Per clip: the share of frames with a detected person; mean and median pixel error of the body
landmarks 11-16 and 23-32 (shoulders to wrists, hips to feet) that are inside the picture,
also only where the ground truth says the point is not hidden, and 'swap-tolerant' (the
better of the prediction and its left/right mirror per frame, as side views often swap
sides); PCK: the share of those landmarks within 0.1 torso lengths.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

BODY = list(range(11, 17)) + list(range(23, 33))
# MediaPipe index of each landmark's left/right mirror
MIRROR = [
    0,
    4,
    5,
    6,
    1,
    2,
    3,
    8,
    7,
    10,
    9,
    12,
    11,
    14,
    13,
    16,
    15,
    18,
    17,
    20,
    19,
    22,
    21,
    24,
    23,
    26,
    25,
    28,
    27,
    30,
    29,
    32,
    31,
]


def predict(video: Path, model: Path) -> np.ndarray:
    """(N, 33, 2) MediaPipe landmarks in pixels, NaN where no person was found."""
    from posecheck.pose import PoseEstimator
    from posecheck.source import VideoFileSource

    source = VideoFileSource(video)
    out = []
    with PoseEstimator(model) as estimator:
        for frame in source:
            out.append(estimator.estimate(frame.image, frame.t).xy[0])
    source.close()
    return np.array(out)


def score(pred: np.ndarray, truth_file: Path) -> dict:
    with np.load(truth_file) as z:
        kp, inside, visible = z["kp2d"].astype(float), z["in_frame"], z["visible"]
    n = min(len(kp), len(pred))
    kp, inside, visible, pred = kp[:n], inside[:n], visible[:n], pred[:n]
    found = np.isfinite(pred[:, BODY]).all(axis=(1, 2))
    err = np.linalg.norm(pred - kp, axis=2)
    err_mirror = np.linalg.norm(pred[:, MIRROR] - kp, axis=2)
    use_mirror = np.nanmean(np.where(inside, err_mirror, np.nan)[:, BODY], axis=1) < np.nanmean(
        np.where(inside, err, np.nan)[:, BODY], axis=1
    )
    err_tol = np.where(use_mirror[:, None], err_mirror, err)
    torso = np.linalg.norm(kp[:, [11, 12]].mean(1) - kp[:, [23, 24]].mean(1), axis=1)
    sel = inside[:, BODY] & found[:, None]
    e, et = err[:, BODY][sel], err_tol[:, BODY][sel]
    ev = err[:, BODY][sel & visible[:, BODY]]
    return {
        "frames": int(n),
        "detection_rate": round(float(found.mean()), 4),
        "body_err_px_mean": round(float(e.mean()), 2) if e.size else None,
        "body_err_px_median": round(float(np.median(e)), 2) if e.size else None,
        "body_err_px_mean_visible": round(float(ev.mean()), 2) if ev.size else None,
        "body_err_px_mean_swap_tolerant": round(float(et.mean()), 2) if et.size else None,
        "frames_left_right_swapped": round(float(use_mirror[found].mean()), 3) if found.any() else None,
        "pck_0.1_torso": round(float((err[:, BODY] < 0.1 * torso[:, None])[sel].mean()), 4)
        if e.size
        else None,
        "torso_px": round(float(torso.mean()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m posecheck.synth.mpcheck", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("videos", nargs="+", type=Path)
    ap.add_argument("--model-variant", default="full", choices=["lite", "full", "heavy"])
    ap.add_argument("--model", type=Path, default=None, help="a pose_landmarker .task file")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    from posecheck.model_store import resolve_model

    model = resolve_model(a.model, a.model_variant, allow_download=False).path
    rows = []
    for video in a.videos:
        row = {"clip": video.stem, **score(predict(video, model), video.with_suffix(".npz"))}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
