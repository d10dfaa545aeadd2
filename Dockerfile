# Yardstick service image: locked dependencies built in one stage, a slim non-root runtime in
# the next. The container migrates the registry, then serves (no demo).
# The runtime lock by default (DuckDB, SQLite, PostgreSQL); more engines with
# `docker build --build-arg ENGINES=spark,clickhouse .` (one requirements/engine-<name>.lock each).
FROM python:3.11-slim AS build
ARG ENGINES=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/ requirements/
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/build.lock -r requirements/runtime.lock
RUN for engine in $(echo "$ENGINES" | tr ',' ' '); do \
        test -f "requirements/engine-$engine.lock" || { echo "unknown engine '$engine'" >&2; exit 1; }; \
        /opt/venv/bin/pip install --require-hashes --no-deps -r "requirements/engine-$engine.lock"; \
    done
# The `yardstick` command, installed in place: the runtime stage keeps the sources at this same path.
COPY pyproject.toml ./
COPY app ./app
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation --editable .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    YARDSTICK_ENVIRONMENT=production YARDSTICK_VAR_DIR=/var/lib/yardstick
RUN useradd --system --uid 10001 --home-dir /app yardstick && mkdir -p /var/lib/yardstick && chown yardstick /var/lib/yardstick
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=yardstick alembic.ini ./
COPY --chown=yardstick migrations ./migrations
COPY --chown=yardstick app ./app
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"]
# YARDSTICK_SECRET_KEY and YARDSTICK_DATABASE_URL must be provided; production refuses the default secret.
CMD ["sh", "-c", "yardstick migrate && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --no-access-log"]
