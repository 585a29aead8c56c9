"""The example Medicare Part B-like payer profile of pms_scrubber, and the plugin's
registration of rules and profiles through the hooks."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from pms_scrubber import medicare
from pms_scrubber.rules import BUILTIN_RULES

from pms_core.claimdata import PayerView
from pms_core.plugins import get_plugin_manager, load_errors
from pms_core.scrub import PayerProfile, ScrubContext, profile_for
from tests.plugins.test_scrubber import (
    MBI,
    MEMBER_ID,
    PHI,
    TODAY,
    dependant,
    institutional,
    keys,
    professional,
    scrub,
    with_dos,
    with_line,
)
from tests.plugins.test_scrubber import (
    medicare as medicare_claim,
)

E = "error"
PROFILE = medicare.PROFILE
ALL_RULES = BUILTIN_RULES + PROFILE.rules


def to_medicare(claim):
    """`claim` sent to the example Medicare payer (with the MBI and Part B indicator)."""
    return replace(
        claim,
        payer=PayerView("Example Medicare Part B", "EXMCR2"),
        subscriber=replace(claim.subscriber, member_id=MBI, claim_filing_indicator="MB"),
    )


def medicare_scrub(claim):
    return scrub(claim, ScrubContext(today=TODAY, profile=PROFILE), rules=ALL_RULES)


def test_clean_medicare_claim_gives_no_findings_with_the_profile_rules():
    assert medicare_scrub(medicare_claim()) == []
    assert medicare_scrub(to_medicare(professional())) == []


def test_medicare_institutional_claim_with_part_a_indicator_is_clean():
    claim = to_medicare(institutional())
    claim = replace(claim, subscriber=replace(claim.subscriber, claim_filing_indicator="MA"))
    assert medicare_scrub(claim) == []


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        pytest.param(
            lambda: medicare_claim(
                subscriber=replace(medicare_claim().subscriber, member_id=MEMBER_ID)
            ),
            {("MCR_MBI_FORMAT", E, "subscriber.member_id", None)},
            id="member id that is not an MBI is an error",
        ),
        pytest.param(
            lambda: medicare_claim(
                subscriber=replace(medicare_claim().subscriber, member_id="1SG4TE5MK73")
            ),
            {("MCR_MBI_FORMAT", E, "subscriber.member_id", None)},
            id="MBI with an excluded letter (S) is an error",
        ),
        pytest.param(
            lambda: to_medicare(dependant()),
            {("MCR_RELATIONSHIP", E, "subscriber.relationship", None)},
            id="patient who is not the subscriber is an error",
        ),
        pytest.param(
            lambda: with_line(medicare_claim(), 1, modifiers=("GA", "59", "GZ")),
            {("MCR_ABN_MODIFIERS", E, "lines[1].modifiers[2]", 2)},
            id="GA and GZ on one line is an error",
        ),
        pytest.param(
            lambda: with_line(medicare_claim(), 3, modifiers=("GY", "GA")),
            {("MCR_ABN_MODIFIERS", E, "lines[3].modifiers[1]", 4)},
            id="GY and GA on one line is an error",
        ),
        pytest.param(
            lambda: with_line(medicare_claim(), 1, modifiers=("U1",)),
            {("MCR_MODIFIER_NOT_ACCEPTED", E, "lines[1].modifiers[0]", 2)},
            id="Medicaid level-of-care modifier is an error",
        ),
        pytest.param(
            lambda: medicare_claim(
                subscriber=replace(medicare_claim().subscriber, claim_filing_indicator="CI")
            ),
            {("MCR_FILING_INDICATOR", E, "subscriber.claim_filing_indicator", None)},
            id="commercial filing indicator is an error",
        ),
        pytest.param(
            lambda: to_medicare(institutional()),
            {("MCR_FILING_INDICATOR", E, "subscriber.claim_filing_indicator", None)},
            id="Part B filing indicator on an 837I is an error",
        ),
    ],
)
def test_medicare_rule_fires_on_its_bad_case(build, expected):
    assert keys(medicare_scrub(build())) == expected


def test_mbi_with_dashes_is_an_error_that_says_so():
    claim = medicare_claim(
        subscriber=replace(medicare_claim().subscriber, member_id="1EG4-TE5-MK73")
    )
    (finding,) = medicare_scrub(claim)
    assert finding.code == "MCR_MBI_FORMAT"
    assert "without dashes" in finding.message


def test_one_abn_modifier_alone_is_fine():
    assert medicare_scrub(with_line(medicare_claim(), 1, modifiers=("GA",))) == []
    assert medicare_scrub(with_line(medicare_claim(), 1, modifiers=("GZ", "59"))) == []


def test_profile_rules_do_not_fire_for_other_payers():
    claim = dependant()  # not an MBI, a dependant, CI indicator: all wrong for Medicare
    claim = with_line(claim, 1, modifiers=("GA", "GZ", "U1"))
    context = ScrubContext(today=TODAY, profile=PROFILE)
    for rule in PROFILE.rules:
        assert list(rule(claim, context)) == [], rule.code


def test_a_medicare_profile_for_other_payer_ids_applies_to_those_ids_only():
    own = medicare.medicare_profile("Example MAC, another region", {"EXMAC7"})
    bad = with_line(dependant(), 1, modifiers=("GA", "GZ", "U1"))
    context = ScrubContext(today=TODAY, profile=own)
    to_own = replace(bad, payer=PayerView("Example MAC", "EXMAC7"))
    assert {f.code for f in scrub(to_own, context, rules=own.rules)} == {
        rule.code for rule in own.rules
    }
    assert scrub(to_medicare(bad), context, rules=own.rules) == []
    assert profile_for([PROFILE, own], "EXMAC7") is own


def test_medicare_messages_carry_no_phi():
    claim = to_medicare(dependant())
    claim = replace(
        claim,
        subscriber=replace(claim.subscriber, member_id=MEMBER_ID, claim_filing_indicator="CI"),
    )
    claim = with_line(claim, 1, modifiers=("GA", "GZ", "U1"))
    findings = medicare_scrub(claim)
    assert {f.code for f in findings} >= {rule.code for rule in PROFILE.rules}
    for finding in findings:
        for value in PHI:
            assert value.lower() not in finding.message.lower(), (finding, value)


def test_profile_for_picks_the_medicare_profile_by_payer_id():
    other = PayerProfile("Example commercial", frozenset({"EXHP01"}))
    profiles = [other, PROFILE]
    assert profile_for(profiles, "EXMCR1") is PROFILE
    assert profile_for(profiles, "EXMCR2") is PROFILE
    assert profile_for(profiles, "EXHP01") is other
    assert profile_for(profiles, "NOSUCH") is None


def test_medicare_profile_is_not_a_default_and_leaves_unknown_payers_to_one():
    fallback = PayerProfile("Core default", default=True)
    assert PROFILE.default is False
    assert profile_for([PROFILE, fallback], "NOSUCH") is fallback
    assert profile_for([PROFILE, fallback], "EXMCR1") is PROFILE


def test_medicare_profile_limits():
    assert PROFILE.payer_ids == frozenset({"EXMCR1", "EXMCR2"})
    assert PROFILE.timely_filing_days == 365
    assert PROFILE.status_inquiry_days == 30


def test_timely_filing_uses_the_medicare_profile_limit():
    claim = with_dos(
        medicare_claim(subscriber=replace(medicare_claim().subscriber, coverage_effective=None)),
        TODAY - timedelta(days=366),
    )
    findings = medicare_scrub(claim)
    assert keys(findings) == {("TIMELY_FILING", E, "lines[0].service_date", 1)}
    assert "365 days" in findings[0].message


# --- the plugin -------------------------------------------------------------------


def registered(hook_name: str) -> list:
    pm = get_plugin_manager()
    assert load_errors(pm) == []
    contributed: list = []
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        if impl.plugin_name == "scrubber":
            impl.function(register=contributed.append)
    return contributed


def test_plugin_registers_every_builtin_rule_through_the_hook():
    rules = registered("register_scrub_rules")
    codes = [rule.code for rule in rules]
    assert codes == [rule.code for rule in BUILTIN_RULES]
    assert len(set(codes)) == len(codes)
    assert {
        "NPI_CHECK_DIGIT",
        "NPI_MISSING",
        "TIN_FORMAT",
        "ICD10_CODE",
        "PROCEDURE_CODE",
        "MODIFIER",
        "DIAGNOSIS_POINTER",
        "SERVICE_DATES",
        "SUBSCRIBER_DATA",
        "DUPLICATE_CLAIM",
        "TIMELY_FILING",
        "BILLING_ADDRESS",
    } <= set(codes)
    for rule in rules:
        assert rule.code == rule.code.upper() and rule.code.replace("_", "").isalnum()
        assert rule.description and "\n" not in rule.description
        assert list(rule(professional(), ScrubContext(today=TODAY))) == []


def test_rules_reach_the_hook_caller_through_the_plugin_manager():
    pm = get_plugin_manager()
    rules: list = []
    pm.hook.register_scrub_rules(register=rules.append)
    assert {rule.code for rule in BUILTIN_RULES} <= {rule.code for rule in rules}


def test_plugin_registers_the_medicare_profile_and_no_default():
    profiles = registered("register_payer_profiles")
    assert profiles == [PROFILE]
    assert not any(p.default for p in profiles)
    pm = get_plugin_manager()
    everything: list = []
    pm.hook.register_payer_profiles(register=everything.append)
    assert profile_for(everything, "EXMCR1") is PROFILE


def test_profile_rule_codes_are_distinct_from_the_builtin_ones():
    builtin = {rule.code for rule in BUILTIN_RULES}
    for rule in PROFILE.rules:
        assert rule.code.startswith("MCR_") and rule.code not in builtin
