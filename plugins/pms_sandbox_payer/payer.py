"""What the sandbox payer decides, deterministically from a seed.

Every decision is a roll of SHA-256 over the seed and what identifies the
question (the member id, the claim number), so the same seed gives the same
answers on every machine and in every run, and a different seed a different
office. Eligibility (`answer_inquiry`): a member id that is not 6-20 letters
and digits (hyphens between them allowed) is rejected as invalid (AAA 72); about one member in twelve is
inactive (coverage ended the day before the date of service); the others are
active with a plan, a copay for office visits, 20% coinsurance, and a
deductible and out-of-pocket maximum partly met.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal

from pms_core.eligdata import Benefit, EligibilityAnswer, EligibilityInquiry, Rejection

PLANS = ("SANDBOX PPO", "SANDBOX HMO", "SANDBOX EPO", "SANDBOX HDHP")
COPAYS = (0, 2000, 2500, 3000, 4000)  # office visit copay, by plan roll
# 6 to 20 letters and digits, hyphens between them (a dependent suffix: -01)
MEMBER_ID = re.compile(r"[A-Z0-9](?:-?[A-Z0-9]){5,19}")
INACTIVE_IN_100 = 8


def roll(seed: str, *parts: object) -> int:
    """A deterministic non-negative integer for (seed, parts)."""
    text = "|".join([seed, *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def answer_inquiry(inquiry: EligibilityInquiry, seed: str) -> EligibilityAnswer:
    """The payer's answer about the person one 270 inquiry asks about."""
    member = (inquiry.subscriber.member_id or "").strip().upper()
    dependent = inquiry.dependent is not None
    answer = EligibilityAnswer(inquiry.trace, inquiry.payer_id, member or None, dependent)
    if not MEMBER_ID.fullmatch(member):
        answer.rejections.append(
            Rejection("subscriber", "72", "invalid or missing subscriber/insured id", "C",
                      "please correct and resubmit")
        )  # fmt: skip
        return answer
    r = roll(seed, "eligibility", member)
    day = inquiry.service_date
    plan = PLANS[r % len(PLANS)]
    answer.coverage_from = date(day.year, 1, 1)
    asked = inquiry.service_types
    if r % 100 < INACTIVE_IN_100:  # the plan it was, on the inactive benefit only
        answer.active = False
        answer.coverage_to = day - timedelta(days=1)
        answer.benefits.append(Benefit("6", "inactive", asked, "IND", plan))
        return answer
    answer.active, answer.plan_name = True, plan
    deductible = (50_000, 100_000, 150_000, 300_000)[(r >> 8) % 4]
    met = deductible * ((r >> 16) % 5) // 4  # none, a quarter ... all of it
    out_of_pocket = deductible * 4
    copay = COPAYS[(r >> 24) % len(COPAYS)]
    answer.benefits += [
        Benefit("1", "active coverage", asked, "IND", plan),
        Benefit("B", "copay", ("98",), "IND", period="visit", amount_cents=copay, in_network=True),
        Benefit("A", "coinsurance", ("30",), "IND", percent=Decimal("0.2"), in_network=True),
        Benefit("C", "deductible", ("30",), "IND", period="calendar year",
                amount_cents=deductible, in_network=True),
        Benefit("C", "deductible", ("30",), "IND", period="remaining",
                amount_cents=deductible - met, in_network=True),
        Benefit("G", "out of pocket (stop loss)", ("30",), "IND", period="calendar year",
                amount_cents=out_of_pocket, in_network=True),
        Benefit("G", "out of pocket (stop loss)", ("30",), "IND", period="remaining",
                amount_cents=out_of_pocket - met, in_network=True),
    ]  # fmt: skip
    return answer
