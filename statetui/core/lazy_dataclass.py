"""@dataclass, its methods generated when they are first needed.

A dataclass compiles its __init__, __repr__ and __eq__ from source when its class is
created (~0.3 ms a class, more with many fields). The console unpickles ~15 kinds of view
and record from its prefetch helper before its first paint, and pickle restores an
instance's __dict__ without calling __init__: the console never needs those methods to
show them. A class decorated here is a plain class until one of them is called (the first
instance built in this process, a repr, a comparison, `ensure_dataclass`); then it gets
what `@dataclass(eq=...)` would have given it (its methods and `__dataclass_fields__`:
`fields`, `asdict` and `replace` work). Not for frozen classes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

T = TypeVar("T", bound=type)

_LOCK = threading.Lock()  # two threads building the first two instances: one makes the class
_STAND_INS = "__lazy_dataclass_stand_ins__"


def ensure_dataclass(cls: type) -> type:
    """Make `cls` its dataclass now (asdict and fields need it); a no-op once done."""
    if _STAND_INS not in cls.__dict__:
        return cls
    with _LOCK:
        if _STAND_INS in cls.__dict__:
            names, eq = cls.__dict__[_STAND_INS]
            # The dataclass is made on a twin with the same declaration, and its parts moved
            # onto `cls` one attribute at a time: another thread building an instance
            # meanwhile meets the stand-in __init__ (which waits here) or the real one, never
            # none (removing the stand-ins first, for dataclass to fill in, left a gap).
            made = dataclass(eq=eq)(type(cls.__name__, (), _declaration(cls)))
            for name in ("__dataclass_params__", "__dataclass_fields__", "__match_args__", *names):
                if name in made.__dict__:
                    setattr(cls, name, made.__dict__[name])
            delattr(cls, _STAND_INS)
    return cls


def _declaration(cls: type) -> dict[str, Any]:
    """What @dataclass reads from a class: its annotations, their defaults, where it lives."""
    annotations = cls.__dict__.get("__annotations__", {})
    body = {name: cls.__dict__[name] for name in annotations if name in cls.__dict__}
    return {**body, "__annotations__": annotations, "__module__": cls.__module__, "__qualname__": cls.__qualname__}


def lazy_dataclass(*, eq: bool = True) -> Callable[[T], T]:
    def wrap(cls: T) -> T:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            ensure_dataclass(cls).__init__(self, *args, **kwargs)

        def __repr__(self: Any) -> str:
            return ensure_dataclass(cls).__repr__(self)

        stand_ins: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__}
        if eq:
            def __eq__(self: Any, other: Any) -> Any:
                return ensure_dataclass(cls).__eq__(self, other)

            stand_ins["__eq__"] = __eq__
            stand_ins["__hash__"] = None  # as the dataclass will be: eq without frozen is unhashable
        for name, fn in stand_ins.items():
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} defines {name}: use @dataclass")
            setattr(cls, name, fn)
        setattr(cls, _STAND_INS, (tuple(stand_ins), eq))
        return cls

    return wrap


__all__ = ["lazy_dataclass", "ensure_dataclass"]
