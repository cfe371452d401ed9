"""The one place that speaks Walmart: client, payloads, typed responses, enumerations."""

from webapp.walmart.client import WalmartClient
from webapp.walmart.errors import (
                                   AuthenticationError,
                                   DataError,
                                   MalformedResponse,
                                   RateLimited,
                                   TransientError,
                                   WalmartError,
)

__all__ = ["AuthenticationError", "DataError", "MalformedResponse", "RateLimited",
           "TransientError", "WalmartClient", "WalmartError"]
