"""Typed models by area; importing this package registers every table."""

from webapp.models.audit import AuditEvent
from webapp.models.cancellations import Cancellation, CancellationLine
from webapp.models.day_figures import DayFigures, DayFiguresChange
from webapp.models.differences import ReconcileRun, WalmartDifference
from webapp.models.events import WalmartEvent
from webapp.models.orders import (
    ImportRun,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusDelta,
    SkuStock,
)
from webapp.models.printing import PrintedOrder, PrintKind, PrintRecord
from webapp.models.returns import Refund, Return, ReturnLine, ReturnStatus
from webapp.models.shipments import Shipment, ShipmentLine, ShipmentPackage, TrackingUpload
from webapp.models.stores import Environment, Store
from webapp.models.sync import SyncTask, TaskKind, TaskState
from webapp.models.users import Role, User

__all__ = ["AuditEvent", "Cancellation", "CancellationLine", "DayFigures", "DayFiguresChange",
           "Environment", "ImportRun", "Order", "OrderLine", "OrderStatus", "OrderStatusDelta",
           "PrintKind", "PrintRecord", "PrintedOrder", "ReconcileRun", "Refund", "Return",
           "ReturnLine",
           "ReturnStatus", "Role", "Shipment", "ShipmentLine", "ShipmentPackage", "SkuStock",
           "Store", "SyncTask", "TaskKind", "TaskState", "TrackingUpload", "User",
           "WalmartDifference", "WalmartEvent"]
