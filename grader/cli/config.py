"""`grader config`: where the config, store and cache live, and the settings in effect."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from grader.cli.common import JsonOpt, console, fail, print_json

app = typer.Typer(help="Show where grader keeps its files and the settings in effect (the API key masked).")


def mask(secret: str | None) -> str | None:
    """Enough of a key to tell two apart, never enough to use it."""
    if not secret:
        return None
    return "****" if len(secret) < 12 else f"{secret[:3]}…{secret[-4:]}"


def effective() -> dict:
    from grader.config import ConfigError, config_path, load_settings
    from grader.rubric.cache import _dir as cache_dir
    from grader.store.db import default_db_path

    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc))
    path = config_path()
    key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else None
    llm = settings.llm.model_dump(mode="json", exclude={"api_key"})
    llm["api_key"] = mask(key)
    return {
        "paths": {
            "config": str(path),
            "config_exists": path.exists(),
            "store": str(default_db_path()),
            "cache": str(cache_dir()),
            "extra_rubrics": [p for p in os.environ.get("GRADER_RUBRICS", "").split(os.pathsep) if p],
        },
        "settings": {"judge": settings.judge or "offline", "lang": settings.lang or "auto", "llm": llm},
    }


@app.callback(invoke_without_command=True)
def config_show(
    ctx: typer.Context,
    json_out: JsonOpt = False,
) -> None:
    """Show the config file, store and cache paths, and the effective settings (defaults, then the config file, then GRADER_* variables). The API key is masked."""
    if ctx.invoked_subcommand is not None:
        return
    data = effective()
    if json_out:
        print_json(data)
        return
    out = console()
    p = data["paths"]
    out.print("[bold]paths[/bold]")
    out.print(f"  config   {p['config']}" + ("" if p["config_exists"] else "  (not created; defaults in use)"), highlight=False)
    out.print(f"  store    {p['store']}", highlight=False)
    out.print(f"  cache    {p['cache']}", highlight=False)
    for d in p["extra_rubrics"]:
        out.print(f"  rubrics  {d}", highlight=False)
    s = data["settings"]
    out.print("[bold]settings[/bold]")
    out.print(f"  judge    {s['judge']}", highlight=False)
    out.print(f"  lang     {s['lang']}", highlight=False)
    for k, v in s["llm"].items():
        out.print(f"  llm.{k:<22} {'—' if v is None else v}", highlight=False)


@app.command("path")
def config_path_cmd(
    what: Annotated[str, typer.Argument(help="config, store or cache.")] = "config",
) -> None:
    """Print one path, for scripts: `$EDITOR "$(grader config path)"`."""
    paths = effective()["paths"]
    if what not in ("config", "store", "cache"):
        fail(f"unknown path {what!r}; choose config, store or cache")
    typer.echo(paths[what])
