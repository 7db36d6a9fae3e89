"""pandas-hubtickets: HubSpot tickets as native pandas.

Importing the package registers the ``DataFrame.hubtickets`` accessor.
"""

from . import accessor as _accessor  # noqa: F401  (registers DataFrame.hubtickets)
from .errors import (
    ConfigurationError,
    FlattenError,
    HubSpotError,
    HubTicketsError,
    PayloadError,
    RateLimitError,
    TransportError,
    UpdateStopped,
)
from .flatten import flatten

__all__ = [
    "ConfigurationError",
    "FlattenError",
    "HubSpotError",
    "HubTicketsError",
    "PayloadError",
    "RateLimitError",
    "TransportError",
    "UpdateStopped",
    "flatten",
]
