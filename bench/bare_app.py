"""The throughput baseline: a bare FastAPI endpoint answering a fixed JSON body (BENCH_BODY_FILE)."""

from __future__ import annotations

import json
import os

from fastapi import FastAPI
from fastapi.responses import Response


def create_app() -> FastAPI:
    body = open(os.environ["BENCH_BODY_FILE"], "rb").read()
    json.loads(body)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/query")
    async def query() -> Response:
        return Response(body, media_type="application/json")

    return app
