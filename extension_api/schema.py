"""JSON Schema (OpenAPI 3.1) generated from the library's result dataclasses.

The Verdict's shape is written once, as typed frozen dataclasses in ``provenance.verdict``; this
turns their type hints into the schema the OpenAPI document serves, so the two cannot drift.
Fields are all required (``to_dict()`` always writes every field); ``X | None`` is nullable,
``list[X]`` an array, a StrEnum its values, a nested dataclass an inline object, and a field's
``Annotated[..., Doc("...")]`` its description. A field with ``metadata={"internal": True}``
is left out (``to_dict()`` leaves it out too).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

from provenance import Doc

_SCALARS: dict[Any, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _schema_of_type(hint: Any, shapes: dict[str, type]) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _schema_of_type(args[0], shapes)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"no schema for the union {hint!r}")
        inner = _schema_of_type(rest[0], shapes)
        return _nullable(inner) if len(rest) < len(args) else inner
    if origin is list:
        return {"type": "array", "items": _schema_of_type(args[0], shapes)}
    if origin is dict or hint is dict:
        return {"type": "object"}
    if hint is Any:
        return {}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [member.value for member in hint]}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return schema_of(hint, shapes)
    raise TypeError(f"no schema for the type {hint!r}")


def schema_of(cls: type, shapes: dict[str, type] | None = None) -> dict[str, Any]:
    """The JSON Schema of a dataclass's ``asdict`` form.

    ``shapes`` names dataclasses for ``dict`` fields that hold one's ``to_dict()`` (by field
    name, e.g. a Verdict's ``watermark``), so those get properties too.
    """
    shapes = shapes or {}
    hints = typing.get_type_hints(cls, include_extras=True)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        hint = hints[f.name]
        if f.name in shapes:
            shape = schema_of(shapes[f.name])
            prop = _schema_of_type(hint, {})
            nullable = prop.get("type") == ["object", "null"]
            prop = _nullable(shape) if nullable else shape
        else:
            prop = _schema_of_type(hint, shapes)
        docs = [m.text for m in getattr(hint, "__metadata__", ()) if isinstance(m, Doc)]
        if docs:
            prop = {**prop, "description": docs[0]}
        properties[f.name] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }
    doc = (cls.__doc__ or "").strip()
    # A dataclass without a docstring gets a generated "Name(field: type, ...)": not a
    # description.
    if doc and not doc.startswith(f"{cls.__name__}("):
        schema["description"] = " ".join(doc.split())
    return schema
