"""HubSpot's published contract: its OpenAPI documents as validators of requests and answers.

The four documents in ``tests/data/specs`` are HubSpot's own (tickets and
properties, v3 and 2026-03), copied unchanged. :func:`operation` finds the
operation of a request by method and path; :meth:`Operation.check_request` and
:meth:`Operation.check_answer` return every way a body (and a query) strays
from its component schema, ``$ref``s resolved within the document.

Validation is Draft 4 JSON Schema, which OpenAPI 3.0's schema objects
extend: jsonschema says every way a body strays; fastjsonschema, the same
schemas compiled to Python, first decides whether there is anything to say
(about 40x faster, which matters for answers of 100 tickets with history),
and a disagreement between the two is itself reported. A document that uses
one of the extensions Draft 4 would silently misread (``nullable``,
``discriminator``, ``readOnly``, ``writeOnly``) is refused, so a newer
document cannot weaken the checks unnoticed. Formats are checked by rules of
our own, the same for both engines: ``date-time`` as RFC 3339, ``uuid``, and
``int32``/``int64`` as the bounds they imply.

- Requests are held to a **closed** contract: an object schema that lists
  its properties admits no others, and every query parameter must be
  declared. HubSpot ignores what it does not know, so a misspelt
  ``objectWriteTraceId`` or ``idProperty`` would otherwise pass silently.
- Answers are held to the schemas **as published** (open objects): HubSpot's
  real answers carry fields its documents do not list (``status`` and
  ``requestId`` in errors), and the emulator copies them.
- 429 answers come from HubSpot's rate limiter, with the body described in
  HUBSPOT_API.md on every API (no ``category``), and 502 from the load
  balancer in front of it (HTML): neither is the API's answer, so neither is
  checked against the API's documents (:data:`NOT_THE_API`).

Which versioned endpoints the documents cover comes from the library's own
endpoint table (:func:`pandas_hubtickets._api.endpoints`): the tickets and
properties endpoints of v3 and 2026-03. HubSpot's pipelines and owners
documents are not among the four (:data:`UNPUBLISHED`): requests there are
not validated, and say so.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import fastjsonschema
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from pandas_hubtickets._api import endpoints
from pandas_hubtickets.testing import RequestRecord

SPEC_DIR = Path(__file__).parent / "data" / "specs"
VERSIONED_APIS = ("v3", "2026-03")

COVERED: dict[str, str] = {
    prefix: f"{kind}-{api}.openapi.json"
    for api in VERSIONED_APIS
    for kind, prefix in (
        ("tickets", endpoints(api).tickets),
        ("properties", endpoints(api).properties),
    )
}
"""Versioned endpoint prefix -> the document in tests/data/specs that describes it."""

UNPUBLISHED: frozenset[str] = frozenset(
    prefix for api in VERSIONED_APIS for prefix in (endpoints(api).pipelines, endpoints(api).owners)
)
"""Versioned endpoints whose OpenAPI documents are not in tests/data/specs."""

NOT_THE_API: dict[int, str] = {
    429: "HubSpot's rate limiter answers it (HUBSPOT_API.md's body, the same on every API)",
    502: "the load balancer in front of HubSpot answers it (HTML)",
}
"""Statuses whose answers are not checked against the API's documents, and why."""

OAS_ONLY = ("nullable", "discriminator", "readOnly", "writeOnly")
"""OpenAPI 3.0 schema keywords that Draft 4 validation would ignore."""

DRAFT4_URI = "http://json-schema.org/draft-04/schema#"
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_INT_BOUNDS = {"int32": 2**31, "int64": 2**63}


def _is_date_time(value: str) -> bool:
    return _RFC3339.fullmatch(value) is not None


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


FORMATS = {"date-time": _is_date_time, "uuid": _is_uuid}
"""The string formats checked (both engines check formats of strings only)."""
_FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in FORMATS.items():
    _FORMAT_CHECKER.checks(_name)(lambda v, check=_check: not isinstance(v, str) or check(v))


