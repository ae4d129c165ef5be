"""Bad input for Hub operations (an `InputError`, so the command line prints it as one sentence)."""

from code_interpreter.errors import InputError


class HubInputError(InputError):
    """A malformed repo id, a missing token, a repo without permission, an output folder that holds
    something else. The message names the repo or folder and the fix."""


class HubUnavailable(HubInputError):
    """The Hub kept failing (429, 5xx, no connection) after every retry: reported as one sentence,
    since the fix (wait, or check the endpoint and network) is the user's."""
