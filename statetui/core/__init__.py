"""The core: model, store, backups, journal, pid lock, chain, config.

Nothing in this package imports Textual (tests/test_architecture.py enforces it),
and nothing here imports web3 at module level: chain work imports it lazily."""
