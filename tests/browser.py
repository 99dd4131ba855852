"""Real headless Chromium for tests (Debian's `chromium` and `chromium-driver`, driven by Selenium).

`.ci/run` installs both; on a machine without them the tests that need a browser are skipped
with the command that installs them.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
INSTALL = "apt-get install -y chromium chromium-driver (.ci/run does this)"


def missing_browser() -> str | None:
    """Why no browser test can run here, or None when Chromium, its driver and Selenium are present."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        return f"headless Chromium is not installed: {INSTALL}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed: pip install -e ".[test]"'
    return None


def start_chromium(width: int = 1200, height: int = 1400):
    """A headless Chromium window of the given size (never downloads a browser or driver)."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_until(driver, script: str, timeout: float = 20.0):
    """Poll a JavaScript expression (`return ...`) until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for: {script} (last value {value!r})")


def element_picture(element) -> np.ndarray:
    """A screenshot of one element, as a BGR image."""
    png = element.screenshot_as_png
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def page_errors(driver) -> list[str]:
    """JavaScript errors and failed loads the page reported to the console."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()
