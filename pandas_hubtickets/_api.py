"""Which HubSpot API a client speaks, and where that API keeps each endpoint (pure).

HubSpot has two generations of ticket endpoints that this library speaks:

- ``"v1"``: CRM Objects v1 (``/crm-objects/v1/objects/tickets``), property
  definitions from v2, pipelines from v1. Unsupported from September 2027.
- ``"2026-03"`` (date-versioned) and ``"v3"``: the same shapes (``inputs``,
  ``results``, ``SimplePublicObject``) under ``/crm/objects/2026-03/`` and
  ``/crm/v3/``. v3 is unsupported from September 2027 too; the date-versioned
  API is its successor.

Every endpoint path a client uses comes from :func:`endpoints`. The pure
helpers at the end (:func:`object_id`, :func:`page_objects`,
:func:`current_values`, :func:`is_archived`, :func:`next_after`) read ids,
objects and values out of the raw answers of either generation, so no other
module needs to know both shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from .errors import ConfigurationError

__all__ = [
    "APIS",
    "DEFAULT_API",
    "Api",
    "Endpoints",
    "check_api",
    "current_values",
    "endpoints",
    "is_archived",
    "next_after",
    "object_id",
    "page_objects",
]

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


# ------------------------------------------ reading raw answers of either shape
def object_id(obj: object) -> int | None:
    """HubSpot's id of a raw ticket object of either API, or None if it has none.

    v1 objects carry an integer ``objectId``; versioned ``SimplePublicObject``
    s carry ``id`` as decimal text.

    Examples
    --------
    >>> object_id({"objectId": 176602}), object_id({"id": "176602"}), object_id({"id": "x"})
    (176602, 176602, None)
    """
    if not isinstance(obj, Mapping):
        return None
    oid = obj.get("objectId")
    if isinstance(oid, int) and not isinstance(oid, bool):
        return oid
    text = obj.get("id")
    if isinstance(text, str) and text.isascii() and text.isdigit():
        return int(text)
    return None


def page_objects(answer: object) -> list[Any]:
    """The ticket objects of a raw answer of either API.

    ``answer`` is a v1 batch-read map (keyed by id), a v1 page
    (``{"objects": [...]}``), a versioned batch answer or page
    (``{"results": [...]}``), one versioned object, or a list of objects.

    Examples
    --------
    >>> page_objects({"176602": {"objectId": 176602}})
    [{'objectId': 176602}]
    >>> page_objects({"objects": [{"objectId": 1}], "hasMore": False, "offset": 1})
    [{'objectId': 1}]
    >>> page_objects({"status": "COMPLETE", "results": [{"id": "1", "properties": {}}]})
    [{'id': '1', 'properties': {}}]
    >>> page_objects({"id": "1", "properties": {}})
    [{'id': '1', 'properties': {}}]
    """
    if isinstance(answer, list):
        return answer
    if not isinstance(answer, Mapping):
        return []
    for key in ("results", "objects"):
        if isinstance(answer.get(key), list):
            return list(answer[key])
    if "id" in answer or "objectId" in answer:
        return [answer]
    return [obj for obj in answer.values() if isinstance(obj, Mapping)]


def _newest(versions: object) -> object:
    """The value of the newest item of a versioned property history (newest first)."""
    if isinstance(versions, list) and versions and isinstance(versions[0], Mapping):
        return versions[0].get("value")
    return None


def current_values(obj: object) -> dict[str, str | None]:
    """Each property's current value in a raw ticket object of either API, as HubSpot sent it.

    v1: ``properties[name]["value"]``; versioned: ``properties[name]`` (text),
    else the newest item of ``propertiesWithHistory[name]``. Versioned
    ``datetime`` values are ISO 8601 and ``date`` values ``YYYY-MM-DD``: compare
    them with what is sent (epoch milliseconds) only after normalising.

    Examples
    --------
    >>> current_values({"objectId": 1, "properties": {"status": {"value": "OPEN"}}})
    {'status': 'OPEN'}
    >>> current_values({"id": "1", "properties": {"status": "OPEN"},
    ...                 "propertiesWithHistory": {"subject": [{"value": "b"}, {"value": "a"}]}})
    {'subject': 'b', 'status': 'OPEN'}
    """
    if not isinstance(obj, Mapping):
        return {}
    values: dict[str, str | None] = {}
    history = obj.get("propertiesWithHistory")
    if isinstance(history, Mapping):
        for name, versions in history.items():
            newest = _newest(versions)
            values[str(name)] = None if newest is None else str(newest)
    props = obj.get("properties")
    for name, prop in (props if isinstance(props, Mapping) else {}).items():
        value = prop.get("value") if isinstance(prop, Mapping) else prop
        values[str(name)] = None if value is None else str(value)
    return values


def is_archived(obj: object) -> bool:
    """Whether a raw ticket object of either API is deleted (``isDeleted`` / ``archived``).

    Examples
    --------
    >>> is_archived({"objectId": 1, "isDeleted": True}), is_archived({"id": "1", "archived": False})
    (True, False)
    """
    if not isinstance(obj, Mapping):
        return False
    return bool(obj.get("isDeleted") or obj.get("archived"))


def next_after(page: object) -> str | None:
    """The cursor of a versioned page's next page (``paging.next.after``), or None at the end.

    Examples
    --------
    >>> next_after({"results": [], "paging": {"next": {"after": "176603"}}}), next_after({})
    ('176603', None)
    """
    paging = page.get("paging") if isinstance(page, Mapping) else None
    following = paging.get("next") if isinstance(paging, Mapping) else None
    after = following.get("after") if isinstance(following, Mapping) else None
    return None if after is None else str(after)
