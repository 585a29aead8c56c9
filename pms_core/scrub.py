"""The scrub contract: findings, rules and payer profiles.

A scrub rule looks at one `ClaimView` (with a `ScrubContext` for what is not
in the claim itself: today's date, the payer's profile, known duplicates) and
returns findings. Rules come from plugins through `register_scrub_rules`;
payer-specific rules and limits come from payer profiles through
`register_payer_profiles`. A finding with severity "error" blocks submission;
a "warning" does not.

Messages name fields and codes, never PHI: "subscriber.member_id is missing",
not the member id; "diagnosis 3 (E119) is not billable" is fine (a code is not
PHI on its own), a name or a date of birth is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol

from pms_core.claimdata import ClaimView
from pms_core.codes import BUILTIN_MODIFIERS


class Severity(StrEnum):
    ERROR = "error"  # blocks submission
    WARNING = "warning"  # shown; the claim may still go


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with a claim.

    `code` is the rule's stable code (e.g. "NPI_CHECK_DIGIT"); `field` is a path
    into the ClaimView with 0-based indexes ("billing.npi", "lines[2].modifiers[1]"
    is the third line's second modifier); `line` is the service line's own
    number (LX01) when the finding is about one line.
    """

    code: str
    severity: Severity
    field: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class ScrubContext:
    """What rules may know beyond the claim."""

    today: date
    profile: PayerProfile | None = None
    # claim id -> ids of other live claims for the same patient, payer, date of
    # service and procedure codes (computed in bulk by the scrub service).
    duplicates: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    # claim id -> the date the claim (or the original it corrects) was first
    # submitted, when it was; timely filing counts to this date, else today.
    first_submitted: Mapping[int, date] = field(default_factory=dict)
    # Modifiers that are valid (the built-in set plus imported ones).
    modifiers: frozenset[str] = BUILTIN_MODIFIERS
    # CPT/HCPCS codes the practice knows (imported code lists and fee schedule
    # codes); None when no list is loaded, so only the code's shape is checked.
    procedure_codes: frozenset[str] | None = None


class ScrubRule(Protocol):
    """A callable with a `code` (stable, upper case) and a `description`."""

    code: str
    description: str

    def __call__(self, claim: ClaimView, context: ScrubContext) -> Iterable[Finding]: ...


@dataclass(frozen=True)
class Rule:
    """A ScrubRule built from a function: `Rule("TIN_FORMAT", "...", check)`."""

    code: str
    description: str
    check: Callable[[ClaimView, ScrubContext], Iterable[Finding]]

    def __call__(self, claim: ClaimView, context: ScrubContext) -> Iterable[Finding]:
        return self.check(claim, context)


@dataclass(frozen=True)
class PayerProfile:
    """How one payer (or a family of payers) wants its claims.

    `payer_ids` lists the EDI payer ids it applies to; a profile with
    `default=True` applies to payers no other profile names.
    `timely_filing_days` counts from the date of service (the last line's) to
    the first submission. `status_inquiry_days` is when a submitted claim with
    no answer is worth a 276. `rules` are checked in addition to the built-in
    ones for claims to these payers.
    """

    name: str
    payer_ids: frozenset[str] = frozenset()
    timely_filing_days: int = 365
    status_inquiry_days: int = 30
    rules: tuple[ScrubRule, ...] = ()
    default: bool = False


def profile_for(profiles: Iterable[PayerProfile], edi_payer_id: str) -> PayerProfile | None:
    """The profile naming this payer id, else the default profile, else None."""
    fallback = None
    for profile in profiles:
        if edi_payer_id in profile.payer_ids:
            return profile
        if profile.default and fallback is None:
            fallback = profile
    return fallback


def blocks_submission(findings: Iterable[Finding]) -> bool:
    return any(f.severity == Severity.ERROR for f in findings)
