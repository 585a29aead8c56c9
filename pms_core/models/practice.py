"""The practice and what it bills with: locations, providers, payers."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Practice(SQLModel, table=True):
    """A billing entity. Every practice-owned row carries `practice_id`."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    group_npi: str = Field(max_length=10)
    tin: str = Field(max_length=9, description="EIN, digits only")
    taxonomy: str = Field(max_length=10)
    address1: str = Field(max_length=55)
    address2: str | None = Field(default=None, max_length=55)
    city: str = Field(max_length=30)
    state: str = Field(max_length=2)
    zip: str = Field(max_length=9)
    phone: str | None = Field(default=None, max_length=10)
    time_zone: str = Field(default="America/New_York", max_length=64)


class Location(SQLModel, table=True):
    """A service facility; `default_pos` is the place-of-service code for its claims."""

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str = Field(max_length=60)
    npi: str | None = Field(default=None, max_length=10)
    default_pos: str = Field(default="11", max_length=2)
    address1: str = Field(max_length=55)
    address2: str | None = Field(default=None, max_length=55)
    city: str = Field(max_length=30)
    state: str = Field(max_length=2)
    zip: str = Field(max_length=9)
    phone: str | None = Field(default=None, max_length=10)
    active: bool = Field(default=True)


class Provider(SQLModel, table=True):
    """A rendering/billing clinician."""

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    npi: str = Field(max_length=10)
    taxonomy: str = Field(max_length=10)
    first_name: str = Field(max_length=35)
    last_name: str = Field(max_length=60)
    credential: str | None = Field(default=None, max_length=10)
    active: bool = Field(default=True)


class Payer(SQLModel, table=True):
    """An insurance payer as the practice bills it.

    `claim_filing_indicator` is the X12 SBR09 code (CI commercial, MB Medicare
    part B, MC Medicaid, BL Blue Cross, HM HMO, ...).
    """

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str = Field(max_length=60)
    edi_payer_id: str = Field(max_length=80)
    claim_filing_indicator: str = Field(default="CI", max_length=2)
    address1: str | None = Field(default=None, max_length=55)
    address2: str | None = Field(default=None, max_length=55)
    city: str | None = Field(default=None, max_length=30)
    state: str | None = Field(default=None, max_length=2)
    zip: str | None = Field(default=None, max_length=9)
    phone: str | None = Field(default=None, max_length=10)
    active: bool = Field(default=True)
    # Where its claims go; None: the practice's default clearinghouse.
    clearinghouse_id: int | None = Field(default=None, foreign_key="clearinghouse.id")
