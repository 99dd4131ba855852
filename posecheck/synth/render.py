"""Camera, room and frame rendering.

The room (floor, exercise mat, walls, ceiling) is static, so it is ray-cast once per clip at
the supersampled resolution: colour, depth, and for floor pixels the world position. Each
frame copies it, darkens the floor under the body (a soft shadow cast along the key light plus
a contact shadow where the body is close to the floor, both computed on a small floor grid),
rasterizes the shaded body and props over it, downsamples, and adds a little sensor noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posecheck.synth.raster import cylinder, rasterize, vertex_normals

# --- camera --------------------------------------------------------------------------------------


@dataclass
class Camera:
    """A pinhole camera looking from `eye` at `target` (world, z up)."""

    eye: np.ndarray
    target: np.ndarray
    width: int
    height: int
    fov_deg: float

    def __post_init__(self) -> None:
        self.eye = np.asarray(self.eye, float)
        self.target = np.asarray(self.target, float)
        forward = self.target - self.eye
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        self.R = np.stack([right, down, forward])  # world -> camera (x right, y down, z ahead)
        self.focal = 0.5 * self.width / np.tan(np.radians(self.fov_deg) / 2)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, float) - self.eye) @ self.R.T

    def project(self, points: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) at `scale` times the resolution, and camera depth (N,)."""
        pc = self.to_camera(points)
        z = pc[:, 2]
        zs = np.where(np.abs(z) < 1e-6, 1e-6, z)
        f = self.focal * scale
        uv = np.stack(
            [f * pc[:, 0] / zs + scale * self.width / 2, f * pc[:, 1] / zs + scale * self.height / 2], 1
        )
        return uv, z

    def moved(self, eye: np.ndarray | None = None, target: np.ndarray | None = None) -> Camera:
        return Camera(
            self.eye if eye is None else eye,
            self.target if target is None else target,
            self.width,
            self.height,
            self.fov_deg,
        )

    def to_dict(self) -> dict:
        k = [[self.focal, 0.0, self.width / 2], [0.0, self.focal, self.height / 2], [0.0, 0.0, 1.0]]
        return {
            "eye": self.eye.round(4).tolist(),
            "target": self.target.round(4).tolist(),
            "K": k,
            "R_world_to_cam": self.R.round(6).tolist(),
            "fov_deg": round(self.fov_deg, 2),
            "width": self.width,
            "height": self.height,
        }


def frame_camera(
    cam: Camera, points: np.ndarray, margin: float = 0.07, fill: float = 0.62, iters: int = 12
) -> Camera:
    """Re-aim `cam` at the centre of `points` (all frames) and move it along its viewing
    direction until they span `fill` of the picture's width or height, keeping them at least
    `margin` (a fraction of the picture) from every edge."""
    size = np.array([cam.width, cam.height], float)
    for _ in range(iters):
        uv, _ = cam.project(points)
        lo, hi = uv.min(0), uv.max(0)
        extent = (hi - lo) / size
        offset = 0.5 * (lo + hi) - size / 2
        # turn toward the box centre (small angles: pixel offset / focal length * depth)
        depth = cam.to_camera(cam.target[None])[0, 2]
        target = cam.target + cam.R.T @ (np.array([offset[0], offset[1], 0.0]) / cam.focal * depth)
        scale = max(extent.max() / fill, (extent / (1 - 2 * margin)).max())
        cam = cam.moved(eye=target + (cam.eye - cam.target) * scale, target=target)
        if abs(scale - 1) < 0.01 and np.abs(offset).max() < 2:
            break
    return cam


# --- the room ------------------------------------------------------------------------------------

