"""What a valid journal looks like (write-ahead: statetui/core/journal.py):

- write entries have increasing generations, every line parses, and a generation is
  missing only where an `aborted` marker says it was attempted;
- an `aborted` marker cancels the write just before it (same generation) or one whose
  line never made it into the file (the next generation);
- consecutive landed entries (journal.landed) chain by prev_sha256, except where the entry
  says why not: the file had been replaced outside the store, or there was no file when
  it was written (a recovery moved a damaged one aside, a fresh init): prev_sha256 None."""

from __future__ import annotations

import hashlib

from statetui.core.journal import landed


def journal_problems(store) -> list[str]:
    scan = store.journal.scan()  # the sealed segments and the active journal
    problems = [f"{scan.bad_lines} unreadable journal line(s)"] if scan.bad_lines else []
    problems += scan.bad_segments  # a sealed segment's bytes must stay the ones its name hashes
    writes = [e["generation"] for e in scan.entries if not e.get("aborted")]
    markers = {e.get("generation") for e in scan.entries if e.get("aborted")}
    if any(b <= a for a, b in zip(writes, writes[1:])):
        problems.append(f"write generations not increasing: {writes[:50]}")
    skipped = sorted(set(range(1, max(writes, default=0) + 1)) - set(writes) - markers)
    if skipped:
        problems.append(f"generations {skipped[:10]} are neither written nor aborted")
    last_write = 0
    for e in scan.entries:
        if not e.get("aborted"):
            last_write = e["generation"]
        elif e.get("generation") not in (last_write, last_write + 1):
            problems.append(f"aborted marker for generation {e.get('generation')} after write {last_write}")
    file_sha = hashlib.sha256(store.path.read_bytes()).hexdigest() if store.path.is_file() else None
    done = landed(scan.entries, file_sha)
    for a, b in zip(done, done[1:]):
        if b.get("prev_sha256") == a["sha256"] or b.get("replaced_outside_write"):
            continue
        if b.get("prev_sha256") is None:
            continue  # the file did not exist when b was written (a recovery, a fresh init)
        problems.append(f"generation {b['generation']}: prev_sha256 is not generation {a['generation']}'s sha "
                        f"and the entry does not say why")
    return problems
