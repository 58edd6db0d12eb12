"""journal: the write journal, streamed and filtered; --verify; --prune.

Reads only what it prints: with --limit N (default 20) it reads backwards from the newest
entry until N entries match; with --limit 0 it streams every match oldest first, from the
first sealed segment that can hold --since."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any, Iterator

from statetui.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, error, warn
from statetui.cli.output import non_negative_int, print_json, store_for


def configure_journal(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--limit", type=non_negative_int, default=20, help="newest N entries (0 = all)")
    p.add_argument("--changed", metavar="FIELD|ROLE",
                   help="only entries that changed this top-level field, or this role (cash, peak, halted ...)")
    p.add_argument("--since", metavar="TIME", help="only entries at or after this time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00Z)")
    p.add_argument("--until", metavar="TIME", help="only entries before this time (ISO 8601)")
    p.add_argument("--reason", metavar="TEXT", help="only entries whose reason contains TEXT")
    p.add_argument("--writer", metavar="NAME", help="only entries written by NAME (the program's name)")
    p.add_argument("--verify", action="store_true",
                   help="check every sealed segment's checksum and the summary index against the segments")
    p.add_argument("--rebuild-index", action="store_true",
                   help="--verify: rewrite the summary index from the segments when it disagrees (a cache)")
    p.add_argument("--prune", action="store_true",
                   help="remove sealed segments older than journal_keep_days (says where the evidence then starts)")
    p.add_argument("--yes", action="store_true", help="--prune: do it (without it, only the plan is shown)")


def _iso(text: str | None, flag: str) -> str | None:
    """An ISO time as the journal writes it (UTC, ...Z), for comparing with entries' ts."""
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected an ISO 8601 time (2026-11-01 or 2026-11-01T12:00:00Z)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_journal(args, config) -> int:
    """Every write through the store; money and halt changes shown by role with the bot's own field."""
    try:
        since, until = _iso(args.since, "--since"), _iso(args.until, "--until")
    except ValueError as exc:
        return error(str(exc), EXIT_USAGE)
    store = store_for(config)
    if args.verify:
        return _verify(store, config, args)
    if args.prune:
        return _prune(store, config, args)
    from statetui.core.history import roles_from_journal
    from statetui.core.journal_read import ReadStats

    stats = ReadStats()

    def keep(e: dict[str, Any], diff: dict[str, Any]) -> bool:
        ts = str(e.get("ts", ""))
        if since is not None and _norm(ts) < since or until is not None and _norm(ts) >= until:
            return False
        if args.reason is not None and args.reason not in str(e.get("reason", "")):
            return False
        if args.writer is not None and str(e.get("writer")) != args.writer:
            return False
        return not args.changed or args.changed in (e.get("changes") or {}) or args.changed in diff

    if args.limit:
        entries = _newest(store.journal.path, args.limit, keep, stats, since)
    else:
        entries = _all(store.journal.path, keep, stats, since)
    roles = None
    shown = 0
    out_json: list[dict[str, Any]] = []
    for e, d in entries:
        if args.json:
            out_json.append(e)
            continue
        if roles is None:
            roles = roles_from_journal([e], config.fields)
        _print(e, d, roles)
        shown += 1
    # Oldest first, whichever way they were read: sealed segments by number, then the active journal.
    active = str(store.journal.path)
    bad_lines = sorted(stats.bad, key=lambda b: ((b.file or active) == active, b.file or active, b.number))
    for bad in bad_lines[:5]:  # the journal stays readable: each bad line is named and skipped
        warn(bad.describe(store.journal.path))
    if stats.bad_lines > 5:
        warn(f"{store.journal.path}: {stats.bad_lines - 5} more unreadable line(s) skipped")
    for problem in stats.bad_segments:
        warn(problem)
    if args.json:
        print_json({"journal": str(store.journal.path), "entries": out_json, "unreadable_lines": stats.bad_lines,
                    "bad_lines": [{"line": b.number, "cause": b.cause, "file": b.file} for b in bad_lines],
                    "bad_segments": stats.bad_segments})
    elif not shown:
        print(f"no journal entries in {store.journal.path}" if not (since or until or args.reason or args.writer or args.changed)
              else f"no journal entry matches in {store.journal.path}")
    return EXIT_OK


def _norm(ts: str) -> str:
    """An entry's ts in the same form as _iso's (entries written by the store already are)."""
    if len(ts) == 27 and ts.endswith("Z"):
        return ts
    try:
        return _iso(ts, "ts") or ts
    except ValueError:
        return ts


