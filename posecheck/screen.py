"""The size of the screen a window opens on, so the live window can be made to fit it.

OpenCV cannot tell; this asks the system directly (X11 on Linux, user32 on Windows) through
ctypes, and returns None where it cannot (macOS, Wayland without XWayland, no display).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys


def screen_size() -> tuple[int, int] | None:
    """(width, height) in pixels of the default screen, or None when unknown."""
    try:
        if sys.platform == "win32":
            user32 = ctypes.windll.user32  # type: ignore[attr-defined]
            user32.SetProcessDPIAware()
            return int(user32.GetSystemMetrics(0)), int(user32.GetSystemMetrics(1))
        if os.environ.get("DISPLAY"):
            return _x11_screen_size()
    except (OSError, AttributeError):
        return None
    return None


def _x11_screen_size() -> tuple[int, int] | None:
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    x11 = ctypes.CDLL(name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for function in (x11.XDefaultScreen, x11.XCloseDisplay):
        function.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = x11.XDefaultScreen(display)
        return int(x11.XDisplayWidth(display, screen)), int(x11.XDisplayHeight(display, screen))
    finally:
        x11.XCloseDisplay(display)
