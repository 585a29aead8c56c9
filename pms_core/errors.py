"""The errors services raise.

Every message is safe to show and to log: it names fields, rows, segments and
record ids, never a patient's name, date of birth, member id, address or phone.
"""

from __future__ import annotations

from dataclasses import dataclass


class PmsError(Exception):
    """Base for business errors: the CLI prints the message and exits 1."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `field` is the field name, `code` a stable code."""

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(PmsError):
    """Input that cannot be saved; carries every problem found, not just the first."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    @property
    def fields(self) -> set[str]:
        return {e.field for e in self.errors}


class NotFound(PmsError):
    """A record that does not exist (or is not visible in this practice)."""


class PermissionDenied(PmsError):
    """The acting user's role lacks the permission a service needs."""


class AuthError(PmsError):
    """Login failed or no valid session; the message never says which part was wrong."""


class LedgerError(PmsError):
    """An entry the ledger refuses: unbalanced, empty, or an invalid reversal."""


class DatabaseError(PmsError):
    """The database is missing, unreadable, or at a schema this pms does not know."""


class Conflict(PmsError):
    """The request conflicts with existing data (duplicate key, already reversed)."""
