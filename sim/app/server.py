"""Starting the app: Solara's server on the page, told which folders it may use."""

from __future__ import annotations

import os
from pathlib import Path

from sim.app.places import RESULTS, TARGET, AppError

PAGE = str(Path(__file__).with_name("page.py"))


def serve(target: Path | None, results: Path | None, host: str = "127.0.0.1", port: int = 8765, echo=print) -> None:
    """Serve the page for ``target`` (a scenario file or a results folder) until interrupted."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home (read when Solara is imported)
    from solara.__main__ import cli

    if target is not None and not target.exists():
        raise AppError(f"{target}: no such scenario file or results folder")
    if results is not None and not results.is_dir():
        raise AppError(f"{results}: no such results folder")
    os.environ[TARGET] = str(target.resolve()) if target else ""
    os.environ[RESULTS] = str(results.resolve()) if results else ""
    echo(f"negsim app: http://{host}:{port}  (Ctrl+C stops it)")
    quiet = ["--production", "--no-open", "--no-check-version", "--log-level", "warning"]
    cli.main(["run", PAGE, "--host", host, "--port", str(port), *quiet], standalone_mode=False)