def _diff(entry: dict[str, Any], before: dict[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    """The recorded roles whose value this entry changed (history.role_changes, one step)."""
    from statetui.core.history import role_changes

    return role_changes(([before] if before is not None else []) + [entry])[-1]


def _newest(path, n, keep, stats, since) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The newest n matches, oldest first, read backwards (each entry's diff needs the one before)."""
    from statetui.core.journal_read import iter_back

    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    waiting: dict[str, Any] | None = None  # the newer entry whose predecessor comes next
    for e in iter_back(path, stats):
        if waiting is not None:
            d = _diff(waiting, e)
            if keep(waiting, d):
                found.append((waiting, d))
                if len(found) >= n:
                    waiting = None
                    break
        waiting = e
        if since is not None and _norm(str(e.get("ts", ""))) < since:
            waiting = None  # everything older is before --since (the clock only moves on)
            break
    if waiting is not None:
        d = _diff(waiting, None)
        if keep(waiting, d):
            found.append((waiting, d))
    return found[::-1]


def _all(path, keep, stats, since) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    from statetui.core.journal_index import list_with_index
    from statetui.core.journal_read import iter_forward

    _segments, metas = list_with_index(path)
    before = None
    for e in iter_forward(path, stats, since=since, metas=metas):
        d = _diff(e, before)
        before = e
        if keep(e, d):
            yield e, d


def _print(e: dict[str, Any], d: dict[str, Any], roles) -> None:
    from statetui.cli.state_verbs import _j

    shown_roles = [f"{r} ({roles.field_name(r)})" if roles.field_name(r) not in (None, r) else r for r in d]
    by_role = [f"{label} {_j(a)}→{_j(b)}" for label, (a, b) in zip(shown_roles, d.values())]
    covered = {top for r in d if (top := (roles.path(r) or "").lstrip("!").split(".")[0])}
    # [None, None]: a key only added or removed with a null value, not a change of value.
    rest = [f"{k} {_j(v[0])}→{_j(v[1])}" for k, v in (e.get("changes") or {}).items()
            if k not in covered and isinstance(v, list) and len(v) == 2 and v != [None, None]]
    print(f"{e.get('ts', '?')}  #{e.get('generation', '?'):<6} {e.get('writer', '?')}[{e.get('pid', '?')}]  "
          f"{e.get('reason', '')}: {', '.join(by_role + rest)}")


def _roles_and_doc(store, config):
    from statetui.core.errors import StatetuiError
    from statetui.core.history import roles_from_journal
    from statetui.core.roles import roles_for

    try:
        doc = store.load()._document()
        return roles_for(config, doc), doc
    except (StatetuiError, OSError):
        return roles_from_journal(store.journal.tail(50), config.fields), None


def _verify(store, config, args) -> int:
    from statetui.core.journal_digest import INDEX_REBUILT, INDEX_STALE, verify

    roles, _doc = _roles_and_doc(store, config)
    problems = verify(store, roles, write=args.rebuild_index and not config.read_only)
    serious = [p for p in problems if not p.endswith((f"({INDEX_REBUILT})", f"({INDEX_STALE})"))]
    if args.json:
        print_json({"journal": str(store.journal.path), "ok": not serious, "problems": problems})
    else:
        for p in problems:
            print(p)
        if not serious:
            print(f"journal verifies: {store.journal.path} and its sealed segments (checksums, entries, summary)")
    return EXIT_ERROR if serious else EXIT_OK


def _prune(store, config, args) -> int:
    from statetui.core.journal_retention import apply_prune, plan_prune

    if not config.journal_keep_days:
        return error("journal_keep_days is 0 (keep every segment): set it in the config to prune", EXIT_USAGE)
    roles, doc = _roles_and_doc(store, config)
    plan = plan_prune(store, config.journal_keep_days, roles, doc)
    lines = plan.describe()
    if args.yes and plan.remove:
        if config.read_only:
            return error("read-only mode: not removing journal segments", EXIT_REFUSED)
        removed = apply_prune(store, plan)
        lines[0] = f"removed {removed} sealed segment(s)"
    elif plan.remove:
        lines.append("(a plan: run again with --yes to remove them)")
    if args.json:
        print_json({"remove": [s.name for s in plan.remove], "starts_at": plan.starts_at, "warnings": plan.warnings,
                    "applied": bool(args.yes and plan.remove)})
    else:
        for line in lines:
            print(line)
    return EXIT_OK
