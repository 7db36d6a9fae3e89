"""pandas-hubtickets: HubSpot tickets as native pandas."""

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

__all__ = [
    "ConfigurationError",
    "FlattenError",
    "HubSpotError",
    "HubTicketsError",
    "PayloadError",
    "RateLimitError",
    "TransportError",
    "UpdateStopped",
]
