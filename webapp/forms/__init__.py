"""One WTForms class per action, one module per area (as the views): auth, users, stores,
cancelling, shipping (ship, tracking correction, corrections), returns, stock, sync. Shared
fields in fields.py."""

from webapp.forms.auth import LoginForm
from webapp.forms.cancelling import CancelForm
from webapp.forms.returns import RefundForm, StartTrackingForm
from webapp.forms.shipping import CancelCorrectionForm, ShipForm, TrackingCorrectionForm
from webapp.forms.stock import StockForm, StockImportForm
from webapp.forms.stores import StoreForm
from webapp.forms.sync import ResolveForm
from webapp.forms.users import UserActiveForm, UserCreateForm, UserRoleForm

__all__ = [
    "CancelCorrectionForm", "CancelForm", "LoginForm", "RefundForm", "ResolveForm",
    "ShipForm", "StartTrackingForm", "StockForm", "StockImportForm", "StoreForm",
    "TrackingCorrectionForm", "UserActiveForm", "UserCreateForm", "UserRoleForm",
]
