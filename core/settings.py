"""The one settings object, from environment variables (SPEC §4), built lazily."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import ExperimentConfig, MatcherConfig


class Settings(BaseSettings):
    """Engine, storage, tracking and service settings.

    Every field can be set by an environment variable: ``MATCHER_<FIELD>`` unless an alias says
    otherwise (``MLFLOW_TRACKING_URI``); nested ones as ``MATCHER_SERVING__LOAD_PENALTY``.
    """

    model_config = SettingsConfigDict(
        env_prefix="MATCHER_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default=Path(".matcher"), description="State folder (db, mlruns, models).")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite.")
    tracking_uri: str | None = Field(
        default=None, alias="MLFLOW_TRACKING_URI", description="MLflow URI; default SQLite."
    )
    model_uri: str = Field(default="models:/therapist-matcher@champion")
    model_name: str = "therapist-matcher"
    cold_start: bool = Field(
        default=True,
        description="Before any model is registered under the champion alias, rank by the "
        "rules baseline (model_version `rules`) instead of answering 503. Any other URI that "
        "does not resolve is a problem in /readyz either way.",
    )
    store_free_text: bool = Field(default=False, description="Persist intake free text.")
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Requests per key/minute.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    cors_origins: list[str] = Field(default_factory=list, description="Empty = CORS off.")
    serving: MatcherConfig = Field(
        default_factory=MatcherConfig, description="How the engine ranks (API and batch alike)."
    )
    experiment: ExperimentConfig | None = Field(
        default=None,
        description="An experiment defined in the environment (JSON), the same in every "
        "process; one set through `PUT /v1/experiments` (stored in the database) takes "
        "precedence.",
    )
    match_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Matches computed at once per process. Matching is CPU-bound: letting a "
        "few run and the rest queue beats interleaving them all under the GIL (shorter tail).",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    # Production serving (issue 10): processes, cross-process sync, write batching.
    workers: int = Field(default=1, ge=1, le=64, description="Server processes (--workers).")
    sync_interval: float = Field(
        default=0.25,
        gt=0,
        le=60,
        description="Seconds between two polls of the database's change counters: the bound "
        "on how stale another process's therapist, key or model change can be here.",
    )

    @property
    def database(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{(self.home / 'matcher.db').resolve()}"

    @property
    def tracking(self) -> str:
        """The MLflow tracking URI in force."""
        return self.tracking_uri or f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def model_cache(self) -> Path:
        """Where the last good served model is kept, so a restart without MLflow still serves."""
        return self.home / "served-model"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings in force (read from the environment on first use)."""
    return Settings()


__all__ = ["Settings", "get_settings"]
