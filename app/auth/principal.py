"""The authenticated caller and what its roles allow."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.auth.models import GLOBAL
from app.errors import Forbidden

DOMAIN_ROLES = ("reader", "editor", "approver")
GLOBAL_ROLES = ("auditor", "admin", "reader")  # a global reader reads every domain (e.g. a BI tool)


@dataclass(frozen=True)
class Caller:
    name: str
    key_id: str
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (role, domain or "*")

    def has(self, role: str, domain: str = GLOBAL) -> bool:
        return (role, domain) in self.grants

    @property
    def is_admin(self) -> bool:
        return self.has("admin")

    @property
    def is_auditor(self) -> bool:
        return self.has("auditor") or self.is_admin

    def can_read(self, domain: str) -> bool:
        if self.is_auditor or self.has("reader"):
            return True
        return any(self.has(role, domain) for role in DOMAIN_ROLES)

    def can_edit(self, domain: str) -> bool:
        return self.is_admin or self.has("editor", domain)

    def readable_domains(self) -> set[str] | None:
        """The domains this caller may read, or None for all of them."""
        if self.is_auditor or self.has("reader"):
            return None
        return {domain for role, domain in self.grants if role in DOMAIN_ROLES}

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this needs the admin role")

    def require_auditor(self) -> None:
        if not self.is_auditor:
            raise Forbidden("this needs the auditor or admin role")

    def require_read(self, domain: str) -> None:
        if not self.can_read(domain):
            raise Forbidden(f"no role in domain '{domain}'", details={"domain": domain})

    def require_edit(self, domain: str) -> None:
        if not self.can_edit(domain):
            raise Forbidden(f"editing needs the editor role in domain '{domain}'", details={"domain": domain})
