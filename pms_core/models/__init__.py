"""All tables. Importing this module registers them on `SQLModel.metadata`."""

from pms_core.models.audit import AuditEvent, AuditHead
from pms_core.models.ledger import JournalEntry, Posting
from pms_core.models.people import Coverage, IntakeItem, Patient
from pms_core.models.practice import Location, Payer, Practice, Provider
from pms_core.models.security import AuthToken, Role, Setting, User

__all__ = [
    "AuditEvent",
    "AuditHead",
    "AuthToken",
    "Coverage",
    "IntakeItem",
    "JournalEntry",
    "Location",
    "Patient",
    "Payer",
    "Posting",
    "Practice",
    "Provider",
    "Role",
    "Setting",
    "User",
]
