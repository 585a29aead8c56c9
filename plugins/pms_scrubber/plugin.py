"""The pms_scrubber plugin: the built-in claim scrub rules and an example payer profile.

`register_scrub_rules` contributes every rule of `pms_scrubber.rules.BUILTIN_RULES`
(NPI, TIN, diagnoses, procedures and modifiers, dates, subscriber data, duplicates,
timely filing and the fields an 837 needs). `register_payer_profiles` contributes
the example Medicare Part B-like profile of `pms_scrubber.medicare` (example payer
ids EXMCR1/EXMCR2); it registers no default profile (see that module for why).
The rules are imported when a hook is called, not when pms starts.
"""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_scrub_rules(register) -> None:
    from pms_scrubber.rules import BUILTIN_RULES

    for rule in BUILTIN_RULES:
        register(rule)


@hookimpl
def register_payer_profiles(register) -> None:
    from pms_scrubber import medicare

    register(medicare.PROFILE)
