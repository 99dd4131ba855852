"""What the person wears: per-vertex colours of skin, hair, top, bottoms and footwear.

Each vertex is dressed by the bone that moves it most and by where it sits on the body in the
rest pose (sleeve and leg lengths are cut along the limb)."""

from __future__ import annotations

import numpy as np

from posecheck.synth.body import Body

SKIN = [
    (0.94, 0.78, 0.66),
    (0.87, 0.66, 0.52),
    (0.76, 0.55, 0.41),
    (0.60, 0.42, 0.30),
    (0.44, 0.30, 0.21),
    (0.33, 0.22, 0.16),
    (0.96, 0.84, 0.74),
]
HAIR = [
    (0.07, 0.05, 0.04),
    (0.25, 0.16, 0.10),
    (0.50, 0.35, 0.20),
    (0.72, 0.58, 0.36),
    (0.55, 0.53, 0.52),
    (0.35, 0.12, 0.06),
]
CLOTH = [
    (0.13, 0.22, 0.50),
    (0.72, 0.14, 0.16),
    (0.12, 0.12, 0.14),
    (0.90, 0.90, 0.88),
    (0.18, 0.48, 0.28),
    (0.45, 0.46, 0.50),
    (0.88, 0.56, 0.16),
    (0.48, 0.24, 0.54),
    (0.22, 0.58, 0.68),
    (0.90, 0.44, 0.55),
    (0.30, 0.30, 0.36),
    (0.62, 0.66, 0.44),
]


def _pick(rng: np.random.Generator, palette: list, avoid: np.ndarray | None = None) -> np.ndarray:
    while True:
        c = np.array(palette[rng.integers(len(palette))]) * rng.uniform(0.92, 1.06)
        if avoid is None or np.abs(c - avoid).sum() > 0.35:
            return np.clip(c, 0, 1)


def along_limb(body: Body, start: str, end: str) -> np.ndarray:
    """For every rest vertex: its position along the bone from `start` to `end` (0..1)."""
    a, b = body.rest_heads[body.index[start]], body.rest_heads[body.index[end]]
    d = b - a
    return (body.rest_vertices - a) @ d / (d @ d)


