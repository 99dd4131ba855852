"""The one exception type for problems the user can fix (bad input, missing files)."""


class UserError(Exception):
    """A problem the user can fix. The CLI prints it as one line and exits non-zero.

    The message names the problem and says what to do about it.
    """

    exit_code = 2
