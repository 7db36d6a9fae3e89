"""The emulated portal's ticket pipelines, owners, workflows and apps.

Fixed data, modelled on a small support team's portal: HubSpot's default
support pipeline (id ``"0"``, stages ``"1"`` to ``"4"``, the ids every portal
starts with and :meth:`~.emulator.FakeHubSpot.seed_tickets` uses) and a custom
billing pipeline with HubSpot-style numeric ids; six owners, one of them
archived (someone who left: old tickets still name them); the workflows,
imports and integrations that appear as ``source`` / ``sourceId`` in generated
histories (:mod:`.history`).

Stage ids are unique across pipelines, as HubSpot's are within a portal.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "IMPORTS",
    "INTEGRATIONS",
    "OWNERS",
    "PIPELINES",
    "WORKFLOWS",
    "Owner",
    "Pipeline",
    "Stage",
]


@dataclass(frozen=True)
class Stage:
    """One pipeline stage; ``closed`` is HubSpot's ``metadata.ticketState == "CLOSED"``."""

    stage_id: str
    label: str
    closed: bool = False


@dataclass(frozen=True)
class Pipeline:
    """One ticket pipeline, its stages in display order."""

    pipeline_id: str
    label: str
    stages: tuple[Stage, ...]

    @property
    def first(self) -> Stage:
        """The stage a new ticket starts in."""
        return self.stages[0]


@dataclass(frozen=True)
class Owner:
    """One owner (``GET /crm/v3/owners``); ``owner_id`` is what ``hubspot_owner_id`` holds."""

    owner_id: str
    user_id: int
    first_name: str
    last_name: str
    email: str
    archived: bool = False

    @property
    def source_id(self) -> str:
        """How a change this user made in HubSpot's UI names them (``sourceId``)."""
        return f"userId:{self.user_id}"


PIPELINES: tuple[Pipeline, ...] = (
    Pipeline(
        "0",
        "Support Pipeline",
        (
            Stage("1", "New"),
            Stage("2", "Waiting on contact"),
            Stage("3", "Waiting on us"),
            Stage("4", "Closed", closed=True),
        ),
    ),
    Pipeline(
        "31284719",
        "Billing",
        (
            Stage("31284720", "Received"),
            Stage("31284721", "Investigating"),
            Stage("31284722", "Refund issued", closed=True),
            Stage("31284723", "Rejected", closed=True),
        ),
    ),
)
"""Ticket pipelines in display order."""

OWNERS: tuple[Owner, ...] = (
    Owner("51234567", 7650011, "Ada", "Byron", "ada.byron@example.com"),
    Owner("51234568", 7650012, "Grace", "Hopper", "grace.hopper@example.com"),
    Owner("51234569", 7650013, "Linus", "Pauling", "linus.pauling@example.com"),
    Owner("51234570", 7650014, "Mae", "Jemison", "mae.jemison@example.com"),
    Owner("51234571", 7650015, "Alan", "Kay", "alan.kay@example.com"),
    Owner("51234572", 7650016, "Rosalind", "Franklin", "rosalind.franklin@example.com", True),
)
"""Owners; the last one is archived (listed only with ``archived=true``)."""

WORKFLOWS: dict[str, str] = {
    "workflow:1041": "Assign new tickets round robin",
    "workflow:1042": "Close tickets waiting on contact for 7 days",
    "workflow:1043": "Escalate urgent tickets",
}
"""Workflows, by the ``sourceId`` of their changes (source ``WORKFLOWS``)."""

IMPORTS: dict[str, str] = {
    "import:88102": "legacy-helpdesk-export.csv",
    "import:88245": "billing-disputes-q3.xlsx",
}
"""Imports, by ``sourceId`` (source ``IMPORT``)."""

INTEGRATIONS: dict[str, str] = {
    "app:204817": "Zendesk sync",
    "app:311999": "Stripe billing",
}
"""Connected apps, by ``sourceId`` (source ``INTEGRATION``)."""