WOODS = [(0.62, 0.45, 0.30), (0.72, 0.58, 0.42), (0.52, 0.38, 0.26), (0.78, 0.70, 0.58), (0.45, 0.36, 0.30)]
FLOORS_PLAIN = [(0.55, 0.55, 0.56), (0.42, 0.40, 0.38), (0.68, 0.64, 0.58), (0.35, 0.38, 0.42)]
MATS = [
    (0.18, 0.33, 0.58),
    (0.55, 0.20, 0.42),
    (0.22, 0.48, 0.34),
    (0.14, 0.14, 0.16),
    (0.62, 0.55, 0.22),
    (0.62, 0.28, 0.24),
    (0.40, 0.30, 0.55),
    (0.30, 0.55, 0.60),
]
WALLS = [
    (0.86, 0.84, 0.79),
    (0.74, 0.79, 0.82),
    (0.83, 0.78, 0.69),
    (0.70, 0.73, 0.68),
    (0.91, 0.89, 0.87),
    (0.80, 0.70, 0.66),
]


@dataclass
class Light:
    direction: np.ndarray  # unit vector toward the key light
    key: float
    ambient: float
    tint: np.ndarray  # per-channel white balance of the whole picture


def random_light(rng: np.random.Generator) -> Light:
    az = rng.uniform(0, 2 * np.pi)
    elev = np.radians(rng.uniform(35, 70))
    d = np.array([np.cos(az) * np.cos(elev), np.sin(az) * np.cos(elev), np.sin(elev)])
    warm = rng.uniform(-0.06, 0.08)
    return Light(
        d,
        key=rng.uniform(0.45, 0.7),
        ambient=rng.uniform(0.42, 0.58),
        tint=np.array([1 + warm, 1.0, 1 - warm]),
    )


