# Yardstick service image: locked dependencies built in one stage, a slim non-root runtime in
# the next. The container migrates the registry, then serves (no demo).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements.lock .
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    YARDSTICK_ENVIRONMENT=production YARDSTICK_VAR_DIR=/var/lib/yardstick
RUN useradd --system --uid 10001 --home-dir /app yardstick && mkdir -p /var/lib/yardstick && chown yardstick /var/lib/yardstick
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=yardstick alembic.ini ./
COPY --chown=yardstick migrations ./migrations
COPY --chown=yardstick app ./app
USER yardstick
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
# YARDSTICK_SECRET_KEY and YARDSTICK_DATABASE_URL must be provided; production refuses the default secret.
CMD ["sh", "-c", "python -m app.cli migrate && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --no-access-log"]
