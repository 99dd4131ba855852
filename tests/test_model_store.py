"""Tests of the model store: finding, checking and downloading PoseLandmarker bundles.

No test reaches the internet: downloads go to a loopback HTTP server, and every test runs with
a closed loopback port as the download base unless it sets its own.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest

from posecheck import model_store as ms
from posecheck.errors import UserError

SHARED_MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "models"
MODEL_ENV_VARS = (ms.MODEL_ENV, ms.MODEL_DIRS_ENV, ms.CACHE_ENV, ms.BASE_URL_ENV, "XDG_CACHE_HOME")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: an empty cache in tmp_path, downloads aimed at a closed port."""
    for name in MODEL_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv(ms.CACHE_ENV, str(cache))
    monkeypatch.setenv(ms.BASE_URL_ENV, "http://127.0.0.1:9")  # discard port: refused at once
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return cache


def make_bundle(path: Path, payload: bytes = b"weights") -> Path:
    """A small zip with the two members a PoseLandmarker bundle must have."""
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("pose_detector.tflite", b"detector " + payload)
        bundle.writestr("pose_landmarks_detector.tflite", b"landmarks " + payload)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shared_models() -> Path:
    if not SHARED_MODELS.is_dir():
        pytest.skip(f"shared model folder {SHARED_MODELS} is absent: lite/heavy cannot be tested")
    return SHARED_MODELS


@dataclass
class ModelServer:
    """A loopback HTTP server serving `files` (URL path -> bytes) and logging request paths."""

    base_url: str
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    state = ModelServer(base_url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/models"
    monkeypatch.setenv(ms.BASE_URL_ENV, state.base_url)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --- finding a model -------------------------------------------------------------------------


def test_shipped_full_bundle_is_the_default_and_is_known() -> None:
    info = ms.resolve_model(allow_download=False)

    assert info.path == ms.SHIPPED_DIR / "pose_landmarker_full.task"
    assert info.origin == "shipped with posecheck"
    assert info.variant == "full"
    assert info.sha256 == ms.REBUILT_SHA256["full"]
    assert info.known_as == "posecheck's rebuilt full bundle"


def test_shipped_bundle_has_its_licence_and_notice() -> None:
    assert (ms.SHIPPED_DIR / "LICENSE-Apache-2.0.txt").is_file()
    notice = (ms.SHIPPED_DIR / "NOTICE.md").read_text()
    assert ms.REBUILT_SHA256["full"] in notice
    assert "4(b)" in notice


def test_explicit_path_wins_over_env_and_accepts_unknown_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ms.MODEL_ENV, str(make_bundle(tmp_path / "env.task", b"env")))
    mine = make_bundle(tmp_path / "pose_landmarker_heavy.task", b"mine")

    info = ms.resolve_model(mine, allow_download=False)

    assert info.path == mine
    assert info.origin == "--model option"
    assert info.sha256 == sha256(mine.read_bytes())
    assert info.known_as is None
    assert info.variant == "heavy"  # from the file name, as the hash is unknown


def test_model_env_variable_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(tmp_path / "custom.task")
    monkeypatch.setenv(ms.MODEL_ENV, str(bundle))

    info = ms.resolve_model(variant="lite", allow_download=False)

    assert info.path == bundle
    assert info.origin == "POSECHECK_MODEL environment variable"
    assert info.variant is None and info.known_as is None


def test_model_env_variable_pointing_nowhere_says_which_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ms.MODEL_ENV, str(tmp_path / "gone.task"))

    with pytest.raises(UserError, match="POSECHECK_MODEL") as err:
        ms.resolve_model()
    assert "gone.task does not exist" in str(err.value)


def make_bad_model(kind: str, path: Path) -> Path:
    """Something at `path` that is not a PoseLandmarker bundle."""
    if kind == "folder":
        path.mkdir()
    elif kind == "not-a-zip":
        path.write_bytes(b"GIF89a not a zip")
    elif kind == "zip-without-members":
        with zipfile.ZipFile(path, "w") as bundle:
            bundle.writestr("model.tflite", b"x")
    return path  # "missing": nothing is created


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "does not exist"),
        ("folder", "is not a file"),
        ("not-a-zip", "is not a PoseLandmarker model bundle (.task) (not a zip archive)"),
        (
            "zip-without-members",
            (
                "is not a PoseLandmarker model bundle (.task) "
                "(no pose_detector.tflite or pose_landmarks_detector.tflite inside)"
            ),
        ),
    ],
)
def test_explicit_path_that_is_not_a_bundle_is_a_user_error(
    tmp_path: Path, kind: str, expected: str
) -> None:
    bad = make_bad_model(kind, tmp_path / "model.task")

    with pytest.raises(UserError) as err:
        ms.resolve_model(bad)

    message = str(err.value)
    assert expected in message
    assert str(bad) in message
    assert "--model" in message
    assert "\n" not in message


