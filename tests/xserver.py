"""A real X server for window tests: Xvfb (a virtual screen), screenshots, and key presses (xdotool).

`.ci/run` installs `xvfb` and `xdotool`; without them the window tests are skipped with the command
that installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable

import numpy as np
import pytest

XVFB = shutil.which("Xvfb")
XDOTOOL = shutil.which("xdotool")
SCREEN = (1280, 720)


class XServer:
    def __init__(self) -> None:
        if XVFB is None or XDOTOOL is None:
            pytest.skip("Xvfb or xdotool is not installed: apt-get install -y xvfb xdotool (.ci/run does it)")
        read, write = os.pipe()
        screen = f"{SCREEN[0]}x{SCREEN[1]}x24"
        self.process = subprocess.Popen(
            [XVFB, "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as numbers:
            number = numbers.readline().strip()  # Xvfb picks a free display and says which
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.display}

    def screenshot(self) -> np.ndarray:
        """The whole screen as an RGB array (height, width, 3)."""
        from PIL import ImageGrab

        return np.asarray(ImageGrab.grab(xdisplay=self.display).convert("RGB"))

    def xdotool(self, *args: str) -> str:
        result = subprocess.run(
            [XDOTOOL, *args], env=self.env, capture_output=True, text=True, timeout=30, check=False
        )
        return result.stdout

    def window_id(self, name: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.xdotool("search", "--name", f"^{name}$").split()
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no window named {name!r} appeared within {timeout} s")

    def window_geometry(self, window: str) -> tuple[int, int]:
        shell = self.xdotool("getwindowgeometry", "--shell", window)
        values = dict(line.split("=", 1) for line in shell.split())
        return int(values["WIDTH"]), int(values["HEIGHT"])

    def key(self, window: str, key: str) -> None:
        self.xdotool("windowfocus", "--sync", window)
        self.xdotool("key", "--window", window, key)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wait_for_screen(server: XServer, condition: Callable[[np.ndarray], bool], timeout: float = 60.0):
    """Take screenshots until one satisfies `condition`; returns it."""
    deadline = time.monotonic() + timeout
    shot = None
    while time.monotonic() < deadline:
        shot = server.screenshot()
        if condition(shot):
            return shot
        time.sleep(0.2)
    raise AssertionError(f"the screen never showed what was expected within {timeout} s")
