"""A deeply nested journal line or state where web3 raised the recursion limit (to 100,000
on import): json's C parser then overflowed the C stack (a segfault of the whole process,
seen in the suite) instead of raising RecursionError. Run in a child: a crash must fail the
test, not the run."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_deep_json_is_refused_not_a_crash_after_web3_raised_the_recursion_limit():
    code = textwrap.dedent("""
        import sys
        import web3  # noqa: F401  (sets the recursion limit to 100,000)
        assert sys.getrecursionlimit() > 1000
        from statetui.core.errors import StateCorruptError
        from statetui.core.journal import parse_entry
        from statetui.core.jsondoc import parse_document
        deep = b"[" * 200000 + b"]" * 200000
        print(parse_entry(deep))
        try:
            parse_document(b'{"a": ' + deep + b'}', "s.json")
        except StateCorruptError as exc:
            print(exc)
        """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert "(None, 'not valid JSON')" in res.stdout and "nested more than 100 levels deep" in res.stdout
