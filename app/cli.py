"""The yardstick command: serve, migrate, demo, keys; plan, apply and export definitions as code."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from app.config import get_settings

cli = typer.Typer(help="Yardstick: the governed library of KPI definitions.", no_args_is_help=True)


def _admin_key_file() -> Path:
    return get_settings().var_dir / "admin.key"


async def _bootstrap_admin() -> str | None:
    from app.audit import service as audit
    from app.auth.service import bootstrap_admin
    from app.db import Database

    settings = get_settings()
    db = Database(settings.database_url, session_info=audit.session_info(settings))
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

    _refuse_unusable_address(host, port)
    migrate()
    keys()
    if with_demo:
        demo()
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    typer.echo(f"Serving on http://{host}:{port} (Swagger UI at /docs)")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers, log_config=None, access_log=False)


def _refuse_unusable_address(host: str, port: int) -> None:
    """Bind host:port as uvicorn will and let it go; a busy port stops here, before any migration."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        typer.echo(f"error: cannot serve on {host}:{port}: {err.strerror or err} (choose another with --port, or make run PORT=...)", err=True)
        raise typer.Exit(1) from None


URL = typer.Option("http://127.0.0.1:8000", "--url", envvar="YARDSTICK_URL", help="the Yardstick server")
KEY = typer.Option(..., "--key", envvar="YARDSTICK_API_KEY", help="an API key (editor of the domains in DIR)")
DIR = typer.Argument(..., exists=True, file_okay=False, help="a directory of YAML definitions")


def _client(url: str, key: str):
    import httpx

    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"})


@contextmanager
def _reported(url: str) -> Iterator[None]:
    """A refused batch or an unreachable server ends the command with lines on stderr and status 1."""
    import httpx

    from app.governance.client import ApplyError

    try:
        yield
    except ApplyError as err:
        for line in err.lines:
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    except httpx.TransportError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        typer.echo(f"error: cannot reach the Yardstick server at {url}: {reason}", err=True)
        raise typer.Exit(1) from None


def _ticking(items, bar):
    for item in items:
        bar.update(1)
        yield item


def _run_batch(directory: Path, url: str, key: str, *, dry_run: bool, note: str = "") -> None:
    from app.governance import client as code

    with _reported(url):
        if len(code.files_in(directory)) > 50:  # large batches get a progress bar while files are read
            with typer.progressbar(length=len(code.files_in(directory)), label="reading definitions", file=sys.stderr) as bar:
                files = code.load(directory, lambda paths: _ticking(paths, bar))
        else:
            files = code.load(directory)
        typer.echo(f"{'planning' if dry_run else 'applying'} {len(files)} definitions as one batch …", err=True)
        with _client(url, key) as http:
            result = code.batch(http, files, dry_run=dry_run, change_note=note)
    for line in code.describe(result):
        typer.echo(line)


@cli.command()
def plan(directory: Path = DIR, url: str = URL, key: str = KEY) -> None:
    """Show what apply would create, change (field by field) or leave alone; writes nothing."""
    _run_batch(directory, url, key, dry_run=True)


@cli.command()
def apply(
    directory: Path = DIR, url: str = URL, key: str = KEY,
    note: str = typer.Option("", "--note", help="change note recorded on every new version"),
) -> None:
    """Apply the directory as one atomic batch: all or nothing; re-running it changes nothing."""
    _run_batch(directory, url, key, dry_run=False, note=note)


@cli.command()
def export(directory: Path = typer.Argument(..., file_okay=False), url: str = URL, key: str = KEY) -> None:
    """Write the library out as YAML files (datasets/<name>.yaml, metrics/<key>.yaml)."""
    from app.governance import client as code

    with _reported(url), _client(url, key) as http:
        count = code.export(http, directory)
    typer.echo(f"exported {count} definitions to {directory}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
