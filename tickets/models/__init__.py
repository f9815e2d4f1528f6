"""Directory (units, categories, appeal types, channels, platforms), the working calendar,
users and roles, calls, tickets and their append-only events.

Writes go through ``tickets.services``; models hold data, constraints and small derived values.

One module per concern; everything is importable from ``tickets.models`` as before.
"""

from .calls import (  # noqa: F401
    AccessAction,
    Call,
    CallerDataAccess,
    CallKind,
)
from .directory import (  # noqa: F401
    AppealType,
    AssessmentGroup,
    CalendarDay,
    CalendarYear,
    Category,
    Channel,
    TimeLimitRule,
    Unit,
    UnitName,
    UpperPlatform,
)
from .dispatch import (  # noqa: F401
    DispatchConfig,
    DispatchModel,
)
from .exchange import (  # noqa: F401
    ExportFormat,
    Notification,
    NotificationKind,
    NotificationStatus,
    OutboxExport,
    OutboxMessage,
    OutboxStatus,
)
from .files import (  # noqa: F401
    Attachment,
    ImportJob,
    ImportKind,
    ImportStatus,
    _random_file_name,
    attachment_upload_to,
    import_upload_to,
)
from .ticket import (  # noqa: F401
    COUNTED_AT,
    OPEN_STATUSES,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    CallbackResult,
    EventType,
    ExtensionRequest,
    HandlingMode,
    RequestStatus,
    ReturnRequest,
    Source,
    Status,
    Supervision,
    SupervisionStatus,
    Ticket,
    TicketEvent,
    TicketSequence,
    Urge,
)
from .users import (  # noqa: F401
    Role,
    User,
)
