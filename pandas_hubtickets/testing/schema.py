"""The emulated portal's ticket properties and HubSpot's rules for writing them.

Each property type has one check function; :func:`check_write` runs the
checks HubSpot applies to one ``{"name", "value"}`` pair and returns a
:class:`Problem` (an entry of ``validationResults``) or ``None``.

The rules are the library's (``pandas_hubtickets._definitions``), written
again here on purpose as separate, per-value code: a property-based test
(``tests/test_rules_agree.py``) runs the same values through both and requires
the same verdict and code. Checks run in this order; the first that fails is
the answer (``Problem.code``):

``PROPERTY_DOESNT_EXIST``
    no property of that name.
``READ_ONLY_VALUE``
    the property is read-only or calculated (``time_to_close``,
    ``num_notes``, ``createdate``, ``hs_lastmodifieddate``).
(accepted)
    ``""``, for any writable property: it clears the value.
``TOO_LONG``
    a value longer than 65,536 characters (Unicode code points), any type.
``LEADING_TRAILING_WHITESPACE``
    a value of a non-``string`` property that starts or ends with whitespace
    (``str.isspace``) or an invisible character (U+180E, U+200B-U+200D,
    U+2060, U+FEFF); for multiple checkboxes, also any ``;``-separated
    value. HubSpot's code since 2025-04-07.
``INVALID_INTEGER``
    a ``number`` value that is not ``-?[0-9]+(\\.[0-9]+)?``: ASCII digits,
    an optional leading ``-``, an optional fraction with digits on both
    sides of the point. No ``+``, no exponent, no ``1.`` or ``.5``, no
    thousands separators, no other scripts' digits; ``-0`` and leading zeros
    pass; any number of digits. HubSpot's code and message
    (``"1.4210854715202004e-14 was not a valid number."``).
``INVALID_LONG``
    a ``date`` / ``datetime`` value that is not ``-?[0-9]+`` within the
    signed 64-bit range (an ISO string, say).
``INVALID_DATE``
    a ``date`` value that is not at midnight UTC.
``INVALID_OPTION``
    an ``enumeration`` value (or, for multiple checkboxes, one of its
    ``;``-separated values, an empty one included) that is not an option's
    internal value, compared exactly. Properties with ``externalOptions``
    accept any value; an enumeration without options and without
    ``externalOptions`` accepts none.
``INVALID_BOOLEAN``
    a ``bool`` value other than ``"true"`` / ``"false"`` (lower case).

A ``string`` value is any text up to the length limit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from .catalogue import OWNERS

__all__ = [
    "MAX_TEXT_LENGTH",
    "PROPERTIES",
    "Problem",
    "PropertyDef",
    "check_value",
    "check_write",
    "sample_properties",
    "v2_definitions",
]

MAX_TEXT_LENGTH = 65_536
_DAY_MS = 86_400_000
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_LONG = re.compile(r"-?[0-9]+")
_LONG_RANGE = range(-(2**63), 2**63)
_INVISIBLE = frozenset("\u180e\u200b\u200c\u200d\u2060\ufeff")

PropertyType = Literal["string", "number", "date", "datetime", "enumeration", "bool"]


class Problem(NamedTuple):
    """One rejected property value: HubSpot's ``validationResults`` entry."""

    name: str
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The entry as HubSpot writes it (no ``objectId``: v1 does not say which object)."""
        return {"isValid": False, "message": self.message, "error": self.code, "name": self.name}


@dataclass(frozen=True)
class PropertyDef:
    """One ticket property definition.

    ``options`` holds ``(value, label)`` pairs; ``field_type == "checkbox"``
    on an enumeration means multiple values joined with ``;``.
    """

    name: str
    label: str
    type: PropertyType
    field_type: str
    options: tuple[tuple[str, str], ...] = ()
    read_only: bool = False
    calculated: bool = False
    external_options: bool = False
    group: str = "ticketinformation"
    unique: bool = False

    @property
    def multiple(self) -> bool:
        """Whether the value is several options joined with ``;``."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_v2(self, display_order: int) -> dict[str, Any]:
        """The definition in the shape of ``GET /properties/v2/tickets/properties``."""
        return {
            "name": self.name,
            "label": self.label,
            "description": "",
            "groupName": self.group,
            "type": self.type,
            "fieldType": self.field_type,
            "options": [
                {
                    "label": label,
                    "value": value,
                    "description": "",
                    "hidden": False,
                    "displayOrder": i,
                    "readOnly": False,
                }
                for i, (value, label) in enumerate(self.options)
            ],
            "readOnlyValue": self.read_only,
            "readOnlyDefinition": True,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "displayOrder": display_order,
            "formField": not self.read_only,
            "hubspotDefined": True,
            "deleted": False,
            "mutableDefinitionNotDeletable": True,
        }


