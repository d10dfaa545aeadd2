"""Settings from the environment (prefix YARDSTICK_), with embedded defaults that work on a laptop."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")
WAREHOUSE_DIR = "warehouse"  # under var/: the demo warehouse, always a source data directory
DEV_SECRET = "dev-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YARDSTICK_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR}/yardstick.db"
    # Encrypts source URLs at rest; any string, stretched into a Fernet key.
    secret_key: str = DEV_SECRET
    # Keys the audit chain's HMACs: the current one signs new events and the head, previous ones
    # only verify older events (rotation, docs/audit.md). Unset, the key is secret_key.
    audit_key: str | None = None
    audit_previous_keys: list[str] = []
    var_dir: Path = VAR_DIR
    max_body_bytes: int = 1_000_000
    page_size_max: int = 500
    query_timeout_seconds: float = 30.0
    query_max_rows: int = 100_000
    # Per source: queries running at once, requests allowed to wait, and how long they wait
    # before a 503 with Retry-After.
    source_max_concurrency: int = 4
    source_max_queue: int = 32
    source_queue_timeout_seconds: float = 1.0
    cache_ttl_seconds: int = 300
    cache_max_entries: int = 2_000
    # Where cached results live: empty for this process, or redis://host:6379/0 shared by replicas.
    cache_url: str | None = None
    # How a replica learns that definitions changed: "local" trusts this process's own writes
    # (one process on an embedded registry); "shared" asks the registry for its newest audit
    # sequence on each query (several replicas); "auto" picks local for SQLite, shared otherwise.
    registry_consistency: Literal["auto", "local", "shared"] = "auto"
    # What sources may reach (comma-separated lists): file sources only under these directories (var/warehouse,
    # the demo's, always); loopback, link-local and private hosts only when named here (a name, an address or
    # a network such as 10.0.0.0/8). The registry itself is never reachable.
    source_data_dirs: Annotated[list[Path], NoDecode] = []
    source_allow_hosts: Annotated[list[str], NoDecode] = []
    # Deliver webhooks from this process; with several replicas, turn it on in one of them.
    webhook_delivery: bool = True
    # Webhook receivers: the same host rule as sources, with their own allow list; redirects are not followed
    # unless turned on (each hop is then checked); one attempt's whole time limit.
    webhook_allow_hosts: Annotated[list[str], NoDecode] = []
    webhook_follow_redirects: bool = False
    webhook_timeout_seconds: float = 10.0
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("source_data_dirs", "source_allow_hosts", "webhook_allow_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and DEV_SECRET in (self.secret_key, self.audit_key):
            raise ValueError("YARDSTICK_SECRET_KEY (and YARDSTICK_AUDIT_KEY, when set) must not be the development secret in production")
        return self

    @property
    def warehouse_dir(self) -> Path:
        return self.var_dir / WAREHOUSE_DIR

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