def test_zip_missing_one_member_names_it(tmp_path: Path) -> None:
    path = tmp_path / "half.task"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("pose_detector.tflite", b"x")

    with pytest.raises(UserError, match=r"\(no pose_landmarks_detector\.tflite inside\)"):
        ms.check_task_file(path)


@pytest.mark.parametrize("variant", ["lite", "heavy"])
def test_other_variants_are_found_in_model_dirs(
    variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = shared_models()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(ms.MODEL_DIRS_ENV, f"{empty}{ms.os.pathsep}{shared}")

    info = ms.resolve_model(variant=variant, allow_download=False)

    assert info.path == shared / f"pose_landmarker_{variant}.task"
    assert info.origin == f"model folder {shared}"
    assert info.variant == variant
    assert info.sha256 == ms.REBUILT_SHA256[variant]
    assert info.known_as == f"posecheck's rebuilt {variant} bundle"


def test_cached_file_with_wrong_hash_is_refused(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    cached = make_bundle(isolated_env / "pose_landmarker_heavy.task", b"tampered")

    with pytest.raises(UserError) as err:
        ms.resolve_model(variant="heavy")  # would download if the cache were skipped

    message = str(err.value)
    assert str(cached) in message
    assert sha256(cached.read_bytes()) in message
    assert ms.GOOGLE_SHA256["heavy"] in message
    assert ms.REBUILT_SHA256["heavy"] in message
    assert "delete it or pass a trusted file with --model" in message


def test_file_in_model_dir_for_another_variant_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = shared_models()
    folder = tmp_path / "models"
    folder.mkdir()
    # The lite bundle renamed as heavy: a known hash, but not of the variant asked for.
    (folder / "pose_landmarker_heavy.task").symlink_to(shared / "pose_landmarker_lite.task")
    monkeypatch.setenv(ms.MODEL_DIRS_ENV, str(folder))

    with pytest.raises(UserError, match=ms.REBUILT_SHA256["lite"]):
        ms.resolve_model(variant="heavy", allow_download=False)


def test_unknown_variant_lists_the_valid_ones() -> None:
    with pytest.raises(UserError, match="choose one of lite, full, heavy"):
        ms.resolve_model(variant="medium")


def test_nothing_found_without_download_says_how_to_get_it(isolated_env: Path) -> None:
    with pytest.raises(UserError) as err:
        ms.resolve_model(variant="lite", allow_download=False)

    message = str(err.value)
    assert "downloading is off" in message
    assert ms.model_url("lite") in message
    assert str(isolated_env / "pose_landmarker_lite.task") in message
    assert "--model" in message


# --- where things live -----------------------------------------------------------------------


def test_cache_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ms.CACHE_ENV, str(tmp_path / "override"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ms.cache_dir() == tmp_path / "override"

    monkeypatch.delenv(ms.CACHE_ENV)
    assert ms.cache_dir() == tmp_path / "xdg" / "posecheck" / "models"

    monkeypatch.delenv("XDG_CACHE_HOME")
    assert ms.cache_dir() == tmp_path / "home" / ".cache" / "posecheck" / "models"


def test_model_url_is_google_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ms.BASE_URL_ENV)
    assert ms.model_url("heavy") == (
        "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
        "pose_landmarker_heavy/float16/latest/pose_landmarker_heavy.task"
    )
    monkeypatch.setenv(ms.BASE_URL_ENV, "http://127.0.0.1:1234/m/")
    assert ms.model_url("lite") == "http://127.0.0.1:1234/m/pose_landmarker_lite.task"


def test_pinned_hashes_match_the_shared_sums_files() -> None:
    folder = shared_models()

    def read_sums(name: str) -> dict[str, str]:
        lines = (folder / name).read_text().split("\n")
        pairs = (line.split() for line in lines if line.strip())
        return {file.split("_")[-1].removesuffix(".task"): digest for digest, file in pairs}

    assert read_sums("GOOGLE-OFFICIAL-SHA256SUMS") == ms.GOOGLE_SHA256
    assert read_sums("SHA256SUMS") == ms.REBUILT_SHA256
    assert ms.sha256_of(folder / "pose_landmarker_lite.task") == ms.REBUILT_SHA256["lite"]


def test_describe_model_knows_googles_alternative_full_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = make_bundle(tmp_path / "whatever.task")
    monkeypatch.setitem(ms.GOOGLE_SHA256_ALTERNATIVES, "full", (sha256(bundle.read_bytes()),))

    info = ms.describe_model(bundle, "--model option")

    assert info.variant == "full"
    assert info.known_as == "Google's official full bundle (float16/1 file)"


# --- downloading -----------------------------------------------------------------------------


def test_download_with_wrong_hash_leaves_nothing_in_the_cache(
    server: ModelServer, isolated_env: Path
) -> None:
    body = b"an imposter, not Google's lite bundle"
    server.files["/models/pose_landmarker_lite.task"] = body

    with pytest.raises(UserError) as err:
        ms.resolve_model(variant="lite", progress=False)

    message = str(err.value)
    assert sha256(body) in message
    assert ms.GOOGLE_SHA256["lite"] in message
    assert "--model PATH" in message
    assert server.requests == ["/models/pose_landmarker_lite.task"]
    assert list(isolated_env.iterdir()) == []  # no model, no .part


def test_download_http_error_is_a_user_error(server: ModelServer, isolated_env: Path) -> None:
    with pytest.raises(UserError) as err:
        ms.resolve_model(variant="heavy", progress=False)

    message = str(err.value)
    assert message.startswith(
        f"Could not download the heavy pose model from {server.base_url}/pose_landmarker_heavy.task"
    )
    assert "HTTP 404" in message
    assert "Check your internet connection" in message and "--model PATH" in message
    assert list(isolated_env.iterdir()) == []


def test_download_connection_refused_is_a_user_error(isolated_env: Path) -> None:
    # The autouse fixture aims downloads at 127.0.0.1:9, where nothing listens.
    with pytest.raises(UserError, match="Could not download the lite pose model from http://127"):
        ms.resolve_model(variant="lite", progress=False)
    assert list(isolated_env.iterdir()) == []


def test_download_success_lands_atomically_and_is_reused(
    server: ModelServer, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = make_bundle(tmp_path / "served.task", b"pretend lite").read_bytes()
    server.files["/models/pose_landmarker_lite.task"] = body
    monkeypatch.setitem(ms.GOOGLE_SHA256, "lite", sha256(body))

    info = ms.resolve_model(variant="lite")  # with the progress bar, as a user sees it

    final = isolated_env / "pose_landmarker_lite.task"
    assert info.path == final
    assert info.origin == f"downloaded from {server.base_url}/pose_landmarker_lite.task"
    assert info.known_as == "Google's official lite bundle"
    assert final.read_bytes() == body
    assert sorted(p.name for p in isolated_env.iterdir()) == ["pose_landmarker_lite.task"]

    again = ms.resolve_model(variant="lite")

    assert again.origin == "user cache"
    assert again.sha256 == info.sha256
    assert len(server.requests) == 1  # the second resolve made no request


def test_interrupted_download_removes_the_part_file(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class InterruptedResponse:
        def __init__(self) -> None:
            self.headers = {"Content-Length": "100"}

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def read(self, size: int) -> bytes:
            # A .part file exists in the cache while the download runs.
            assert [p.suffix for p in isolated_env.iterdir()] == [".part"]
            raise KeyboardInterrupt

    monkeypatch.setattr(ms.urllib.request, "urlopen", lambda *a, **k: InterruptedResponse())

    with pytest.raises(KeyboardInterrupt):
        ms.download_model("lite", isolated_env, progress=False)
    assert list(isolated_env.iterdir()) == []


def test_unwritable_cache_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(UserError, match="Cannot write to the model cache .*POSECHECK_CACHE_DIR"):
        ms.download_model("lite", blocker / "models", progress=False)
