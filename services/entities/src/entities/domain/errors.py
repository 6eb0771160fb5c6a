"""What a decision can refuse: each maps to one problem+json status at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the entities service's refusals."""


class Invalid(DomainError):
    """Values that break the type's rules; every error names its field with a JSON pointer."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} field(s) failed validation")
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> Invalid:
        return cls([{"field": field, "message": message}])


class NotFound(DomainError):
    """No such thing for this tenant (or the caller may not know that it exists)."""


class UnknownEntityType(NotFound):
    """A filter names an entity type (by id or code) the tenant does not have."""


class Conflict(DomainError):
    """The request contradicts the current state (archived type, item in the recycle bin...)."""


class VersionMismatch(DomainError):
    """The caller's If-Match (or expected version) is not the current version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, the current version is {actual}")
        self.expected = expected
        self.actual = actual


class Forbidden(DomainError):
    """The caller may see the thing but not do this to it."""
