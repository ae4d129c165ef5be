"""Bad input for Hub operations (an `InputError`, so the command line prints it as one sentence)."""

from code_interpreter.errors import InputError


class HubInputError(InputError):
    """A malformed repo id, a missing token, a repo without permission, an output folder that holds
    something else. The message names the repo or folder and the fix."""
