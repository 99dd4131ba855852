"""The model store: finding, checking and downloading MediaPipe PoseLandmarker `.task` files.

Where a model comes from, in order (`resolve_model`):

1. an explicit path (the `--model` option), then the `POSECHECK_MODEL` environment variable:
   any valid bundle is accepted, known hash or not;
2. for the full variant, the bundle shipped inside the package;
3. the folders in `POSECHECK_MODEL_DIRS`, then the user cache (`cache_dir()`): a file found
   there must have a known sha256 (Google's official bundle or posecheck's rebuilt one);
4. a download from Google's official URL into the cache, checked against Google's pinned
   sha256 and moved into place atomically.

This module does not import mediapipe: it only deals with files, hashes and downloads.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from posecheck.errors import UserError

VARIANTS = ("lite", "full", "heavy")
SHIPPED_VARIANT = "full"

MODEL_ENV = "POSECHECK_MODEL"  # path of a .task file to use instead of the default
MODEL_DIRS_ENV = "POSECHECK_MODEL_DIRS"  # os.pathsep-separated folders searched before the cache
CACHE_ENV = "POSECHECK_CACHE_DIR"  # overrides the user cache folder
BASE_URL_ENV = "POSECHECK_MODEL_BASE_URL"  # overrides the download base (tests use loopback)

OFFICIAL_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_{variant}/float16/latest/pose_landmarker_{variant}.task"
)

# Google's official float16/latest bundles (shared/models/GOOGLE-OFFICIAL-SHA256SUMS).
GOOGLE_SHA256: dict[str, str] = {
    "lite": "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a",
    "full": "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad",
    "heavy": "64437af838a65d18e5ba7a0d39b465540069bc8aae8308de3e318aad31fcbc7b",
}
# Other files Google has served for a variant: a second full bundle (same size) reported for the
# float16/1 URL. Accepted like the values above.
GOOGLE_SHA256_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "full": ("5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",),
}
# posecheck's rebuilt bundles (shared/models/SHA256SUMS); the shipped full bundle is one of them.
REBUILT_SHA256: dict[str, str] = {
    "lite": "edf0d900230a1a3ca016af9802b3463b1d68a0d33686449f2c433b8423e190ca",
    "full": "40b5444b5762fd17e876ebc80596a5d019b9f690d998ac28c624244de4167e6c",
    "heavy": "245290f4943f410a98fc683eb48116864aefbfa03a7faf1dcb12f344df679b55",
}

BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
SHIPPED_DIR = Path(__file__).resolve().parent / "models"
DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK_BYTES = 1 << 16
_PASS_MODEL = "pass a pose_landmarker_*.task file with --model"


@dataclass(frozen=True)
class ModelInfo:
    """A model file that was found and checked, and what is known about it."""

    path: Path
    variant: str | None  # lite/full/heavy when known (from the hash or the file name), else None
    sha256: str
    origin: str  # where it came from, in words: "shipped with posecheck", "user cache", ...
    known_as: str | None  # e.g. "Google's official full bundle"; None if the hash is unknown


def model_filename(variant: str) -> str:
    """The file name of a variant's bundle, e.g. `pose_landmarker_full.task`."""
    return f"pose_landmarker_{variant}.task"


def model_url(variant: str) -> str:
    """Where `variant` is downloaded from: $POSECHECK_MODEL_BASE_URL if set, else Google."""
    base = os.environ.get(BASE_URL_ENV)
    if base:
        return f"{base.rstrip('/')}/{model_filename(variant)}"
    return OFFICIAL_URL.format(variant=variant)


def google_hashes(variant: str) -> tuple[str, ...]:
    """Every sha256 known for Google's official bundle of `variant`."""
    return (GOOGLE_SHA256[variant], *GOOGLE_SHA256_ALTERNATIVES.get(variant, ()))


def trusted_hashes(variant: str) -> tuple[str, ...]:
    """The sha256 values accepted for a file found in a model folder or the cache."""
    return (*google_hashes(variant), REBUILT_SHA256[variant])