class Room:
    """Floor (wood planks or plain), an optional exercise mat, a back wall and a side wall."""

    def __init__(
        self,
        rng: np.random.Generator,
        centre: np.ndarray,
        mat: tuple[float, float] | None,
        mat_yaw_deg: float,
        view_dir: np.ndarray,
    ) -> None:
        self.wood = rng.random() < 0.7
        self.floor_color = np.array(
            WOODS[rng.integers(len(WOODS))] if self.wood else FLOORS_PLAIN[rng.integers(4)]
        )
        self.plank_w = rng.uniform(0.09, 0.2)
        self.plank_axis = int(rng.integers(2))
        self.plank_seed = rng.uniform(0, 100)
        self.mat = mat
        self.mat_color = np.array(MATS[rng.integers(len(MATS))])
        self.mat_centre = np.asarray(centre[:2], float) + rng.uniform(-0.05, 0.05, 2)
        self.mat_yaw = np.radians(mat_yaw_deg)
        self.wall_color = np.array(WALLS[rng.integers(len(WALLS))])
        self.side_wall_color = self.wall_color * rng.uniform(0.9, 1.05)
        horiz = np.array([view_dir[0], view_dir[1], 0.0])
        horiz /= np.linalg.norm(horiz)
        # back wall: behind the subject as seen from the camera; side wall: to one side
        self.walls = [(-horiz, float(np.dot(centre, horiz)) + rng.uniform(1.4, 2.4), self.wall_color)]
        side = np.array([-horiz[1], horiz[0], 0.0]) * (1 if rng.random() < 0.5 else -1)
        self.walls.append((-side, float(np.dot(centre, side)) + rng.uniform(1.8, 3.2), self.side_wall_color))
        self.baseboard = np.array([0.95, 0.95, 0.93]) if rng.random() < 0.6 else self.wall_color * 0.6
        self.frames = []  # pictures / doors on the back wall: (u0, u1, z0, z1, colour)
        for _ in range(int(rng.integers(0, 3))):
            u = rng.uniform(-2.5, 2.5)
            w, h = rng.uniform(0.3, 1.0), rng.uniform(0.3, 0.9)
            z = rng.uniform(1.0, 1.8)
            self.frames.append((u, u + w, z, z + h, rng.uniform(0.15, 0.85, 3)))
        self.ceiling = 2.6

    def floor_albedo(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        along = x if self.plank_axis == 0 else y
        across = y if self.plank_axis == 0 else x
        if self.wood:
            plank = np.floor(across / self.plank_w)
            offset = (np.sin(plank * 12.9898 + self.plank_seed) * 43758.5453) % 1.0
            board = np.floor(along / 1.2 + offset * 3)
            shade = 0.86 + 0.18 * ((np.sin(plank * 78.233 + board * 3.7 + self.plank_seed) * 12345.678) % 1.0)
            grain = 1 + 0.04 * np.sin(along * 40 + np.sin(across * 30) * 2)
            seam = np.minimum((across / self.plank_w) % 1.0, 1 - (across / self.plank_w) % 1.0) * self.plank_w
            shade = shade * grain * np.where(seam < 0.002, 0.7, 1.0)
        else:
            shade = 0.95 + 0.05 * np.sin(x * 31.0) * np.sin(y * 27.0)
        col = self.floor_color[None] * shade[:, None]
        if self.mat is not None:
            c, s = np.cos(self.mat_yaw), np.sin(self.mat_yaw)
            dx, dy = x - self.mat_centre[0], y - self.mat_centre[1]
            mu, mv = c * dx + s * dy, -s * dx + c * dy
            half_w, half_l = self.mat[0] / 2, self.mat[1] / 2
            r = 0.03  # rounded corners
            qx, qy = np.maximum(np.abs(mu) - (half_w - r), 0), np.maximum(np.abs(mv) - (half_l - r), 0)
            inside = np.hypot(qx, qy) < r
            texture = 0.97 + 0.03 * np.sin(mv * 220.0)
            col[inside] = self.mat_color[None] * texture[inside, None]
        return col

    def wall_albedo(self, k: int, points: np.ndarray) -> np.ndarray:
        normal, _, color = self.walls[k]
        z = points[:, 2]
        col = np.tile(color, (len(points), 1)) * (0.96 + 0.04 * (z / 2.6))[:, None]
        col[z < 0.1] = self.baseboard
        if k == 0:
            tangent = np.array([-normal[1], normal[0], 0.0])
            u = points @ tangent
            for u0, u1, z0, z1, fc in self.frames:
                inside = (u > u0) & (u < u1) & (z > z0) & (z < z1)
                rim = inside & ((u < u0 + 0.03) | (u > u1 - 0.03) | (z < z0 + 0.03) | (z > z1 - 0.03))
                col[inside] = fc
                col[rim] = 0.25
        return col


# --- frame rendering -----------------------------------------------------------------------------


class Renderer:
    """Renders frames of one clip: a fixed camera, room and light, a moving body."""

    def __init__(
        self,
        cam: Camera,
        room: Room,
        light: Light,
        rng: np.random.Generator,
        supersample: int = 2,
        shadow_region: tuple[float, float, float, float] | None = None,
        noise: float = 1.6,
    ) -> None:
        self.cam, self.room, self.light, self.ss = cam, room, light, supersample
        self.W, self.H = cam.width * supersample, cam.height * supersample
        self._background()
        self._shadow_grid(shadow_region)
        n_bank = 6
        self.noise = [
            rng.normal(0, noise, (cam.height, cam.width, 3)).astype(np.float32) for _ in range(n_bank)
        ]
        yy, xx = np.mgrid[0 : cam.height, 0 : cam.width]
        r2 = ((xx - cam.width / 2) ** 2 + (yy - cam.height / 2) ** 2) / (
            0.25 * (cam.width**2 + cam.height**2)
        )
        self.vignette = (1 - rng.uniform(0.08, 0.2) * r2).astype(np.float32)[..., None]
        self.exposure = rng.uniform(0.92, 1.08)
        self._frame_no = 0

    def _background(self) -> None:
        cam, room, light = self.cam, self.room, self.light
        ys, xs = np.mgrid[0 : self.H, 0 : self.W]
        f = cam.focal * self.ss
        dirs_cam = np.stack(
            [(xs + 0.5 - self.W / 2) / f, (ys + 0.5 - self.H / 2) / f, np.ones_like(xs, float)], -1
        )
        dirs = dirs_cam.reshape(-1, 3) @ cam.R  # camera -> world (R is orthonormal)
        n = len(dirs)
        t_best = np.full(n, np.inf)
        kind = np.full(n, -1)  # -1 ceiling/none, 0 floor, 1.. walls
        with np.errstate(divide="ignore", invalid="ignore"):
            t = -cam.eye[2] / dirs[:, 2]
            ok = (dirs[:, 2] < -1e-6) & (t > 0)
            t_best[ok], kind[ok] = t[ok], 0
            for k, (normal, offset, _) in enumerate(room.walls):
                denom = dirs @ normal
                t = (offset - cam.eye @ (-normal)) / (-denom)
                # plane: p . (-normal) = offset  <=>  the wall faces the room along `normal`
                ok = (denom < -1e-6) & (t > 0) & (t < t_best)
                t_best[ok], kind[ok] = t[ok], k + 1
            t = (room.ceiling - cam.eye[2]) / dirs[:, 2]
            ok = (dirs[:, 2] > 1e-6) & (t > 0) & (t < t_best)
            t_best[ok], kind[ok] = t[ok], -2
        t_best[~np.isfinite(t_best)] = 50.0
        pts = cam.eye + dirs * t_best[:, None]
        color = np.zeros((n, 3))
        floor = kind == 0
        fall = np.exp(-np.linalg.norm(pts[:, :2] - room.mat_centre, axis=1) / 6.0)  # light falls off
        color[floor] = room.floor_albedo(pts[floor, 0], pts[floor, 1]) * (
            light.ambient + light.key * max(light.direction[2], 0.0)
        )
        for k in range(len(room.walls)):
            sel = kind == k + 1
            lam = max(float(np.dot(room.walls[k][0], light.direction)), 0.0)
            color[sel] = room.wall_albedo(k, pts[sel]) * (light.ambient + 0.6 * light.key * lam + 0.1)
        color[kind == -2] = room.wall_color * 0.9
        color[kind == -1] = room.wall_color * 0.8
        color *= (0.75 + 0.25 * fall)[:, None]
        depth = (pts - cam.eye) @ cam.R[2]
        self.bg = color[:, ::-1].reshape(self.H, self.W, 3).astype(np.float32)  # RGB -> BGR
        self.bg_depth = depth.reshape(self.H, self.W).astype(np.float32)
        self.floor_px = np.flatnonzero(floor)
        self.floor_xy = pts[floor, :2]

    def _shadow_grid(self, region) -> None:
        cell = 0.02
        if region is None:
            region = (-2.0, 2.0, -2.0, 2.0)
        x0, x1, y0, y1 = region
        self.grid = (x0, y0, cell, int(np.ceil((x1 - x0) / cell)) + 1, int(np.ceil((y1 - y0) / cell)) + 1)
        gx = np.floor((self.floor_xy[:, 0] - x0) / cell).astype(int)
        gy = np.floor((self.floor_xy[:, 1] - y0) / cell).astype(int)
        nx, ny = self.grid[3], self.grid[4]
        ok = (gx >= 0) & (gx < nx) & (gy >= 0) & (gy < ny)
        self.shadow_px = self.floor_px[ok]
        self.shadow_cells = gy[ok] * nx + gx[ok]

    def _shadow(self, vertices: np.ndarray) -> np.ndarray:
        """Floor light factor (per shadowed floor pixel) for the body's vertices."""
        x0, y0, cell, nx, ny = self.grid
        # contact shadow: the lowest body point above each cell
        ix = np.clip(((vertices[:, 0] - x0) / cell).astype(int), 0, nx - 1)
        iy = np.clip(((vertices[:, 1] - y0) / cell).astype(int), 0, ny - 1)
        low = np.full(nx * ny, 5.0, np.float32)
        np.minimum.at(low, iy * nx + ix, vertices[:, 2].astype(np.float32))
        low = cv2.erode(low.reshape(ny, nx), np.ones((5, 5), np.uint8))  # spread to neighbours
        low = cv2.GaussianBlur(low, (0, 0), 2.5)
        contact = np.exp(-np.clip(low, 0, None) / 0.12)
        # cast shadow: vertices projected to the floor along the light
        d = self.light.direction
        fx = vertices[:, 0] - vertices[:, 2] * d[0] / d[2]
        fy = vertices[:, 1] - vertices[:, 2] * d[1] / d[2]
        jx, jy = ((fx - x0) / cell).astype(int), ((fy - y0) / cell).astype(int)
        ok = (jx >= 0) & (jx < nx) & (jy >= 0) & (jy < ny)
        hits = np.zeros(nx * ny, np.float32)
        np.add.at(hits, jy[ok] * nx + jx[ok], 1.0)
        cast = (hits.reshape(ny, nx) > 0).astype(np.float32)
        cast = cv2.dilate(cast, np.ones((3, 3), np.uint8))
        cast = cv2.GaussianBlur(cast, (0, 0), 3.0)
        strength = 0.35 * self.light.key / 0.6
        factor = 1.0 - np.clip(0.5 * contact + strength * cast, 0, 0.75)
        return factor.ravel()[self.shadow_cells]

    def render(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        albedo: np.ndarray,
        props: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """One frame: BGR uint8 image (H, W, 3) and depth (H, W) at the output resolution.

        props: (vertices, faces, albedo) meshes drawn without back-face culling."""
        img = self.bg.copy()
        flat = img.reshape(-1, 3)
        flat[self.shadow_px] *= self._shadow(vertices)[:, None]
        zbuf = self.bg_depth.copy()
        self._draw(vertices, faces, albedo, img, zbuf, cull=True)
        for pv, pf, pa in props:
            self._draw(pv, pf, pa, img, zbuf, cull=False)
        out = cv2.resize(img, (self.cam.width, self.cam.height), interpolation=cv2.INTER_AREA)
        out = (
            out
            * self.vignette
            * (self.exposure * 255.0)
            * self.light.tint[None, None, ::-1].astype(np.float32)
        )
        out += self.noise[self._frame_no % len(self.noise)]
        self._frame_no += 1
        depth = cv2.resize(zbuf, (self.cam.width, self.cam.height), interpolation=cv2.INTER_NEAREST)
        return np.clip(out, 0, 255).astype(np.uint8), depth

    def _draw(self, vertices, faces, albedo, img, zbuf, cull: bool) -> None:
        normals = vertex_normals(vertices.astype(np.float64), faces)
        color = shade(vertices, normals, albedo, self.cam.eye, self.light)[:, ::-1]  # RGB -> BGR
        uv, z = self.cam.project(vertices, self.ss)
        rasterize(
            uv[:, 0].copy(),
            uv[:, 1].copy(),
            z.astype(np.float64),
            np.ascontiguousarray(color, np.float64),
            faces,
            cull,
            img,
            zbuf,
        )


def shade(
    vertices: np.ndarray, normals: np.ndarray, albedo: np.ndarray, eye: np.ndarray, light: Light
) -> np.ndarray:
    """Per-vertex colour: hemisphere ambient, a Lambert key light, a little sheen and rim."""
    view = eye[None] - vertices
    view /= np.linalg.norm(view, axis=1, keepdims=True)
    ndl = np.clip(normals @ light.direction, 0.0, 1.0)[:, None]
    sky = 0.55 + 0.45 * normals[:, 2:3]
    half = light.direction[None] + view
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    spec = np.clip((normals * half).sum(1, keepdims=True), 0, 1) ** 24
    rim = (1 - np.clip((normals * view).sum(1, keepdims=True), 0, 1)) ** 3
    col = albedo * (light.ambient * sky + light.key * ndl) + 0.06 * spec + 0.05 * rim
    return np.clip(col, 0, 1)


def prop_mesh(
    a: np.ndarray, b: np.ndarray, radius: float, color
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v, f = cylinder(a, b, radius)
    along = np.linspace(0, 1, len(v))
    albedo = np.asarray(color)[None] * (0.93 + 0.07 * np.sin(along * 40))[:, None]
    return v, f, albedo
