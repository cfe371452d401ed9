"""The error every service raises for a refusal a person should read."""


class ActionRefused(Exception):
    """The action was refused and nothing changed; str(exc) is the message for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreReadOnly(ActionRefused):
    """The store is read-only: Orderdeck sends nothing to Walmart for it."""

    def __init__(self, store_name: str) -> None:
        super().__init__(f"{store_name} is read-only: Orderdeck imports and shows its orders but "
                         "sends nothing to Walmart. An admin can switch it to read-write on the "
                         "store's page.")
