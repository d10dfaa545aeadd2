"""Generated contract files (openapi/openapi.json, openapi/schema.graphql): write or check them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi" / "openapi.json"
GRAPHQL = ROOT / "openapi" / "schema.graphql"


def render_openapi() -> str:
    from app.main import create_app

    app = create_app(Settings(database_url="sqlite+aiosqlite:///var/never-opened.db"))  # connects lazily: never
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def render_graphql() -> str:
    from strawberry.printer import print_schema

    from app.api.graphql.schema import schema

    return print_schema(schema) + "\n"


def rendered() -> dict[Path, str]:
    return {OPENAPI: render_openapi(), GRAPHQL: render_graphql()}


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "check"
    stale = [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]
    if mode == "write":
        for path, text in rendered().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        print("contracts written")
        return 0
    for path in stale:
        print(f"{path.relative_to(ROOT)} is out of date: run `make openapi`")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
