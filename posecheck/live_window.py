"""The live trainer's window, made for a person on a mat 2-3 m from the screen.

* It opens large (fitted to most of the screen), resizable, without OpenCV's Qt toolbar, and
  `f` toggles full screen.
* The camera picture is scaled to the window first and the overlay drawn on it at that size (the
  overlay's text and lines grow with the picture's height), so the numbers are big and sharp, not
  a small picture stretched. The picture keeps its shape: black bars fill the rest.
* Mirrored when asked (front-view exercises), like a mirror or a video call: only the picture on
  screen and the skeleton drawn on it are flipped; the checker still sees the true left and right.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import cv2
import numpy as np

from posecheck.errors import UserError
from posecheck.overlay import OverlayView, draw_overlay
from posecheck.screen import screen_size

WINDOW = "posecheck"
SCREEN_SHARE = 0.9  # the window's first size: this share of the screen (the picture's shape kept)
FALLBACK_BOX = (1280, 960)  # when the screen's size is unknown


def check_display() -> None:
    """Fail with one line (not a crash of the GUI library) when there is no screen to open a window on."""
    has_screen = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not has_screen:
        raise UserError(
            "No screen to show the live window on (DISPLAY is not set). Run it from a desktop "
            "session, or add --headless to coach without a window (with --record to keep the video)."
        )


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with the shape of `size` inside `box` (width, height)."""
    scale = min(box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def display_view(view: OverlayView, scale: float, width: int, mirror: bool) -> OverlayView:
    """The overlay's data for a picture scaled by `scale` (and mirrored) to `width` pixels wide."""
    xy = view.landmarks.xy * scale
    if mirror:
        xy[..., 0] = (width - 1) - xy[..., 0]
    size = (width, round(view.landmarks.image_size[1] * scale))
    return dataclasses.replace(view, landmarks=dataclasses.replace(view.landmarks, xy=xy, image_size=size))


def render(
    image: np.ndarray, view: OverlayView | None, annotators: list, size: tuple[int, int], mirror: bool
) -> np.ndarray:
    """The camera picture scaled to `size` (its shape kept), mirrored if asked, overlay drawn at that size.

    `image` is left untouched.
    """
    height, width = image.shape[:2]
    target = fit((width, height), size)
    if target != (width, height):
        picture = cv2.resize(image, target, interpolation=cv2.INTER_LINEAR)
    else:
        picture = image.copy()
    if mirror:
        picture = cv2.flip(picture, 1)
    if view is None:
        return picture
    return draw_overlay(picture, display_view(view, target[0] / width, target[0], mirror), annotators)


class LiveWindow:
    """One on-screen window: `area()` to know what size to draw, `show()`, `key()`, `toggle_fullscreen()`."""

    def __init__(self, frame_size: tuple[int, int], fullscreen: bool = False, title: str = WINDOW) -> None:
        self.title = title
        self.screen = screen_size()
        cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_FREERATIO | cv2.WINDOW_GUI_NORMAL)
        box = (
            (int(self.screen[0] * SCREEN_SHARE), int(self.screen[1] * SCREEN_SHARE)) if self.screen
            else FALLBACK_BOX
        )  # fmt: skip
        self.windowed_size = fit(frame_size, box)
        self.fullscreen = False
        self._place_windowed()
        if fullscreen:
            self.toggle_fullscreen()

    def _place_windowed(self) -> None:
        cv2.resizeWindow(self.title, *self.windowed_size)
        if self.screen:
            x = (self.screen[0] - self.windowed_size[0]) // 2
            y = (self.screen[1] - self.windowed_size[1]) // 2
            cv2.moveWindow(self.title, max(0, x), max(0, y))

    def toggle_fullscreen(self) -> None:
        self.fullscreen = not self.fullscreen
        if self.fullscreen:
            if self.screen:  # also right without a window manager (which is what full screen asks)
                cv2.moveWindow(self.title, 0, 0)
                cv2.resizeWindow(self.title, *self.screen)
            cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        else:
            cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_NORMAL)
            self._place_windowed()

    def area(self) -> tuple[int, int]:
        """The size (width, height) of the window's picture area now."""
        _, _, width, height = cv2.getWindowImageRect(self.title)
        if width < 16 or height < 16:  # not laid out yet
            return self.screen if self.fullscreen and self.screen else self.windowed_size
        return width, height

    def show(self, picture: np.ndarray) -> None:
        """Show a picture made for `area()` (see `render`), centred on black if its shape differs."""
        width, height = self.area()
        ph, pw = picture.shape[:2]
        if (pw, ph) != (width, height) and pw <= width and ph <= height:
            canvas = np.zeros((height, width, 3), np.uint8)
            x, y = (width - pw) // 2, (height - ph) // 2
            canvas[y : y + ph, x : x + pw] = picture
            picture = canvas
        cv2.imshow(self.title, picture)

    def key(self) -> int:
        """Let the window draw and return the key pressed since the last call (-1: none)."""
        return cv2.waitKey(1)

    def closed(self) -> bool:
        """True once the person closed the window."""
        return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)