def cache_dir() -> Path:
    """$POSECHECK_CACHE_DIR, else $XDG_CACHE_HOME/posecheck/models, else ~/.cache/posecheck/models."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "posecheck" / "models"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_task_file(path: Path) -> None:
    """Raise UserError unless `path` is a zip holding the two PoseLandmarker members."""
    _check_task_file(Path(path), _PASS_MODEL)


def _check_task_file(path: Path, fix: str) -> None:
    if not path.exists():
        raise UserError(f"Model file {path} does not exist: {fix}.")
    if not path.is_file():
        raise UserError(f"Model path {path} is not a file: {fix}.")
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
    except zipfile.BadZipFile:
        raise UserError(
            f"{path} is not a PoseLandmarker model bundle (.task) (not a zip archive): {fix}."
        ) from None
    except OSError as err:
        raise UserError(f"Cannot read model file {path} ({err.strerror or err}): {fix}.") from None
    missing = [name for name in BUNDLE_MEMBERS if name not in names]
    if missing:
        raise UserError(
            f"{path} is not a PoseLandmarker model bundle (.task) (no {' or '.join(missing)} inside): {fix}."
        )


def _known_as(sha256: str) -> tuple[str | None, str | None]:
    """(variant, description) for a known hash, else (None, None)."""
    for variant in VARIANTS:
        if sha256 == GOOGLE_SHA256[variant]:
            return variant, f"Google's official {variant} bundle"
        if sha256 in GOOGLE_SHA256_ALTERNATIVES.get(variant, ()):
            return variant, f"Google's official {variant} bundle (float16/1 file)"
        if sha256 == REBUILT_SHA256[variant]:
            return variant, f"posecheck's rebuilt {variant} bundle"
    return None, None


def describe_model(path: Path, origin: str) -> ModelInfo:
    """Check the bundle at `path` and say what it is: its hash, variant and whether it is known."""
    path = Path(path)
    check_task_file(path)
    digest = sha256_of(path)
    variant, known_as = _known_as(digest)
    if variant is None:
        match = re.search(r"pose_landmarker_(lite|full|heavy)\b", path.name)
        variant = match.group(1) if match else None
    return ModelInfo(path=path, variant=variant, sha256=digest, origin=origin, known_as=known_as)


def _require_trusted(info: ModelInfo, variant: str, fix: str) -> ModelInfo:
    """Raise UserError unless `info` has a known hash for `variant`."""
    expected = trusted_hashes(variant)
    if info.sha256 not in expected:
        raise UserError(
            f"{info.path} ({info.origin}) has sha256 {info.sha256}, which is not a known "
            f"{variant} pose model (expected {' or '.join(expected)}): {fix}."
        )
    return info


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise UserError(f"Unknown model variant {variant!r}: choose one of {', '.join(VARIANTS)}.")


def _model_dirs() -> list[Path]:
    value = os.environ.get(MODEL_DIRS_ENV, "")
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part]


def resolve_model(
    model_path: Path | None = None,
    variant: str = "full",
    *,
    allow_download: bool = True,
    progress: bool = True,
) -> ModelInfo:
    """Find the model to use (see the module docstring for the order) and check it."""
    _check_variant(variant)
    if model_path is not None:
        return describe_model(Path(model_path).expanduser(), "--model option")

    env_path = os.environ.get(MODEL_ENV)
    if env_path:
        path = Path(env_path).expanduser()
        _check_task_file(path, f"set {MODEL_ENV} to a pose_landmarker_*.task file or unset it")
        return describe_model(path, f"{MODEL_ENV} environment variable")

    name = model_filename(variant)
    delete_or_pass = "delete it or pass a trusted file with --model"
    shipped = SHIPPED_DIR / name
    if variant == SHIPPED_VARIANT and shipped.is_file():
        info = describe_model(shipped, "shipped with posecheck")
        return _require_trusted(info, variant, "reinstall posecheck or pass a file with --model")

    for folder in _model_dirs():
        if (folder / name).is_file():
            info = describe_model(folder / name, f"model folder {folder}")
            return _require_trusted(info, variant, delete_or_pass)

    cached = cache_dir() / name
    if cached.is_file():
        return _require_trusted(describe_model(cached, "user cache"), variant, delete_or_pass)

    url = model_url(variant)
    if not allow_download:
        raise UserError(
            f"The {variant} pose model is not in the cache ({cached}) and downloading is off: "
            f"download {url} to {cached}, or pass a .task file with --model."
        )
    path = download_model(variant, cache_dir(), progress=progress)
    return describe_model(path, f"downloaded from {url}")


def download_model(variant: str, dest_dir: Path, *, progress: bool = True) -> Path:
    """Download `variant` into `dest_dir`, check it against Google's sha256, move it into place.

    The file is streamed to a temporary `.part` file in `dest_dir` and renamed atomically only
    after its hash matched; on any failure (or Ctrl-C) the temporary file is removed.
    """
    _check_variant(variant)
    dest_dir = Path(dest_dir)
    url = model_url(variant)
    unwritable = f"set {CACHE_ENV} to a writable folder, or download {url} and pass it with --model PATH"
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by `with tmp` below)
            dir=dest_dir, delete=False, prefix=f"pose_landmarker_{variant}.", suffix=".part"
        )
    except OSError as err:
        raise UserError(
            f"Cannot write to the model cache {dest_dir} ({err.strerror or err}): {unwritable}."
        ) from None

    tmp_path = Path(tmp.name)
    try:
        with tmp:
            digest = _fetch(url, tmp, f"Downloading {model_filename(variant)}", progress)
            tmp.flush()
            os.fsync(tmp.fileno())
        expected = google_hashes(variant)
        if digest not in expected:
            raise UserError(
                f"The {variant} pose model downloaded from {url} has sha256 {digest}, but Google's "
                f"file has {' or '.join(expected)}; it was not saved. Get the file from a source "
                f"you trust and pass it with --model PATH."
            )
        final = dest_dir / model_filename(variant)
        os.replace(tmp_path, final)
        return final
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as err:
        if isinstance(err, urllib.error.HTTPError):
            err.close()  # it holds the response and its socket
        raise UserError(
            f"Could not download the {variant} pose model from {url} ({_reason(err)}). "
            "Check your internet connection, or download it elsewhere and pass it with "
            "--model PATH."
        ) from None
    except OSError as err:
        raise UserError(
            f"Cannot write the {variant} pose model to {dest_dir} ({err.strerror or err}): {unwritable}."
        ) from None
    finally:
        tmp_path.unlink(missing_ok=True)  # no-op after a successful os.replace


def _reason(err: BaseException) -> str:
    """A short reason for a network error, e.g. 'HTTP 404 Not Found' or 'timed out'."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err) or type(err).__name__


def _fetch(url: str, out: BinaryIO, label: str, progress: bool) -> str:
    """Stream `url` into the open binary file `out`; return the sha256 of what was written."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "posecheck"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with _progress_bar(label, total, progress) as advance:
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                advance(len(chunk))
    if total is not None and received != total:
        raise ConnectionError(f"the download stopped after {received} of {total} bytes")
    return digest.hexdigest()


@contextlib.contextmanager
def _progress_bar(label: str, total: int | None, enabled: bool) -> Iterator[Callable[[int], object]]:
    """Yield a function `advance(n_bytes)`; shows a rich bar (bytes, speed, ETA) if enabled."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.update(task, advance=n)
