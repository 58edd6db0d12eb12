"""The Textual console: a thin face over statetui.core, statetui.audit and statetui.repair.

Modules here that do not import Textual (data, fmt, playbook, watch) hold what the
screens show and are usable from tests and benchmarks without starting an app."""
