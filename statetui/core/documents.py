"""What a bot may hand the store, turned into the one shape the store writes.

The store accepts a dict, a dataclass instance, a pydantic model or the state load()
returned; anything else is a typed error (never an AttributeError). Loading can hand back
the bot's own type: a dataclass or a pydantic model, with the fields its defaults treat
as required checked (a missing one is a typed error naming it, never a silent None).
Fields the bot's type does not declare are carried through from the file, so a save never
drops them. A save that would change a field's JSON type is refused, naming the field."""

from __future__ import annotations

import dataclasses
from typing import Any

from statetui.core.errors import StateInvalidError, StateTypeError
from statetui.core.jsondoc import json_type


def type_change(old: Any, new: Any, where: str) -> tuple[str, str, str] | None:
    """(field path, old kind, new kind) for the first value whose JSON type changes; null may
    become anything and anything null (a field set or cleared), int and float are one number."""
    a, b = json_type(old), json_type(new)
    if a == "null" or b == "null":
        return None
    if a != b:
        return where, a, b
    if a == "object":
        for key, value in new.items():
            if key in old:
                found = type_change(old[key], value, f"{where}.{key}")
                if found:
                    return found
    return None


def check_types(changes: dict[str, list[Any]], path: str) -> None:
    for key, (old, new) in changes.items():
        found = type_change(old, new, key)
        if found:
            where, a, b = found
            raise StateTypeError(f"{path}: refusing to save {where}: it was a JSON {a}, now a {b} "
                                 "(the bot's own type would change)", path, where)


def to_document(obj: Any, carried: dict[str, Any] | None, path: str) -> dict[str, Any]:
    """A dataclass, a pydantic model or a dict as the JSON object to write. `carried`: the
    document last loaded, whose fields the bot's type does not declare are kept (in place)."""
    from pydantic import BaseModel

    if isinstance(obj, dict):
        doc = obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        doc = {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        doc = _with_carried(doc, carried)
    elif isinstance(obj, BaseModel):
        doc = _with_carried(obj.model_dump(mode="json", by_alias=True), carried)
    else:
        raise StateTypeError(f"{path}: cannot save a {type(obj).__name__}: pass a dict, a dataclass, a pydantic "
                             "model or the state load() returned", path)
    bad = next((k for k in doc if not isinstance(k, str)), None)
    if bad is not None:
        raise StateTypeError(f"{path}: cannot save key {bad!r}: JSON object keys are strings", path, str(bad))
    return doc


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _with_carried(doc: dict[str, Any], carried: dict[str, Any] | None) -> dict[str, Any]:
    """The file's key order first (declared fields and carried unknown ones), then new keys."""
    if not carried:
        return doc
    out: dict[str, Any] = {}
    for key, value in carried.items():
        out[key] = doc[key] if key in doc else value
    for key, value in doc.items():
        if key not in out:
            out[key] = value
    return out


def from_document(model: Any, doc: dict[str, Any], path: str) -> Any:
    """The document as the bot's own type (dict, dataclass or pydantic model)."""
    from pydantic import BaseModel, ValidationError

    if model is dict:
        return doc
    if isinstance(model, type) and dataclasses.is_dataclass(model):
        declared = dataclasses.fields(model)
        for f in declared:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required and f.name not in doc:
                raise StateInvalidError(f"{path}: field {f.name}: missing (required by {model.__name__})", path, field=f.name)
        names = {f.name for f in declared if f.init}
        try:
            return model(**{k: v for k, v in doc.items() if k in names})
        except (TypeError, ValueError) as exc:
            raise StateInvalidError(f"{path}: cannot build {model.__name__}: {exc}", path) from None
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            return model.model_validate(doc)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "$"
            raise StateInvalidError(f"{path}: field {where}: {err['msg']}", path, field=where) from None
    raise StateTypeError(f"{path}: cannot load into {model!r}: use dict, a dataclass or a pydantic model", path)