def _options(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v, v.replace("_", " ").capitalize()) for v in values)


_DEFINITIONS = (
    PropertyDef("subject", "Ticket name", "string", "text"),
    PropertyDef("content", "Ticket description", "string", "textarea"),
    PropertyDef("external_ticket_ref", "External reference", "string", "text", unique=True),
    PropertyDef(
        "status",
        "Status",
        "enumeration",
        "select",
        _options("OPEN", "IN_PROGRESS", "WAITING", "CLOSED"),
    ),
    PropertyDef("hs_pipeline", "Pipeline", "enumeration", "select", external_options=True),
    PropertyDef(
        "hs_pipeline_stage", "Ticket status", "enumeration", "select", external_options=True
    ),
    PropertyDef(
        "hs_ticket_priority",
        "Priority",
        "enumeration",
        "select",
        _options("LOW", "MEDIUM", "HIGH", "URGENT"),
    ),
    PropertyDef(
        "hs_ticket_category",
        "Category",
        "enumeration",
        "checkbox",
        _options("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
    ),
    PropertyDef(
        "source_type", "Source", "enumeration", "select", _options("CHAT", "EMAIL", "FORM", "PHONE")
    ),
    PropertyDef("hubspot_owner_id", "Ticket owner", "number", "number"),
    PropertyDef(
        "time_to_close", "Time to close", "number", "number", read_only=True, calculated=True
    ),
    PropertyDef("closed_date", "Close date", "datetime", "date"),
    PropertyDef("due_date", "Due date", "date", "date"),
    PropertyDef(
        "is_escalated",
        "Is escalated",
        "bool",
        "booleancheckbox",
        (("true", "Yes"), ("false", "No")),
    ),
    PropertyDef("num_notes", "Number of notes", "number", "number", read_only=True),
    PropertyDef("createdate", "Create date", "datetime", "date", read_only=True),
    PropertyDef(
        "hs_lastmodifieddate",
        "Last modified date",
        "datetime",
        "date",
        read_only=True,
        calculated=True,
    ),
)

PROPERTIES: dict[str, PropertyDef] = {d.name: d for d in _DEFINITIONS}
"""Every ticket property of the emulated portal, by name."""


def v2_definitions() -> list[dict[str, Any]]:
    """All definitions as ``GET /properties/v2/tickets/properties`` returns them."""
    return [d.to_v2(i) for i, d in enumerate(_DEFINITIONS)]


# --- one check per property type: (definition, non-empty value) -> Problem | None ---


def _check_string(d: PropertyDef, value: str) -> Problem | None:
    return None  # any text: the length limit applies to every type


def _check_number(d: PropertyDef, value: str) -> Problem | None:
    if _NUMBER.fullmatch(value):
        return None
    return Problem(d.name, "INVALID_INTEGER", f"{value} was not a valid number.")


def _check_datetime(d: PropertyDef, value: str) -> Problem | None:
    if _LONG.fullmatch(value) and int(value) in _LONG_RANGE:
        return None
    return Problem(d.name, "INVALID_LONG", f"{value} was not a valid long.")


def _check_date(d: PropertyDef, value: str) -> Problem | None:
    problem = _check_datetime(d, value)
    if problem is not None:
        return problem
    into_day = int(value) % _DAY_MS
    if into_day == 0:
        return None
    seconds, millis = divmod(into_day, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return Problem(
        d.name,
        "INVALID_DATE",
        f"{value} is at {hours}:{minutes}:{seconds}.{millis} UTC, not midnight!",
    )


def _check_enumeration(d: PropertyDef, value: str) -> Problem | None:
    if d.external_options:
        return None
    allowed = [v for v, _ in d.options]
    chosen = value.split(";") if d.multiple else [value]
    bad = [v for v in chosen if v not in allowed]
    if not bad:
        return None
    return Problem(
        d.name,
        "INVALID_OPTION",
        f"{';'.join(bad)} was not one of the allowed options: [{', '.join(allowed)}]",
    )


def _check_bool(d: PropertyDef, value: str) -> Problem | None:
    if value in ("true", "false"):
        return None
    return Problem(d.name, "INVALID_BOOLEAN", f"{value} is not a valid boolean (true or false).")


_CHECKS: dict[str, Callable[[PropertyDef, str], Problem | None]] = {
    "string": _check_string,
    "number": _check_number,
    "date": _check_date,
    "datetime": _check_datetime,
    "enumeration": _check_enumeration,
    "bool": _check_bool,
}


def _padded(text: str) -> bool:
    """Whether ``text`` starts or ends with whitespace or an invisible character."""
    if not text:
        return False
    return any(c.isspace() or c in _INVISIBLE for c in (text[0], text[-1]))


def check_value(d: PropertyDef, value: str) -> Problem | None:
    """Check one value for a writable property the way HubSpot does.

    Parameters
    ----------
    d : PropertyDef
        The property's definition.
    value : str
        The value, as sent.

    Returns
    -------
    Problem or None
        The first rule the value breaks, or ``None`` when it is accepted.

    Examples
    --------
    >>> check_value(PROPERTIES["hubspot_owner_id"], "1e-7").code
    'INVALID_INTEGER'
    >>> check_value(PROPERTIES["hubspot_owner_id"], "0.0000001") is None
    True
    """
    if value == "":
        return None
    if len(value) > MAX_TEXT_LENGTH:
        return Problem(
            d.name,
            "TOO_LONG",
            f"Value of {d.name} is {len(value)} characters long; "
            f"the limit is {MAX_TEXT_LENGTH} characters.",
        )
    parts = value.split(";") if d.multiple else [value]
    if d.type != "string" and any(_padded(p) for p in parts):
        return Problem(
            d.name,
            "LEADING_TRAILING_WHITESPACE",
            f'"{value}" includes leading or trailing whitespace.',
        )
    return _CHECKS[d.type](d, value)


def check_write(name: str, value: str, *, allow_read_only: bool = False) -> Problem | None:
    """Check one property write to the emulated portal the way HubSpot does.

    Parameters
    ----------
    name, value : str
        The property's internal name and the value, as sent.
    allow_read_only : bool
        Skip the read-only check (for setting up data from Python).

    Returns
    -------
    Problem or None
        The first rule the write breaks, or ``None`` when it is accepted.
    """
    d = PROPERTIES.get(name)
    if d is None:
        return Problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    if d.read_only and not allow_read_only:
        kind = "calculated" if d.calculated else "read only"
        return Problem(
            name, "READ_ONLY_VALUE", f'"{name}" is a {kind} property; its value cannot be set.'
        )
    return check_value(d, value)


# --- deterministic sample data for seed_tickets ---

_TOPICS = (
    "Cannot log in",
    "Invoice shows the wrong amount",
    "Export to CSV times out",
    "Feature request: dark mode",
    "Password reset e-mail never arrives",
    "Refund for duplicate charge",
    "API returns 500 on upload",
    "How do I add a team member?",
)
_STAGES = ("1", "2", "3", "4")


def _pick(rng: random.Random, d: PropertyDef) -> str:
    return rng.choice([v for v, _ in d.options])


def sample_properties(rng: random.Random, object_id: int, created_ms: int) -> dict[str, str]:
    """Plausible, valid writable properties of one seeded ticket, drawn from ``rng``."""
    topic = rng.choice(_TOPICS)
    props = {
        "subject": f"#{object_id} {topic}",
        "content": f"Customer reports: {topic.lower()}. Priority set by triage.",
        "status": _pick(rng, PROPERTIES["status"]),
        "hs_pipeline": "0",
        "hs_pipeline_stage": rng.choice(_STAGES),
        "hs_ticket_priority": _pick(rng, PROPERTIES["hs_ticket_priority"]),
        "source_type": _pick(rng, PROPERTIES["source_type"]),
        "is_escalated": rng.choice(("true", "false")),
    }
    categories = [v for v, _ in PROPERTIES["hs_ticket_category"].options]
    if rng.random() < 0.7:
        props["hs_ticket_category"] = ";".join(rng.sample(categories, rng.randint(1, 2)))
    if rng.random() < 0.5:
        active = [o for o in OWNERS if not o.archived]  # one draw, as before: same other data
        props["hubspot_owner_id"] = active[
            rng.randint(10_000_000, 99_999_999) % len(active)
        ].owner_id
    if rng.random() < 0.4:
        props["due_date"] = str((created_ms // _DAY_MS + rng.randint(1, 30)) * _DAY_MS)
    return props
