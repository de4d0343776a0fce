"""Storage of the service: SQLAlchemy models, repositories, migrations runner, export."""

from api.storage.audit import Action, AuditRow, audit_page, client_hash, record_access
from api.storage.changes import ChangeRow, Topic, bump, counters
from api.storage.clients import Erased, erase_client
from api.storage.database import Database, normalize_url, open_database
from api.storage.events import Event, EventType, Recorded, record_event
from api.storage.experiments import (
    ArmServed,
    ExperimentRequestRow,
    ExperimentRow,
    ShadowImpressionRow,
    ShadowShown,
)
from api.storage.export import export_database, export_dataset, interaction_records
from api.storage.fairness import load_fairness_inputs
from api.storage.keys import KeyRecord, find_key, list_keys, revoke_key
from api.storage.match_log import Answer, Impression, save_impressions, save_intakes
from api.storage.models import (
    ApiKeyRow,
    Base,
    EventRow,
    ImpressionRow,
    IntakeRow,
    TherapistRow,
)
from api.storage.therapists import (
    PoolChanges,
    delete_therapists,
    get_therapist,
    list_therapists,
    load_pool,
    pool_changes,
    pool_snapshot,
    therapist_records,
    upsert_therapists,
)

__all__ = [
    "Action",
    "Answer",
    "ApiKeyRow",
    "ArmServed",
    "AuditRow",
    "Base",
    "ChangeRow",
    "Database",
    "Erased",
    "Event",
    "EventRow",
    "EventType",
    "ExperimentRequestRow",
    "ExperimentRow",
    "Impression",
    "ImpressionRow",
    "IntakeRow",
    "KeyRecord",
    "PoolChanges",
    "Recorded",
    "ShadowImpressionRow",
    "ShadowShown",
    "TherapistRow",
    "Topic",
    "audit_page",
    "bump",
    "client_hash",
    "counters",
    "delete_therapists",
    "erase_client",
    "export_database",
    "export_dataset",
    "find_key",
    "get_therapist",
    "interaction_records",
    "list_keys",
    "list_therapists",
    "load_fairness_inputs",
    "load_pool",
    "normalize_url",
    "open_database",
    "pool_changes",
    "pool_snapshot",
    "record_access",
    "record_event",
    "revoke_key",
    "save_impressions",
    "save_intakes",
    "therapist_records",
    "upsert_therapists",
]
