"""The documentation pages: Swagger UI at /docs, ReDoc at /redoc and GraphiQL at /graphql, each
loading its scripts from this service (shipped by Python packages), so they work offline.

Also declares the API key in the contract as a bearer security scheme, so Swagger UI has an
Authorize button and sends `Authorization: Bearer <key>` on the operations that need one.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER = "/docs/assets"
# The ReDoc bundle loads its footer logo from `location.pathname + "/logo-mini.svg"`, so its
# assets live under the page's own path.
REDOC = "/redoc"
GRAPHIQL = "/graphql/assets"
NO_FAVICON = "data:,"  # a favicon of no bytes: the browser asks nobody for one

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key: `Authorization: Bearer <key>`. `make run` prints the admin key and stores it in "
    "var/admin.key; `POST /v1/principals` issues more.",
}
PUBLIC = {"security": []}  # openapi_extra of an operation that answers without a key


def _assets(package: str, *parts: str) -> StaticFiles:
    return StaticFiles(directory=str(files(package).joinpath("static", *parts)))


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def require_bearer(app: FastAPI) -> None:
    """Every operation needs the bearer key unless it opts out with `openapi_extra=PUBLIC`."""
    generate = app.openapi

    def openapi() -> dict:
        schema = generate()
        schema.setdefault("components", {})["securitySchemes"] = {"bearer": BEARER_SCHEME}
        schema["security"] = [{"bearer": []}]
        return schema

    app.openapi = openapi


def mount(app: FastAPI) -> None:
    """The /docs and /redoc pages and the assets of all three; create_app() calls it once."""

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{SWAGGER}/swagger-ui-bundle.js", swagger_css_url=f"{root}{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=NO_FAVICON,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{REDOC}/redoc.standalone.js", redoc_favicon_url=NO_FAVICON, with_google_fonts=False,
        )

    app.mount(SWAGGER, _assets("fastapi_standalone_docs", "swagger"), name="swagger-ui-assets")
    app.mount(REDOC, _assets("fastapi_standalone_docs", "redoc"), name="redoc-assets")
    app.mount(GRAPHIQL, _assets("graphene_django_graphiql_static", "graphene_django_graphiql_static"), name="graphiql-assets")


def graphiql_page(request: Request) -> HTMLResponse:
    """The GraphiQL page (GET /graphql in development); its headers editor takes the bearer key."""
    assets = _root(request) + GRAPHIQL
    return HTMLResponse(_GRAPHIQL.replace("{assets}", assets).replace("{favicon}", NO_FAVICON))


_GRAPHIQL = r"""<!doctype html>
<html>
<head>
  <title>Yardstick - GraphiQL</title>
  <link rel="icon" href="{favicon}">
  <link rel="stylesheet" href="{assets}/graphiql.min.css">
  <link rel="stylesheet" href="{assets}/style.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
  <script src="{assets}/react.production.min.js"></script>
  <script src="{assets}/react-dom.production.min.js"></script>
  <script src="{assets}/graphiql.min.js"></script>
  <script src="{assets}/graphiql-plugin-explorer.umd.js"></script>
</head>
<body>
  <div id="graphiql">Loading...</div>
  <script>
    const QUERY = '# Send your API key under Headers: {"Authorization": "Bearer <key>"}\n{ domains { name } }\n';
    const fetcher = GraphiQL.createFetcher({ url: window.location.href.split("?")[0] });
    function Page() {
      const [query, setQuery] = React.useState(QUERY);
      const explorer = GraphiQLPluginExplorer.useExplorerPlugin({ query, onEdit: setQuery });
      return React.createElement(GraphiQL, {
        fetcher, query, onEditQuery: setQuery, plugins: [explorer],
        defaultEditorToolsVisibility: true, isHeadersEditorEnabled: true,
      });
    }
    ReactDOM.render(React.createElement(Page), document.getElementById("graphiql"));
  </script>
</body>
</html>
"""
