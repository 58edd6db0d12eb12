"""`statetui` with no verb: run the console.

This module stays light (no Textual import) so `run_app` can start reading the state
file in a thread before Textual is imported; the app itself is statetui.tui.console.
`StateTuiApp` is importable from here too."""

from __future__ import annotations

from typing import Any

from statetui.core.config import Config


def run_app(config: Config) -> int:
    from statetui.tui import prefetch

    early = prefetch.start(config)
    from statetui.tui.console import StateTuiApp

    app = StateTuiApp(config, prefetched=early)
    code = app.run()
    return code if isinstance(code, int) else (app.return_code or 0)


def __getattr__(name: str) -> Any:
    if name == "StateTuiApp":
        from statetui.tui.console import StateTuiApp

        return StateTuiApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
