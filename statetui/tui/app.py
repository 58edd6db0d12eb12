"""`statetui` with no verb: run the console.

This module stays light (no Textual import) so `run_app` can start reading the state
file, and the startup audit, in a helper process before Textual is imported; the app
itself is statetui.tui.console. `StateTuiApp` is importable from here too."""

from __future__ import annotations

from typing import Any

from statetui.core.config import Config
from statetui.core.errors import ConfigError


def run_app(config: Config, fleet: list[Any] | None = None, bot: str | None = None) -> int:
    """Run the console; on the way out, print where the incident logs were written.
    Losing the terminal at any moment ends it, and everything it started, at once.
    `fleet`: every bot of the config (statetui.core.fleet.Bot). With more than one and no
    `bot` named, the console opens on the fleet screen; otherwise on the dashboard of
    `config` (the named bot's, the fleet under it)."""
    import os

    from statetui.tui import children, prefetch

    # pydantic looks for plugins (observability hooks) by scanning every installed package's
    # metadata (importlib.metadata, email, csv...): ~2 MB and tens of ms the console does
    # not need. A user who wants plugins sets the variable themselves.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    previous = children.install_signal_guard()
    try:
        on_fleet = fleet is not None and len(fleet) > 1 and bot is None
        early = None if on_fleet else prefetch.start(config)  # the fleet reads every bot itself
        from statetui.tui.console import StateTuiApp

        check_console_config(config)
        app = StateTuiApp(config, prefetched=early, fleet=fleet, start_bot=bot)
        code = app.run()
        for path in app.ctx.incident_logs:
            print(f"incident log: {path}")
        return code if isinstance(code, int) else (app.return_code or 0)
    finally:
        children.restore_signals(previous)


def check_console_config(config: Config) -> None:
    """[console] keys name real binding ids, and the theme exists: a one-line error, not
    a key that silently does nothing."""
    if config.keys:
        from statetui.tui.keys import binding_ids  # imports every screen: only when keys are remapped

        known = binding_ids()
        unknown = sorted(k for k in config.keys if k not in known)
        if unknown:
            where = config.config_file or "the config"
            raise ConfigError(f"{where}: [console.keys] unknown binding {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if config.theme:
        from textual.theme import BUILTIN_THEMES as themes

        if config.theme not in themes:
            where = config.config_file or "the config"
            raise ConfigError(f"{where}: [console] theme {config.theme!r} is not a Textual theme "
                              f"(known: {', '.join(sorted(themes))})")


def __getattr__(name: str) -> Any:
    if name == "StateTuiApp":
        from statetui.tui.console import StateTuiApp

        return StateTuiApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["run_app", "check_console_config"]
