"""People who use Orderdeck and what they may do."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"        # stores, users, credentials — and everything an operator does
    OPERATOR = "operator"  # ship, cancel, refund, retry
    VIEWER = "viewer"      # read only

    @property
    def label(self) -> str:
        return self.value.capitalize()


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16))
    active: Mapped[bool] = mapped_column(default=True)
    # Flask-Login's id: changing it (deactivation, new password) ends every open session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    def can(self, role: Role) -> bool:
        """True when this user's role includes `role` (admin > operator > viewer)."""
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self.role) >= order.index(role)
