"""The one error type that means "the user's input is wrong" (a bad config value, a missing file or
model, an unknown name). The command line prints it as one sentence; anything else is a bug and
keeps its traceback. Every package may raise it (all import `code_interpreter`)."""


class InputError(ValueError):
    """Bad input; the message names the file, row or value, what was expected, and the fix."""


class MissingInput(InputError, FileNotFoundError):
    """A file, folder or model the user named does not exist."""
