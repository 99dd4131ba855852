"""Re-make the README's pictures of what a user sees (needs Debian's chromium, chromium-driver, xvfb).

* docs/report_screenshot.png: the demo's HTML report in headless Chromium, after clicking the third
  (faulty) rep in the reps table: the video shows that moment and the plot's cursor stands there.
* docs/live_window.png: `posecheck live --fullscreen` under a virtual X server, the demo clip as
  the camera.

Usage: python docs/make_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"
COMMAND = [sys.executable, "-m", "posecheck.cli"]


def report_screenshot(work: Path) -> Path:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out = work / "demo"
    subprocess.run([*COMMAND, "demo", "--out", str(out), "--no-history"], check=True, capture_output=True)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,2050"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get((out / "bridge_side_demo.report.html").as_uri())
        time.sleep(1.0)
        rows = driver.find_elements("css selector", "tr[data-seek]")
        driver.execute_script("arguments[0].click();", rows[2])
        driver.execute_script("document.getElementById('session-video').currentTime += 2.5;")
        time.sleep(1.0)
        driver.execute_script("window.scrollTo(0, 0);")
        time.sleep(0.3)
        target = DOCS / "report_screenshot.png"
        driver.save_screenshot(str(target))
        return target
    finally:
        driver.quit()


def live_screenshot(work: Path) -> Path:
    from PIL import ImageGrab

    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write,),
    )
    os.close(write)
    with os.fdopen(read) as numbers:
        display = ":" + numbers.readline().strip()
    args = ["--camera", str(DEMO), "--fullscreen", "--out", str(work / "live"), "--no-history"]
    live = subprocess.Popen(
        [*COMMAND, "live", *args],
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(10.0)  # into the first rep's hold
        target = DOCS / "live_window.png"
        ImageGrab.grab(xdisplay=display).save(target)
        return target
    finally:
        live.terminate()
        live.wait(timeout=30)
        xvfb.terminate()
        xvfb.wait(timeout=10)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print(report_screenshot(Path(tmp)))
        print(live_screenshot(Path(tmp)))
