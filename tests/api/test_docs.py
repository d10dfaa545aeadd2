"""The documentation pages name only assets this service serves, and the contract declares the
bearer key on every operation but the three that answer without one."""

from __future__ import annotations

import re

import httpx
import pytest

from app.main import create_app

PUBLIC = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics")}


def _referenced(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)


@pytest.mark.no_registry
async def test_pages_load_their_assets_from_the_service(settings):
    app = create_app(settings.model_copy(update={"environment": "development"}))  # GraphiQL is on in development
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            for page, marker in (("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc"), ("/graphql", "GraphiQL.createFetcher")):
                answer = await c.get(page, headers={"accept": "text/html"})
                assert answer.status_code == 200 and marker in answer.text, page
                urls = [u for u in _referenced(answer.text) if u != "data:,"]
                assert urls and all(u.startswith("/") for u in urls), (page, urls)
                for url in urls:
                    asset = await c.get(url)
                    assert asset.status_code == 200 and asset.content, (page, url)
    finally:
        await app.state.shutdown()


@pytest.mark.no_registry
async def test_contract_declares_the_bearer_key(app, client):
    spec = app.openapi()
    assert spec["components"]["securitySchemes"]["bearer"] | {"description": ""} == {"type": "http", "scheme": "bearer", "description": ""}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            needs_key = operation.get("security", spec["security"]) == [{"bearer": []}]
            assert needs_key == ((method, path) not in PUBLIC), (method, path)
    for _, path in PUBLIC:
        assert (await client.get(path)).status_code != 401, path
