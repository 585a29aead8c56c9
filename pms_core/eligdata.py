"""Eligibility (270/271) as plain data: what an eligibility inquiry asks and
what the payer's answer says, in the terms a front desk uses.

The X12 plugin writes `EligibilityInquiry` as a 270 and reads a 271 into
`EligibilityAnswer`s (one per subscriber or dependent asked about). The core
keeps and compares the answers; it never sees X12.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date | None = None
    sex: str | None = None  # F, M, U
    member_id: str | None = None  # the subscriber's; None for a dependent


@dataclass(frozen=True)
class EligibilityInquiry:
    """One 270 inquiry: about `subscriber`, or about `dependent` on the
    subscriber's plan, for services of `service_types` on `service_date`."""

    trace: str  # TRN02: ours, echoed on the 271
    originator: str  # TRN03: "1" + our TIN (10 characters)
    payer_name: str
    payer_id: str
    provider_name: str  # the practice (organization) or a provider
    provider_npi: str
    subscriber: Person
    service_date: date
    service_types: tuple[str, ...] = ("30",)
    dependent: Person | None = None


@dataclass(frozen=True)
class Benefit:
    """One EB segment in words: what kind of benefit, for which services, how
    much (an amount in cents or a percent), over which period, in or out of
    network (None: not said)."""

    code: str  # EB01
    kind: str  # EB01 in words
    service_types: tuple[str, ...]
    coverage_level: str | None = None  # EB02: IND, FAM, ...
    plan_name: str | None = None  # EB05
    period: str | None = None  # EB06 in words: "calendar year", "remaining", ...
    amount_cents: int | None = None  # EB07
    percent: Decimal | None = None  # EB08, as a fraction (0.2 is 20%)
    in_network: bool | None = None  # EB12
    messages: tuple[str, ...] = ()  # MSG


@dataclass(frozen=True)
class Rejection:
    """An AAA: why the payer could not answer, and what to do."""

    loop: str  # "payer", "provider", "subscriber", "dependent"
    code: str  # AAA03
    reason: str  # AAA03 in words
    action_code: str  # AAA04
    action: str  # AAA04 in words
    position: int | None = None


@dataclass
class EligibilityAnswer:
    """The payer's answer about one person. `active` is True or False when an
    EB said so, None when the answer was a rejection or said neither."""

    trace: str | None  # TRN02 that the payer echoed (ours)
    payer_id: str | None
    member_id: str | None
    dependent: bool
    active: bool | None = None
    plan_name: str | None = None
    coverage_from: date | None = None  # DTP*346/356 (or 291)
    coverage_to: date | None = None  # DTP*347/357
    benefits: list[Benefit] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def _find(self, code: str, service: str, network: bool | None, test) -> Benefit | None:
        """The first benefit of `code` for `service` (or for every service), in
        the network asked about (or not said), that passes `test`."""
        for b in self.benefits:
            if b.code != code or (b.service_types and service not in b.service_types):
                continue
            if network is not None and b.in_network not in (network, None):
                continue
            if test(b):
                return b
        return None

    def copay_cents(self, service: str = "30", *, in_network: bool | None = True) -> int | None:
        b = self._find("B", service, in_network, lambda b: b.amount_cents is not None)
        return b.amount_cents if b else None

    def coinsurance(self, service: str = "30", *, in_network: bool | None = True) -> Decimal | None:
        b = self._find("A", service, in_network, lambda b: b.percent is not None)
        return b.percent if b else None

    def deductible_cents(
        self, service: str = "30", *, remaining: bool = False, in_network: bool | None = True
    ) -> int | None:
        """The deductible for the period (total), or what is left of it."""
        b = self._find("C", service, in_network, lambda b: b.amount_cents is not None
                       and (b.period == "remaining") == remaining)  # fmt: skip
        return b.amount_cents if b else None

    def out_of_pocket_cents(
        self, service: str = "30", *, remaining: bool = False, in_network: bool | None = True
    ) -> int | None:
        b = self._find("G", service, in_network, lambda b: b.amount_cents is not None
                       and (b.period == "remaining") == remaining)  # fmt: skip
        return b.amount_cents if b else None


class EligibilityFormat(Protocol):
    """Writes inquiries and reads answers (the X12 270/271).

    `write` makes one interchange (control number `control`) asking one
    inquiry. `read` returns every answer in a file, None when the file is not
    an answer this format reads, and raises pms_core.edi.X12Error (naming
    the segment, never a value) when it is one but cannot be read."""

    name: str

    def write(
        self,
        inquiry: EligibilityInquiry,
        *,
        sender_id: str,
        receiver_id: str,
        control: int,
        created: datetime,
        production: bool,
    ) -> bytes: ...

    def read(self, data: bytes) -> list[EligibilityAnswer] | None: ...


# --- claim status (276/277) -----------------------------------------------------------
@dataclass(frozen=True)
class StatusInquiry:
    """One claim asked about in a 276."""

    trace: str  # TRN02: ours, echoed on the 277
    claim_number: str  # REF*EJ: our CLM01
    subscriber: Person
    total_cents: int  # AMT*T3
    service_from: date
    service_to: date
    payer_claim_number: str | None = None  # REF*1K, when the payer gave us one
    dependent: Person | None = None


@dataclass(frozen=True)
class StatusRequest:
    """A 276: the claims of one payer, from one provider, asked about at once."""

    payer_name: str
    payer_id: str
    receiver_name: str  # the practice, as the information receiver
    receiver_id: str  # its ETIN with the clearinghouse
    provider_name: str
    provider_npi: str
    claims: tuple[StatusInquiry, ...]


@dataclass
class StatusAnswer:
    """A 277's word on one claim: every STC in words, with the amounts and
    dates it gave, and the lines it spoke about."""

    trace: str | None  # TRN02 (ours)
    claim_number: str | None  # REF*EJ (our CLM01)
    payer_claim_number: str | None = None  # REF*1K
    statuses: list = field(default_factory=list)  # pms_core.edi.ClaimStatus
    total_cents: int | None = None  # STC04
    paid_cents: int | None = None  # STC05
    adjudicated: date | None = None  # STC06
    check_number: str | None = None  # STC09
    service_from: date | None = None
    service_to: date | None = None
    lines: list = field(default_factory=list)  # (procedure code, [ClaimStatus], REF*FJ)
    position: int | None = None


class StatusFormat(Protocol):
    """Writes claim status requests and reads the answers (the X12 276/277).

    `write` makes one interchange (control number `control`) holding one
    request. `read` returns every answer in a file, None when the file is not
    an answer this format reads, and raises pms_core.edi.X12Error (naming the
    segment, never a value) when it is one but cannot be read."""

    name: str

    def write(
        self,
        request: StatusRequest,
        *,
        sender_id: str,
        receiver_id: str,
        control: int,
        created: datetime,
        production: bool,
    ) -> bytes: ...

    def read(self, data: bytes) -> list[StatusAnswer] | None: ...
