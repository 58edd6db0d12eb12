"""statetui.core.lazy_dataclass: a plain class until a dataclass method is needed, then the
same dataclass @dataclass makes; an instance unpickled before that reads as it was."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
import threading
from dataclasses import asdict, dataclass, field, fields, is_dataclass

import pytest

from statetui.core.lazy_dataclass import ensure_dataclass, lazy_dataclass


def make(eq: bool = True):
    @lazy_dataclass(eq=eq)
    class Rec:
        name: str
        size: int = 0
        tags: list[str] = field(default_factory=list)

        @property
        def big(self) -> bool:
            return self.size > 10

    return Rec


def test_it_is_plain_until_needed_then_the_dataclass_it_declares():
    Rec = make()
    assert not is_dataclass(Rec)
    r = Rec("a", 12)
    assert is_dataclass(Rec)
    assert [f.name for f in fields(Rec)] == ["name", "size", "tags"]
    assert (r.name, r.size, r.tags, r.big) == ("a", 12, [], True)
    assert repr(r).endswith("Rec(name='a', size=12, tags=[])")
    assert Rec("a", 12) == r and Rec("b") != r
    assert Rec.__hash__ is None
    assert Rec("x").tags is not Rec("y").tags  # the factory runs per instance
    with pytest.raises(TypeError):
        Rec()  # the generated __init__'s own check: name is required


def test_eq_false_compares_by_identity_and_hashes():
    Rec = make(eq=False)
    a, b = Rec("a"), Rec("a")
    assert a != b and a == a and len({a, b}) == 2


def test_repr_eq_or_ensure_make_the_class_too():
    Rec = make()
    ghost = Rec.__new__(Rec)  # as pickle makes one: no __init__
    ghost.__dict__.update(name="g", size=1, tags=[])
    assert not is_dataclass(Rec)
    assert repr(ghost).endswith("Rec(name='g', size=1, tags=[])") and is_dataclass(Rec)
    Other = make()
    twin = Other.__new__(Other)
    twin.__dict__.update(name="g", size=1, tags=[])
    assert twin == twin and is_dataclass(Other)
    Third = make()
    ensure_dataclass(Third)
    ensure_dataclass(Third)  # twice: a no-op
    assert is_dataclass(Third) and Third("t").size == 0


def test_a_class_defining_a_generated_method_is_refused():
    with pytest.raises(TypeError, match="defines __repr__"):
        @lazy_dataclass()
        class Bad:
            x: int

            def __repr__(self) -> str:
                return "bad"


def test_first_instances_from_many_threads_make_one_class():
    """Threads released together build the first instances of fresh classes: none may see
    the class half made (an __init__ gone before the dataclass's is in place)."""
    errors: list[BaseException] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns every microsecond: any window shows
    try:
        _build_together(errors)
    finally:
        sys.setswitchinterval(switch)
    assert errors == []


def _build_together(errors: list[BaseException]) -> None:
    for _ in range(60):
        Rec = make()
        barrier = threading.Barrier(8)
        made: list = []

        def build(i: int) -> None:
            barrier.wait()
            try:
                made.append(Rec(str(i), i))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=build, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not errors:
            assert sorted(r.size for r in made) == list(range(8))


def test_an_instance_unpickled_before_the_class_is_made_reads_whole():
    """In a fresh interpreter, as the console receives its first views: the pickle comes
    from another process, so this one never built an instance."""
    from statetui.core.records import PidLockStatus

    blob = pickle.dumps(PidLockStatus(path="/run/bot.pid", exists=True, pid=42, lock_pids=[42], running=True))
    script = textwrap.dedent(f"""
        import json, pickle, sys
        from dataclasses import is_dataclass
        from statetui.core.records import PidLockStatus
        s = pickle.loads({blob!r})
        before = is_dataclass(PidLockStatus)
        out = {{"made before": before, "pid": s.pid, "holder": s.holder_pid, "running": s.running,
                "dict": s.to_dict()["lock_pids"], "made after to_dict": is_dataclass(PidLockStatus),
                "repr": "pid=42" in repr(s)}}
        print(json.dumps(out))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"made before": False, "pid": 42, "holder": 42, "running": True,
                                      "dict": [42], "made after to_dict": True, "repr": True}


@dataclass
class _Eager:
    name: str
    size: int = 0


def test_same_methods_as_the_eager_dataclass():
    @lazy_dataclass()
    class Lazy:
        name: str
        size: int = 0

    lazy, eager = Lazy("a", 1), _Eager("a", 1)
    assert asdict(lazy) == asdict(eager) == {"name": "a", "size": 1}
    assert repr(lazy).split("Lazy", 1)[1] == repr(eager).split("_Eager", 1)[1]
    assert [f.name for f in fields(Lazy)] == [f.name for f in fields(_Eager)]
    assert (Lazy.__hash__, Lazy("a", 1) == Lazy("a", 1)) == (_Eager.__hash__, _Eager("a", 1) == _Eager("a", 1))
