"""The HTTP service: a thin FastAPI adapter over the matching engine, with its own storage."""

from api.app import create_app
from api.auth import Principal, Scope, create_api_key, revoke_api_key
from api.engine_port import EngineLoader, MatchEngine
from api.engine_state import EngineState, LoadedEngine
from api.storage import Database, export_database, export_dataset, open_database

__all__ = [
    "Database",
    "EngineLoader",
    "EngineState",
    "LoadedEngine",
    "MatchEngine",
    "Principal",
    "Scope",
    "create_api_key",
    "create_app",
    "export_database",
    "export_dataset",
    "open_database",
    "revoke_api_key",
]
