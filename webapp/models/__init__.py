"""Typed models by area; importing this package registers every table."""

from webapp.models.audit import AuditEvent
from webapp.models.stores import Environment, Store
from webapp.models.users import Role, User

__all__ = ["AuditEvent", "Environment", "Role", "Store", "User"]
