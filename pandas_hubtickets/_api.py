"""Which HubSpot API a client speaks, and where that API keeps each endpoint (pure).

HubSpot has two generations of ticket endpoints that this library speaks:

- ``"v1"``: CRM Objects v1 (``/crm-objects/v1/objects/tickets``), property
  definitions from v2, pipelines from v1. Unsupported from September 2027.
- ``"2026-03"`` (date-versioned) and ``"v3"``: the same shapes (``inputs``,
  ``results``, ``SimplePublicObject``) under ``/crm/objects/2026-03/`` and
  ``/crm/v3/``. v3 is unsupported from September 2027 too; the date-versioned
  API is its successor.

Every endpoint path a client uses comes from :func:`endpoints`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from .errors import ConfigurationError

__all__ = ["APIS", "DEFAULT_API", "Api", "Endpoints", "check_api", "endpoints"]

Api = Literal["v1", "v3", "2026-03"]
APIS: Final[tuple[str, ...]] = get_args(Api)
DEFAULT_API: Final = "v1"


@dataclass(frozen=True)
class Endpoints:
    """The paths (relative to the base URL) of one API's endpoints.

    Attributes
    ----------
    api : {"v1", "v3", "2026-03"}
    tickets : str
        The ticket objects (batch update and read, list, get one).
    properties : str
        The ticket property definitions.
    pipelines : str
        The ticket pipelines and their stages.
    owners : str
        The portal's owners.
    """

    api: Api
    tickets: str
    properties: str
    pipelines: str
    owners: str

    @property
    def versioned(self) -> bool:
        """True for the ``inputs``/``results`` shapes of v3 and the date-versioned API."""
        return self.api != "v1"


_ENDPOINTS: Final[dict[str, Endpoints]] = {
    "v1": Endpoints(
        "v1",
        tickets="/crm-objects/v1/objects/tickets",
        properties="/properties/v2/tickets/properties",
        pipelines="/crm-pipelines/v1/pipelines/tickets",
        owners="/crm/v3/owners",  # v1 has no owners endpoint that lists archived ones
    ),
    "v3": Endpoints(
        "v3",
        tickets="/crm/v3/objects/tickets",
        properties="/crm/v3/properties/tickets",
        pipelines="/crm/v3/pipelines/tickets",
        owners="/crm/v3/owners",
    ),
    "2026-03": Endpoints(
        "2026-03",
        tickets="/crm/objects/2026-03/tickets",
        properties="/crm/properties/2026-03/tickets",
        pipelines="/crm/pipelines/2026-03/tickets",
        owners="/crm/owners/2026-03",
    ),
}


def check_api(api: object, *, name: str = "api") -> Api:
    """``api`` if it names an API this library speaks, else a :class:`ConfigurationError`.

    Examples
    --------
    >>> check_api("2026-03")
    '2026-03'
    >>> check_api("v2")
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ConfigurationError: api must be one of 'v1', 'v3', '2026-03', not 'v2'
    """
    if isinstance(api, str) and api in _ENDPOINTS:
        return _ENDPOINTS[api].api
    choices = ", ".join(repr(a) for a in APIS)
    raise ConfigurationError(f"{name} must be one of {choices}, not {api!r}")


def endpoints(api: str) -> Endpoints:
    """The endpoint paths of ``api`` (checked with :func:`check_api`).

    Examples
    --------
    >>> endpoints("2026-03").tickets
    '/crm/objects/2026-03/tickets'
    >>> endpoints("v1").versioned
    False
    """
    return _ENDPOINTS[check_api(api)]
