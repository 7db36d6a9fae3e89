"""pandas-hubtickets: HubSpot tickets as native pandas.

Importing the package registers the ``DataFrame.hubtickets`` accessor.
"""

import logging

from . import accessor as _accessor  # noqa: F401  (registers DataFrame.hubtickets)
from ._version import __version__
from .client import TicketsClient
from .errors import (
    ArgumentTypeError,
    ConfigurationError,
    DefinitionsUnavailable,
    FlattenError,
    HubSpotError,
    HubTicketsError,
    InputFileError,
    PayloadError,
    RateLimitError,
    TransportError,
    UnreachableError,
    UpdateInterrupted,
    UpdateStopped,
)
from .flatten import current, flatten, read_tidy, write_tidy
from .limiter import RateLimiter
from .update import UpdateResult

# A library logs, the application decides where it goes (nothing is printed by default).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ArgumentTypeError",
    "ConfigurationError",
    "DefinitionsUnavailable",
    "FlattenError",
    "HubSpotError",
    "HubTicketsError",
    "InputFileError",
    "PayloadError",
    "RateLimitError",
    "RateLimiter",
    "TicketsClient",
    "TransportError",
    "UnreachableError",
    "UpdateInterrupted",
    "UpdateResult",
    "UpdateStopped",
    "__version__",
    "current",
    "flatten",
    "read_tidy",
    "write_tidy",
]