def dress(body: Body, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Per-vertex albedo (V, 3) in RGB [0, 1] and a description of the outfit."""
    names = np.array(body.bones)[body.vertex_bone]
    v = body.rest_vertices

    def on(*prefixes: str) -> np.ndarray:
        return np.char.startswith(names.astype(str)[:, None], np.array(prefixes)[None]).any(1)

    skin, hair = _pick(rng, SKIN), _pick(rng, HAIR)
    top = _pick(rng, CLOTH)
    bottom = _pick(rng, CLOTH, avoid=top)
    sleeve = rng.choice(["tank", "short", "long"], p=[0.2, 0.5, 0.3])
    legs = rng.choice(["shorts", "capri", "long"], p=[0.25, 0.2, 0.55])
    feet = rng.choice(["barefoot", "socks", "shoes"], p=[0.3, 0.3, 0.4])
    col = np.tile(skin, (len(v), 1))
    h = body.rest_heads
    waist = h[body.index["upperleg01.L"], 2] + rng.uniform(0.07, 0.12)
    trunk = on("spine", "clavicle", "shoulder", "root", "pelvis", "neck01")
    legs_on = on("upperleg", "lowerleg")
    col[trunk & (v[:, 2] < h[body.index["neck01"], 2] - 0.02)] = top
    for side in ("L", "R"):
        arm = along_limb(body, f"upperarm01.{side}", f"wrist.{side}")
        cut = {"tank": -0.02, "short": 0.3, "long": 0.97}[sleeve]
        in_arm = on(f"upperarm01.{side}", f"upperarm02.{side}", f"lowerarm01.{side}", f"lowerarm02.{side}")
        col[in_arm & (arm < cut)] = top
        leg = along_limb(body, f"upperleg01.{side}", f"foot.{side}")
        cut = {"shorts": 0.3, "capri": 0.75, "long": 0.97}[legs]
        in_leg = on(f"upperleg01.{side}", f"upperleg02.{side}", f"lowerleg01.{side}", f"lowerleg02.{side}")
        col[in_leg & (leg < cut)] = bottom
    below = (trunk | legs_on) & (v[:, 2] < waist)
    below &= ~(
        legs_on
        & (
            np.maximum(
                along_limb(body, "upperleg01.L", "foot.L") * (v[:, 0] > 0),
                along_limb(body, "upperleg01.R", "foot.R") * (v[:, 0] < 0),
            )
            >= {"shorts": 0.3, "capri": 0.75, "long": 0.97}[legs]
        )
    )
    col[below] = bottom
    col[trunk & (np.abs(v[:, 2] - waist) < 0.012)] = bottom * 0.8  # waistband
    foot = on("foot", "toe")
    if feet == "socks":
        col[foot] = _pick(rng, [(0.95, 0.95, 0.95), (0.15, 0.15, 0.15), (0.6, 0.6, 0.62)])
    elif feet == "shoes":
        shoe = _pick(rng, [(0.95, 0.95, 0.95), (0.12, 0.12, 0.13), (0.45, 0.47, 0.55), (0.75, 0.25, 0.2)])
        col[foot] = shoe
        sole = foot & (v[:, 2] < v[foot, 2].min() + 0.025)
        col[sole] = shoe * 0.5 + 0.4
    # hair: the scalp and the back of the head, not the face
    head = on("head", "neck03", "neck02")
    eye = h[body.index["eye.L"]]
    back = v[:, 1] > eye[1] + 0.07
    forehead = v[:, 1] < eye[1] + 0.06
    col[head & (((v[:, 2] > eye[2] + 0.015) & back) | ((v[:, 2] > eye[2] + 0.055) & ~forehead))] = hair
    col[head & forehead & (v[:, 2] > eye[2] + 0.08)] = hair
    col[head & (v[:, 1] > eye[1] + 0.11) & (v[:, 2] > eye[2] - 0.07)] = hair
    # eyes: white with a dark iris at the front; brows; lips
    eyes = on("eye")
    col[eyes] = (0.74, 0.70, 0.66)
    front = v[eyes, 1].min()
    iris = eyes & (v[:, 1] < front + 0.009)
    col[iris] = _pick(rng, [(0.25, 0.16, 0.08), (0.2, 0.3, 0.45), (0.3, 0.35, 0.22)]) * 0.7
    col[iris & (v[:, 1] < front + 0.003)] = (0.05, 0.05, 0.05)
    face_front = head & (v[:, 1] < eye[1] + 0.02)
    for x_eye in (h[body.index["eye.L"], 0], h[body.index["eye.R"], 0]):
        brow = (
            face_front
            & (np.abs(v[:, 0] - x_eye) < 0.024)
            & (v[:, 2] > eye[2] + 0.018)
            & (v[:, 2] < eye[2] + 0.03)
        )
        col[brow] = hair * 0.8
    nose = body.rest_coco["nose"]
    lips = face_front & (np.abs(v[:, 0]) < 0.024) & (np.abs(v[:, 2] - (nose[2] - 0.035)) < 0.008)
    col[lips] = skin * np.array([0.95, 0.62, 0.6])
    # a faint weave so large areas are not perfectly flat
    col *= 0.97 + 0.03 * np.sin(v[:, 0:1] * 90) * np.sin(v[:, 2:3] * 70)
    outfit = {
        "skin": skin.round(3).tolist(),
        "hair": hair.round(3).tolist(),
        "top": top.round(3).tolist(),
        "bottom": bottom.round(3).tolist(),
        "sleeves": str(sleeve),
        "legs": str(legs),
        "feet": str(feet),
    }
    return np.clip(col, 0, 1), outfit
