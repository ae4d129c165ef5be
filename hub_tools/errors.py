"""The one error type the command line turns into a one-sentence message (anything else is a bug)."""


class HubInputError(ValueError):
    """Bad input for a Hub operation: a malformed repo id, a missing token, a repo without permission,
    an output folder that holds something else. The message names the repo or folder and the fix."""