def covered(method: str, path: str) -> bool:
    """Whether a request goes to a versioned endpoint that a document in tests/data/specs covers."""
    return _document_of(path) is not None


def _document_of(path: str) -> str | None:
    for prefix, name in COVERED.items():
        if path == prefix or path.startswith(prefix + "/"):
            return name
    return None


def _walk(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _prepared(document: dict[str, Any], *, closed: bool) -> dict[str, Any]:
    """A copy with integer formats as bounds and, if ``closed``, no undeclared properties."""
    prepared = copy.deepcopy(document)
    for node in _walk(prepared):
        bound = _INT_BOUNDS.get(node.get("format")) if node.get("type") == "integer" else None
        if bound is not None:
            node.setdefault("minimum", -bound)
            node.setdefault("maximum", bound - 1)
        if (
            closed
            and node.get("type") == "object"
            and isinstance(node.get("properties"), dict)
            and "additionalProperties" not in node
        ):
            node["additionalProperties"] = False
    return prepared


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}]+)\}", path)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(pattern)


@dataclass(frozen=True)
class Operation:
    """One operation of a document: how its requests and answers must look."""

    spec: Spec
    method: str
    template: str
    definition: Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.template} ({self.spec.name})"

    def check_request(self, body: Any, query: str = "") -> list[str]:
        """Every way a request's JSON body and query string stray from the (closed) contract."""
        problems = self._check_query(parse_qs(query, keep_blank_values=True))
        content = self.definition.get("requestBody", {}).get("content", {})
        if not content:
            if body is not None:
                problems.append("a body is sent, but the operation takes none")
            return problems
        if body is None:
            return [*problems, "the JSON body is missing (or is not JSON)"]
        schema = next(iter(content.values()))["schema"]
        return problems + self.spec.errors(schema, body, closed=True, what="request body")

    def check_answer(self, status: int, answer: Any) -> list[str]:
        """Every way an answer's body strays from the schema of its status (as published)."""
        responses = self.definition.get("responses", {})
        response = responses.get(str(status), responses.get("default"))
        if response is None:
            return [f"status {status} is not documented"]
        content = self.spec.resolve(response).get("content", {})
        if not content:
            if answer is not None:
                return [f"status {status} has a body, but none is documented"]
            return []
        schema = next(iter(content.values()))["schema"]
        return self.spec.errors(schema, answer, closed=False, what=f"answer {status}")

    def _check_query(self, query: dict[str, list[str]]) -> list[str]:
        declared = {
            p["name"]: p for p in self.definition.get("parameters", []) if p.get("in") == "query"
        }
        problems = [
            f"query parameter {name!r} is not in the contract (declared: "
            f"{', '.join(sorted(declared)) or 'none'})"
            for name in query
            if name not in declared
        ]
        problems += [
            f"the required query parameter {name!r} is missing"
            for name, p in declared.items()
            if p.get("required") and name not in query
        ]
        for name, raw in query.items():
            if name in declared:
                schema = declared[name]["schema"]
                value = _query_value(schema, raw)
                problems += self.spec.errors(schema, value, closed=True, what=f"query {name!r}")
        return problems


def _query_value(schema: Mapping[str, Any], raw: list[str]) -> Any:
    """A query parameter's text as the JSON value its schema describes (form style, exploded)."""
    if schema.get("type") == "array":
        return raw
    if len(raw) > 1:
        return raw  # a scalar sent twice: the schema's type rejects the list
    text = raw[0]
    if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if schema.get("type") == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


