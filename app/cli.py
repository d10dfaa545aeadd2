"""The yardstick command: serve, migrate, demo, keys."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from app.config import get_settings

cli = typer.Typer(help="Yardstick: the governed library of KPI definitions.", no_args_is_help=True)


def _admin_key_file() -> Path:
    return get_settings().var_dir / "admin.key"


async def _bootstrap_admin() -> str | None:
    from app.auth.service import bootstrap_admin
    from app.db import Database

    db = Database(get_settings().database_url)
    try:
        async with db.session(write=True) as session:
            return await bootstrap_admin(session)
    finally:
        await db.dispose()


@cli.command()
def migrate() -> None:
    """Bring the registry database schema up to date."""
    from app.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("registry migrated")


@cli.command()
def keys() -> None:
    """Create the first admin key (once) and store it under var/."""
    key = asyncio.run(_bootstrap_admin())
    path = _admin_key_file()
    if key:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key + "\n")
        os.chmod(path, 0o600)
        typer.echo(f"Created the local admin API key (stored in {path}, shown once here):\n\n    {key}\n")
    elif path.exists():
        typer.echo(f"The local admin API key is in {path}")
    else:
        typer.echo("An admin exists already; ask it for a key.")


@cli.command()
def demo() -> None:
    """Build the demo warehouse (once) and register its source, datasets, metrics."""
    from app.demo.setup import install_demo

    typer.echo(asyncio.run(install_demo(get_settings())))


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000),
    with_demo: bool = typer.Option(True, "--demo/--no-demo", help="build and register the demo library"),
    workers: int = typer.Option(1),
) -> None:
    """Migrate, make sure an admin key exists, install the demo, and serve."""
    import uvicorn

    from app.ops import logs

    migrate()
    keys()
    if with_demo:
        demo()
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    typer.echo(f"Serving on http://{host}:{port} (Swagger UI at /docs)")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers, log_config=None, access_log=False)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
