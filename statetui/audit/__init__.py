"""The audit engine: a registry of checks (no Textual import), each returning a CheckResult."""
