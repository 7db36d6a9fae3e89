"""pandas-hubtickets: HubSpot tickets as native pandas.

Importing the package registers the ``DataFrame.hubtickets`` accessor.
"""

import logging as _logging

from . import _accessor  # noqa: F401  (registers DataFrame.hubtickets)
from ._client import TicketsClient
from ._coerce import Coerced, CoerceOptions
from ._flatten import current, flatten, read_tidy, write_tidy
from ._labels import Catalogue
from ._limiter import RateLimiter
from ._pull import DatasetPull, append_tidy, pull, pull_dataset
from ._undo import UndoResult, undo
from ._update import UpdateResult
from ._version import __version__
from .errors import (
    ArgumentTypeError,
    ConfigurationError,
    DefinitionsUnavailable,
    FlattenError,
    HubSpotError,
    HubTicketsError,
    InputFileError,
    JournalError,
    PayloadError,
    RateLimitError,
    TransportError,
    UnreachableError,
    UpdateInterrupted,
    UpdateStopped,
)

# A library logs, the application decides where it goes (nothing is printed by default).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

__all__ = [
    "ArgumentTypeError",
    "Catalogue",
    "CoerceOptions",
    "Coerced",
    "ConfigurationError",
    "DatasetPull",
    "DefinitionsUnavailable",
    "FlattenError",
    "HubSpotError",
    "HubTicketsError",
    "InputFileError",
    "JournalError",
    "PayloadError",
    "RateLimitError",
    "RateLimiter",
    "TicketsClient",
    "TransportError",
    "UndoResult",
    "UnreachableError",
    "UpdateInterrupted",
    "UpdateResult",
    "UpdateStopped",
    "__version__",
    "append_tidy",
    "current",
    "flatten",
    "pull",
    "pull_dataset",
    "read_tidy",
    "undo",
    "write_tidy",
]
