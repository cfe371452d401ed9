"""The error every service raises for a refusal a person should read."""


class ActionRefused(Exception):
    """The action was refused and nothing changed; str(exc) is the message for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
