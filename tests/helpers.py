"""Test data builders. All data is synthetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlmodel import Session

from pms_core.models import User
from pms_core.passwords import hash_password
from pms_core.permissions import ROLES
from pms_core.services.practice import (
    create_practice,
    insert_location,
    insert_payer,
    insert_provider,
)

PASSWORD = "correct-horse-9"
PRACTICE_FIELDS = dict(
    name="Maple Family Medicine",
    group_npi="1234567893",
    tin="364512987",
    taxonomy="207Q00000X",
    address1="100 Test Way",
    city="Springfield",
    state="IL",
    zip="627011234",
    time_zone="America/Chicago",
)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class PracticeFixture:
    id: int
    users: dict[str, int] = field(default_factory=dict)  # role -> user id (username = role)
    location_id: int = 0
    provider_id: int = 0
    payer_ids: list[int] = field(default_factory=list)


def make_practice(
    engine, *, name: str = "Maple Family Medicine", prefix: str = ""
) -> PracticeFixture:
    """A practice with a location, a provider, two payers and one user per role,
    named after the role (`prefix` + role), each with password PASSWORD."""
    with Session(engine) as s:
        practice = create_practice(s, **{**PRACTICE_FIELDS, "name": name})
        fx = PracticeFixture(id=practice.id)
        fx.location_id = insert_location(
            s,
            practice.id,
            name="Main Clinic",
            address1="100 Test Way",
            city="Springfield",
            state="IL",
            zip="627011234",
            default_pos="11",
        ).id
        fx.provider_id = insert_provider(
            s,
            practice.id,
            npi="1245319599",
            taxonomy="207Q00000X",
            first_name="Alex",
            last_name="Rivera",
            credential="MD",
        ).id
        for payer_name, edi in (("Acme Health Plan", "ACME1"), ("Lakeside Mutual", "LKSD2")):
            fx.payer_ids.append(insert_payer(s, practice.id, name=payer_name, edi_payer_id=edi).id)
        for role in ROLES:
            # Rows built directly with one cached argon2 hash: hashing five
            # passwords per test would dominate the suite's run time.
            # `services.users.create_user` has its own tests.
            user = User(
                practice_id=practice.id,
                username=f"{prefix}{role}",
                full_name=f"Test {role.title()}",
                role=role,
                password_hash=password_hash(),
            )
            s.add(user)
            s.flush()
            fx.users[role] = user.id
        s.commit()
    return fx
