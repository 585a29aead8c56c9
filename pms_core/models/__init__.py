"""All tables. Importing this module registers them on `SQLModel.metadata`."""

from pms_core.models.audit import AuditEvent, AuditHead
from pms_core.models.ledger import JournalEntry, Posting
from pms_core.models.people import Coverage, IntakeItem, Patient
from pms_core.models.practice import Location, Payer, Practice, Provider
from pms_core.models.reminders import (
    MessageTemplate,
    PracticeSetting,
    Reminder,
    ReminderAttempt,
    ReminderReply,
    ReminderRule,
)
from pms_core.models.schedule import (
    Appointment,
    AppointmentSeries,
    AppointmentType,
    AppointmentTypeProvider,
    AvailabilityException,
    AvailabilityTemplate,
    ProviderScheduleSettings,
    Room,
    WaitlistEntry,
    WaitlistOffer,
)
from pms_core.models.security import AuthToken, Role, Setting, User

__all__ = [
    "Appointment",
    "AppointmentSeries",
    "AppointmentType",
    "AppointmentTypeProvider",
    "AuditEvent",
    "AuditHead",
    "AuthToken",
    "AvailabilityException",
    "AvailabilityTemplate",
    "Coverage",
    "IntakeItem",
    "JournalEntry",
    "Location",
    "MessageTemplate",
    "Patient",
    "Payer",
    "Posting",
    "Practice",
    "PracticeSetting",
    "Provider",
    "ProviderScheduleSettings",
    "Reminder",
    "ReminderAttempt",
    "ReminderReply",
    "ReminderRule",
    "Role",
    "Room",
    "Setting",
    "User",
    "WaitlistEntry",
    "WaitlistOffer",
]
