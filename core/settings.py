"""The one settings object, from environment variables (SPEC §4), built lazily."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Engine, storage, tracking and service settings.

    Every field can be set by an environment variable: ``MATCHER_<FIELD>`` unless an alias says
    otherwise (``MLFLOW_TRACKING_URI``).
    """

    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore", populate_by_name=True)

    home: Path = Field(default=Path(".matcher"), description="State folder (db, mlruns, models).")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite.")
    tracking_uri: str | None = Field(
        default=None, alias="MLFLOW_TRACKING_URI", description="MLflow URI; default SQLite."
    )
    model_uri: str = Field(default="models:/therapist-matcher@champion")
    model_name: str = "therapist-matcher"
    store_free_text: bool = Field(default=False, description="Persist intake free text.")
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Requests per key/minute.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    cors_origins: list[str] = Field(default_factory=list, description="Empty = CORS off.")
    phase_one_size: int = Field(default=300, ge=10, description="Candidates the full model sees.")
    load_penalty: float = Field(default=0.15, ge=0, description="Load-aware re-rank strength.")
    exposure_mitigation: float = Field(default=0.0, ge=0, le=1, description="0 = off.")
    # safe exploration (issue 8): opt-in; tolerance = relative score gap counted as equivalent
    exploration: bool = Field(default=False, description="Shuffle near-equivalent candidates.")
    exploration_tolerance: float = Field(default=0.02, ge=0, lt=1, description="Relative gap.")
    match_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Matches computed at once per process. Matching is CPU-bound: letting a "
        "few run and the rest queue beats interleaving them all under the GIL (shorter tail).",
    )
    host: str = "127.0.0.1"
    port: int = 8000

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
