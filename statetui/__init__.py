"""statetui: the atomic, locked, journaled store for a trading bot's JSON state,
with an audit engine, guided repairs, a headless CLI and a Textual console."""

__version__ = "0.1.0"