class Spec:
    """One OpenAPI document: its operations and validators for its component schemas."""

    def __init__(self, name: str, document: dict[str, Any]) -> None:
        found = sorted({k for node in _walk(document.get("components", {})) for k in node})
        misread = [k for k in OAS_ONLY if k in found]
        if misread:
            raise ValueError(
                f"{name} uses {', '.join(misread)}: Draft 4 validation would ignore them"
            )
        self.name = name
        self.document = document
        self._uri = f"urn:hubspot-openapi:{name}"
        self._prepared = {closed: _prepared(document, closed=closed) for closed in (False, True)}
        self._registries = {
            closed: Registry().with_resource(self._uri, Resource(prepared, DRAFT4))
            for closed, prepared in self._prepared.items()
        }
        self._compiled: dict[tuple[str, bool], Callable[[Any], Any]] = {}
        self.operations = sorted(
            (
                (_template(path), method.upper(), path, definition)
                for path, item in self._prepared[False]["paths"].items()
                for method, definition in item.items()
                if isinstance(definition, dict) and "responses" in definition
            ),
            key=lambda op: op[2].count("{"),  # literal segments before parameters
        )

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving ``method path``, or None."""
        for pattern, op_method, template, definition in self.operations:
            if op_method == method and pattern.fullmatch(path):
                return Operation(self, method, template, definition)
        return None

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """``node`` with a local ``$ref`` (``#/components/...``) followed."""
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        target: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return self.resolve(target)

    def errors(
        self, schema: Mapping[str, Any], instance: Any, *, closed: bool, what: str
    ) -> list[str]:
        """Every validation error of ``instance`` against ``schema`` (refs into this document)."""
        try:
            self._fast(schema, closed)(instance)
        except fastjsonschema.JsonSchemaValueException as refusal:
            fast_says = str(refusal)
        else:
            return []
        ref = schema.get("$ref")
        rooted = {"$ref": self._uri + ref} if isinstance(ref, str) else dict(schema)
        validator = Draft4Validator(
            rooted, registry=self._registries[closed], format_checker=_FORMAT_CHECKER
        )
        name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else "schema"
        found = [
            f"{what} at {'/'.join(map(str, e.absolute_path)) or '(top)'} "
            f"does not match {name}: {e.message}"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        ]
        return found or [f"{what}: fastjsonschema refuses it ({fast_says}), jsonschema does not"]

    def _fast(self, schema: Mapping[str, Any], closed: bool) -> Callable[[Any], Any]:
        """``schema`` compiled by fastjsonschema (once), with this document as its root."""
        key = (json.dumps(schema, sort_keys=True), closed)
        if key not in self._compiled:
            document = self._prepared[closed] if "$ref" in key[0] else {}
            root = {**document, "$schema": DRAFT4_URI, **schema}
            self._compiled[key] = fastjsonschema.compile(root, formats=FORMATS, use_default=False)
        return self._compiled[key]


@functools.cache
def load(name: str) -> Spec:
    """The document ``tests/data/specs/<name>``, parsed once."""
    return Spec(name, json.loads((SPEC_DIR / name).read_text()))


def operation(method: str, path: str) -> Operation | None:
    """The documented operation for a request to a covered versioned endpoint, or None."""
    name = _document_of(path)
    return None if name is None else load(name).operation(method, path)


def check_exchange(record: RequestRecord, *, request: bool = True) -> list[str]:
    """Every way one exchange (bodies recorded) strays from HubSpot's published contract.

    ``request=False`` skips the request (a test sends it off contract on
    purpose); its answer is still checked.
    """
    where = f"request {record.seq} {record.method} {record.path}"
    op = operation(record.method, record.path)
    if op is None:
        name = _document_of(record.path)
        return [f"{where}: {name} has no operation {record.method} for this path"]
    where += f" [{op.spec.name}]"
    problems = op.check_request(record.body, record.query) if request else []
    if record.status is not None and record.status not in NOT_THE_API:
        problems += op.check_answer(record.status, record.answer)
    return [f"{where}: {p}" for p in problems]


def check_exchanges(records: Iterable[RequestRecord], *, requests: bool = True) -> list[str]:
    """:func:`check_exchange` for each record, problems in order."""
    return [p for record in records for p in check_exchange(record, request=requests)]
