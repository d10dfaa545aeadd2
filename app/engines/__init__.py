"""Run compiled SQL on a source: DuckDB, SQLite, PostgreSQL, ClickHouse, Spark, Trino; timeouts and row caps."""

from app.engines.base import Engine, Result
from app.engines.registry import ENGINES, EnginePool, create_engine, kind_of, target_of

__all__ = ["ENGINES", "Engine", "EnginePool", "Result", "create_engine", "kind_of", "target_of"]
