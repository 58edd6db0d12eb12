"""The machinery under statetui.core.config.Config: a model whose every field is parsed by
one plain function (`Annotated[type, setting(parse)]`), unknown keys refused, assignment
parsed too, and after-checks that see the whole model.

It is what Config used from pydantic, in plain Python: importing pydantic and building the
model cost every `statetui` process ~200 ms of start and ~9 MB it never gives back, which
the console cannot afford (issue 15: first paint <= 1.3x a bare Textual app, 50 MB
resident); the state model (statetui.core.state_model) still uses pydantic. The first problem is
raised as Invalid (its key, the value given, the error); Config turns it into one line."""

from __future__ import annotations

import sys
from typing import Any, Callable


class SettingError(Exception):
    """What a parser raises: kind "setting" (message "expected <form>"; `key` when an
    after-check names the setting at fault) or "plain" (a whole message)."""

    def __init__(self, kind: str, message: str, *, expected: str | None = None, key: str | None = None):
        super().__init__(message)
        self.kind, self.message, self.expected, self.key = kind, message, expected, key


def bad(expected: str) -> SettingError:
    return SettingError("setting", f"expected {expected}", expected=expected)


def plain(message: str) -> SettingError:
    return SettingError("plain", message)


class Invalid(Exception):
    """The first problem: `error` is None for an unknown key."""

    def __init__(self, key: str, value: Any, error: SettingError | None):
        super().__init__(key)
        self.key, self.value, self.error = key, value, error


class Setting:
    """`Annotated[type, setting(parse)]`: the function that turns what was given into the value.
    (Plain classes here, not dataclasses: each of those costs a millisecond of start.)"""

    __slots__ = ("parse",)

    def __init__(self, parse: Callable[[Any], Any]):
        self.parse = parse


def setting(parse: Callable[[Any], Any]) -> Setting:
    return Setting(parse)


class FieldSpec:
    __slots__ = ("name", "parse", "default", "default_factory")

    def __init__(self, name: str, parse: Callable[[Any], Any], default: Any = None,
                 default_factory: Callable[[], Any] | None = None):
        self.name, self.parse, self.default, self.default_factory = name, parse, default, default_factory

    def initial(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default


class _Factory:
    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], Any]):
        self.default_factory = default_factory


def Field(*, default_factory: Callable[[], Any]) -> Any:  # noqa: N802 - reads like the declaration it replaces
    return _Factory(default_factory)


def after_check(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A check of the whole model, run after every construction and assignment."""
    fn.__after_check__ = True  # type: ignore[attr-defined]
    return fn


def _parse_call(spec: FieldSpec, value: Any) -> Any:
    try:
        return spec.parse(value)
    except SettingError as exc:
        raise Invalid(spec.name, value, exc) from None
    except ValueError as exc:  # a parser's own ValueError: said as it is
        raise Invalid(spec.name, value, SettingError("other", f"Value error, {exc}")) from None


class SettingsModel:
    """Fields come from the class's annotations; defaults are never parsed (they are right)."""

    model_fields: dict[str, FieldSpec] = {}
    _after_checks: tuple[Callable[[Any], Any], ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        scope = vars(sys.modules[cls.__module__])
        fields: dict[str, FieldSpec] = {}
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            hint = eval(annotation, scope) if isinstance(annotation, str) else annotation  # noqa: S307 - our own source
            parser = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Setting)), None)
            if parser is None:
                continue
            default = cls.__dict__.get(name)
            if isinstance(default, _Factory):
                fields[name] = FieldSpec(name, parser.parse, default_factory=default.default_factory)
            else:
                fields[name] = FieldSpec(name, parser.parse, default)
            if name in cls.__dict__:
                delattr(cls, name)  # the value lives on the instance; the class keeps no stale default
        cls.model_fields = fields
        cls._after_checks = tuple(f for f in cls.__dict__.values() if getattr(f, "__after_check__", False))

    def __init__(self, **values: Any):
        fields = type(self).model_fields
        parsed = {name: (_parse_call(spec, values[name]) if name in values else spec.initial())
                  for name, spec in fields.items()}
        for key in values:
            if key not in fields:
                raise Invalid(key, values[key], None)
        object.__setattr__(self, "__dict__", parsed)
        self._check_whole()

    def _check_whole(self) -> None:
        for check in type(self)._after_checks:
            try:
                check(self)
            except SettingError as exc:
                raise Invalid(exc.key or "?", None, exc) from None

    def __setattr__(self, name: str, value: Any) -> None:
        spec = type(self).model_fields.get(name)
        if spec is None:
            raise Invalid(name, value, SettingError("other", f"Object has no attribute {name!r}"))
        before = self.__dict__.get(name)
        self.__dict__[name] = _parse_call(spec, value)
        try:
            self._check_whole()
        except Invalid:
            self.__dict__[name] = before
            raise

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        """A shallow copy; `update`'s values are taken as they are (not parsed)."""
        new = object.__new__(type(self))
        object.__setattr__(new, "__dict__", {**self.__dict__, **(update or {})})
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SettingsModel):
            return NotImplemented
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment] - mutable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"
