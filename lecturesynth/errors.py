"""The one error the generator raises for problems a user can fix."""


class SynthError(RuntimeError):
    """Generation cannot proceed; the message says what to install or change."""
