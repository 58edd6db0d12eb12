"""Field edits a repair plans and applies, in the bot's own names, types and conventions.

A planned change is (path, before, after) with the bot's own field path. Applying it
checks that the field still holds exactly `before` (same value, same JSON type), so a plan
never writes over a change made after it was shown. Clearing a halt follows the bot's
conventions, learned from its own history (journal and backups): the mode it runs in, and
whether its halt reason is cleared to "" or null."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any, Iterator

from statetui.core.errors import StatetuiError
from statetui.core.jsondoc import json_copy, strict_equal
from statetui.core.money import to_json_number
from statetui.core.roles import MISSING, RoleMap, resolve, set_path, split_path, value_at

DRAWDOWN_WORDS = ("drawdown", "draw down", "draw-down", "peak", "dd ")


def money_change(doc: dict[str, Any], roles: RoleMap, role: str, amount: Decimal) -> tuple[str, Any, Any] | None:
    """The change that sets a single-field money role to `amount` (keeping int vs float)."""
    path = roles.path(role)
    if path is None or "*" in split_path(path):
        return None
    before = value_at(doc, path)
    if before is MISSING:
        return None
    after = to_json_number(amount, before)
    return None if strict_equal(before, after) else (path, before, after)


def is_drawdown_halt(doc: dict[str, Any], roles: RoleMap) -> bool | None:
    """Did the bot halt for its drawdown? True/False from its halt reason; None when it keeps none."""
    reason = roles.text(doc, "halt_reason")
    if reason is None:
        return None
    low = reason.lower() + " "
    return any(w in low for w in DRAWDOWN_WORDS)


def halt_clear_changes(doc: dict[str, Any], roles: RoleMap, history_docs: list[dict[str, Any]]
                       ) -> tuple[list[tuple[str, Any, Any]], str | None]:
    """The changes that clear the bot's halt its own way, or ([], why it cannot be done).
    `history_docs`: earlier states of this bot (journal and backups), newest first."""
    changes: list[tuple[str, Any, Any]] = []
    flag = roles.path("halted")
    if flag is not None and "*" not in split_path(flag.lstrip("!")):
        plain = flag.lstrip("!")
        now = value_at(doc, plain)
        want = flag.startswith("!")  # an inverted flag (trading_enabled) goes back to true
        if isinstance(now, bool) and now != want:
            changes.append((plain, now, want))
    mode_path = roles.path("mode")
    mode = roles.text(doc, "mode")
    if mode_path is not None and mode is not None and mode.strip().lower() in roles.halt_modes:
        running = _running_mode(history_docs, roles)
        if running is None:
            return [], (f"cannot tell which {roles.field_name('mode')} value the bot trades in (no earlier state "
                        "that was not halted): clear the halt in the bot")
        changes.append((mode_path, mode, running))
    reason_path = roles.path("halt_reason")
    reason = value_at(doc, reason_path) if reason_path else MISSING
    if reason_path is not None and reason not in (MISSING, None, ""):
        changes.append((reason_path, reason, _cleared_reason(history_docs, roles, reason)))
    if not changes:
        return [], "the bot keeps no halt flag or mode statetui can clear"
    return changes, None


def _running_mode(history_docs: list[dict[str, Any]], roles: RoleMap) -> str | None:
    for past in history_docs:
        mode = roles.text(past, "mode")
        if mode is not None and mode.strip().lower() not in roles.halt_modes and roles.halted(past) is False:
            return mode
    if roles.path("mode") == "mode" and roles.path("cash") == "current_balance":
        return "normal"  # statetui's own schema (core.model.MODES): it trades in "normal"
    return None


def _cleared_reason(history_docs: list[dict[str, Any]], roles: RoleMap, now: Any) -> Any:
    """How the bot leaves its halt reason when not halted: null or "" (or what it wrote)."""
    path = roles.path("halt_reason")
    for past in history_docs:
        if roles.halted(past) is False:
            value = value_at(past, path)
            if value is None or value == "":
                return value
    return "" if isinstance(now, str) else None  # keeps the field's JSON type


def apply_changes(state: Any, changes: list[tuple[str, Any, Any]], where: str) -> None:
    """Write planned changes into a loaded TradingState, each only if its field still holds
    exactly what the plan showed; otherwise nothing is written (StatetuiError)."""
    doc = state._document()
    for path, before, _after in changes:
        now = value_at(doc, path)
        same = (now is MISSING and before is None) or (now is not MISSING and strict_equal(now, before)
                                                        and type(now) is type(before))
        if not same:
            shown = "absent" if now is MISSING else repr(now)
            raise StatetuiError(f"{where}: {path} changed since the plan was made ({before!r} -> {shown}); "
                                "nothing written, plan again")
    for path, _before, after in changes:
        parts = split_path(path)
        top = parts[0]
        if len(parts) == 1:
            setattr(state, top, after)
            continue
        value = json_copy(getattr(state, top))
        set_path({top: value}, path, after)
        setattr(state, top, value)


def load_for_plan(p: Any, store: Any, config: Any, role: str) -> tuple[dict[str, Any], RoleMap] | None:
    """The state's document and role map for a plan whose repair writes `role`, or None with
    the plan refused: the state unreadable (exit 4), the role not mapped, or spread over a `*`
    path (one figure summed over entries cannot be set as one)."""
    from statetui.core.errors import StateLoadError
    from statetui.core.roles import roles_for

    try:
        doc = store.load()._document()
    except StateLoadError as exc:
        p.refuse(f"the state cannot be read: {exc}", code=4)
        return None
    roles = roles_for(config, doc)
    p.labels = {b.plain_path: r for r, b in roles.bindings.items() if b.path}
    path = roles.path(role)
    if not p.require(path is not None, f"the bot keeps a {role} figure ({roles.field_name(role)})" if path
                     else f"the bot keeps no {role} figure ({roles.hints.get(role, 'statetui fields')})"):
        return None
    if "*" in path:
        p.refuse(f"the {role} is spread over {path}: set each entry in the bot")
        return None
    return doc, roles


def history_docs(store: Any, entries: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """Earlier documents of this bot, newest first: the journal's writes replayed (whole
    documents when it begins at the file's creation, the changed fields otherwise), then the
    backups that verify. Reads every entry given: PastDocs reads from the end, as far as needed."""
    replayed: list[dict[str, Any]] = []
    doc: dict[str, Any] = {}
    for e in entries:
        changes = e.get("changes")
        if isinstance(changes, dict):
            doc = {**doc, **{k: v[1] for k, v in changes.items() if isinstance(v, list) and len(v) == 2}}
            replayed.append(doc)
    return replayed[::-1] + list(_backup_docs(store, limit))


def _backup_docs(store: Any, limit: int) -> Iterator[dict[str, Any]]:
    """The newest `limit` backups' documents, those that verify (each read now)."""
    for b in store.backups.list(verify=False)[:limit]:
        if not store.backups.verify(b).ok:
            continue
        try:
            yield store.parse(store.backups.read(b), str(b.path))._document()
        except (OSError, StatetuiError):
            continue


class PastDocs:
    """history_docs() as halt_clear_changes reads it (the mode, halt flag and halt reason of
    earlier states, newest first), produced only as far as it is iterated: the journal's
    landed writes replayed from its end (statetui.core.journal_replay), then the backups.
    Iterating again replays nothing twice."""

    def __init__(self, store: Any, roles: RoleMap, limit: int = 20):
        from statetui.core.journal_replay import documents_backwards, landed_backwards
        from statetui.core.roles import top_field

        paths = [roles.path(r) for r in ("mode", "halted", "halt_reason")]
        fields = {top_field(p.lstrip("!")) for p in paths if p} - {None}
        journal = documents_backwards(landed_backwards(store.journal.path, store.journal.state_sha()), fields)
        self._source = itertools.chain(journal, _backup_docs(store, limit))
        self._seen: list[dict[str, Any]] = []

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self._seen
        for doc in self._source:
            self._seen.append(doc)
            yield doc


__all__ = ["money_change", "halt_clear_changes", "apply_changes", "is_drawdown_halt", "history_docs", "PastDocs", "resolve"]
