"""Who may do what: the one permission table, and the check every service makes.

Hiding a menu item is never the access control; services call `require()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pms_core.errors import AuthError, PermissionDenied

if TYPE_CHECKING:
    from pms_core.context import Context

ROLES = ("admin", "biller", "frontdesk", "manager", "auditor")

PERMISSIONS: dict[str, str] = {
    "patients:read": "see patient demographics, intake and coverage",
    "patients:write": "register and update patients and their intake",
    "coverages:write": "add and change insurance coverage",
    "eligibility:check": "check insurance eligibility with the payer (270/271)",
    "ledger:read": "see balances and ledger entries",
    "ledger:post": "post and reverse ledger entries",
    "users:read": "list staff users",
    "users:manage": "add, disable and change staff users",
    "practice:manage": "add and change locations, providers, payers and practice settings",
    "audit:read": "read and verify the audit log",
    "schedule:read": "see the schedule, appointments and the waitlist",
    "schedule:write": "book, reschedule, cancel and check in appointments; keep the waitlist",
    "schedule:overbook": "book over another appointment, within the provider's daily limit",
    "schedule:manage": "set up rooms, appointment types, availability and its exceptions",
    "reminders:read": "see reminders and their delivery attempts",
    "reminders:send": "send reminders and change reminder rules, templates and channels",
    "charges:write": "capture encounters, their diagnoses and charges",
    "charges:post": "post charges to the ledger and void posted charges",
    "claims:read": "see claims, their findings, history, batches and acknowledgments",
    "claims:write": "build, scrub, correct and void claims; import and work acknowledgments",
    "claims:submit": "submit claims to clearinghouses and poll them for responses",
    "billing:setup": "keep fee schedules and code lists",
    "payments:post": "import and post remittances, and apply unmatched payments",
    "ledger:writeoff": "write off balances, such as a denied charge the office will not pursue",
    "payments:collect": "take patient payments and copays, and apply patient credits",
    "payments:refund": "refund patient credits and reverse payments that did not stand",
    "statements:run": "run patient statements",
    "reports:read": "run reports and see the dashboard (practice figures and patient balances)",
    "ledger:close": "close a month so that nothing more is posted into it",
    "ledger:reopen": "reopen the latest closed month (with a reason)",
    "data:import": "import patients, insurance, providers, payers, fees, appointments and "
    "opening balances from files",
    "data:export": "export patients, appointments, claims, payments and the ledger to files",
    "data:archive": "export the whole practice (users and the audit log included) to one file",
}

_ALL = frozenset(PERMISSIONS)
_FRONT = frozenset(
    {
        "patients:read",
        "patients:write",
        "coverages:write",
        "eligibility:check",
        "ledger:read",
        "schedule:read",
        "schedule:write",
        "reminders:read",
        "payments:collect",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": _ALL,
    "biller": _FRONT
    | {
        "ledger:post",
        "charges:write",
        "charges:post",
        "claims:read",
        "claims:write",
        "claims:submit",
        "billing:setup",
        "payments:post",
        "statements:run",
        "reports:read",
    },
    "frontdesk": _FRONT | {"schedule:overbook"},
    "manager": frozenset(
        {
            "patients:read",
            "ledger:read",
            "users:read",
            "schedule:read",
            "schedule:manage",
            "reminders:read",
            "claims:read",
            "ledger:writeoff",
            "payments:refund",
            "reports:read",
            "ledger:close",
            "data:export",
        }
    ),
    "auditor": frozenset({"audit:read"}),
}


def role_allows(role: str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def require(ctx: Context, permission: str, *, action: str, patient_id: int | None = None) -> None:
    """Raise unless the acting user may `permission`.

    A refusal is itself audited: the session is rolled back, the denial event is
    committed on its own, then PermissionDenied is raised.
    """
    from pms_core import audit

    user = ctx.user
    if user is None or user.disabled:
        raise AuthError("not logged in; run 'pms login' or set PMS_USER/PMS_PASSWORD")
    if role_allows(user.role, permission):
        return
    ctx.session.rollback()
    ctx.discard_notifications()  # they were for work that was just rolled back
    audit.record(
        ctx,
        action=action,
        outcome="denied",
        patient_id=patient_id,
        detail={"permission": permission},
    )
    ctx.session.commit()
    raise PermissionDenied(f"role '{user.role}' may not {PERMISSIONS[permission]} ({permission})")
