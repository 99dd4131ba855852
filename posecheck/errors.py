"""The one exception type for problems the user can fix (bad input, missing files)."""


class UserError(Exception):
    """A problem the user can fix. The CLI prints it as one line and exits non-zero.

    The message names the problem and says what to do about it.
    """

    exit_code = 2


class BackgroundFailure(Exception):
    """A background thread (decoding, drawing, encoding, capturing) failed.

    Raised in the main thread, so a run stops instead of waiting forever on a dead thread;
    `task` says what the thread was doing and `error` is what it raised (also the __cause__).
    """

    def __init__(self, task: str, error: BaseException) -> None:
        super().__init__(f"{task} failed ({type(error).__name__}: {error})")
        self.task = task
        self.error = error


class RunStopped(UserError):
    """A run stopped on a problem after writing the report of what was analysed."""

    exit_code = 1
