"""Optional spoken cues (rep counts, form messages) through an offline text-to-speech engine.

Uses pyttsx3 (`pip install posecheck[speech]`; on Linux it needs the espeak-ng library, on
Windows and macOS it uses the system voices). Speech runs in its own thread so it never slows
the video loop; when no engine is available posecheck says so once and stays silent.
"""

from __future__ import annotations

import contextlib
import queue
import threading


class Speaker:
    """Says short phrases in the background; a silent stand-in when speech is off or unavailable."""

    def __init__(self) -> None:
        self.available = False
        self.problem: str | None = None

    @staticmethod
    def create(enabled: bool) -> Speaker:
        if not enabled:
            return Speaker()
        speaker = ThreadedSpeaker()
        return speaker

    def say(self, text: str) -> None:
        """Queue a phrase (silently ignored when speech is off)."""

    def close(self) -> None:
        """Stop speaking."""


class ThreadedSpeaker(Speaker):
    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=4)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="speech", daemon=True)
        self._thread.start()
        ready.wait(timeout=10.0)

    def _run(self, ready: threading.Event) -> None:
        try:
            import pyttsx3

            engine = pyttsx3.init()
        except Exception as exc:  # ImportError, missing espeak library, no audio device...
            self.problem = (
                f"spoken cues are unavailable ({type(exc).__name__}: {exc}); install them with "
                "`pip install posecheck[speech]` (and espeak-ng on Linux)"
            )
            ready.set()
            return
        self.available = True
        ready.set()
        while True:
            text = self._queue.get()
            if text is None:
                return
            engine.say(text)
            engine.runAndWait()

    def say(self, text: str) -> None:
        if not self.available:
            return
        with contextlib.suppress(queue.Full):  # never queue stale cues behind a slow voice
            self._queue.put_nowait(text)

    def close(self) -> None:
        if self.available:
            self._queue.put(None)
            self._thread.join(timeout=2.0)
