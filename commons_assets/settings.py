"""Where the data lives and the few knobs every stage shares."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from upath import UPath

DATA_ROOT_ENV = "COMMONS_DATA"
DEFAULT_DATA_ROOT = "data"

# Pillow refuses images above ~89.5 Mpx by default (Image.MAX_IMAGE_PIXELS) and calls 2x that a
# decompression bomb. Training images are rarely above 50 Mpx; anything larger is quarantined
# before its pixels are decoded, so a forged header cannot exhaust memory.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000


def data_root() -> UPath:
    """The data root: `$COMMONS_DATA`, else `./data`, as an absolute path (run workers may start
    in another directory than the process that loaded the definitions), or an fsspec URL
    (`s3://bucket/commons`: the production profile's object store, docs/scale-out.md)."""
    return as_data_path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT))


def as_data_path(location: str | os.PathLike[str] | UPath) -> UPath:
    """A folder of the data root as a path: local (an absolute `pathlib.Path` underneath) or on
    an fsspec store, with the same methods either way (universal_pathlib)."""
    path = UPath(location)
    if path.protocol in ("", "file", "local"):
        return UPath(Path(path.path).expanduser().resolve())
    return path


class SettingsFileError(ValueError):
    """A settings file says something Commons cannot apply; the message names the file, the
    key and what the key accepts."""


class SettingsModel(BaseModel):
    """A table of a settings file: unknown keys are refused and no value is coerced (TOML's
    "50" or "no" fails at once instead of deep in a run). Validated from JSON, so that TOML
    arrays become tuples and integers are accepted where a number is."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


M = TypeVar("M", bound=SettingsModel)

# What a key accepts, by pydantic's error type, when its field does not say it (description).
EXPECTED = {
    "bool_type": "true or false",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def read_settings_file(
    root: UPath, relative: Path, model: type[M], error: type[SettingsFileError] = SettingsFileError
) -> M | None:
    """The validated settings of `<root>/<relative>`, None when there is no such file. Every
    problem raises `error` naming the file, the key (dotted), what the key accepts and the
    value found (pydantic's own report is left out: it says the same in its terms)."""
    path = root / relative
    if not path.exists():
        return None
    where = relative.as_posix()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise error(f"{where}: {problem}") from None
    try:
        return model.model_validate_json(json.dumps(data, default=str))
    except ValidationError as problem:
        raise error(f"{where}: {describe(problem, model, data)}") from None


def describe(error: ValidationError, model: type[BaseModel], data: dict[str, Any]) -> str:
    """The first problem of a validation error, as a steward reads it."""
    first = error.errors()[0]
    keys, fields = _walk(model, [str(part) for part in first["loc"]])
    where = ".".join(keys)
    kind = first["type"]
    if kind == "extra_forbidden":
        table = fields[-1][1].annotation if fields else model
        known = sorted(inner.model_fields) if (inner := _first_model(table)) else []
        return f"{where}: unknown setting; use one of {known}"
    # A field that says what it accepts speaks for every error inside it (an array's items).
    if fields and fields[-1][1].description:
        depth, field = fields[-1]
        keys, expected = keys[:depth], field.description
        where = ".".join(keys)
    elif kind == "literal_error":
        choices = re.findall(r"'([^']*)'", first.get("ctx", {}).get("expected", ""))
        expected = f"one of {', '.join(choices)}"
    elif kind in BOUNDS:
        expected = f"{BOUNDS[kind]} {next(iter(first.get('ctx', {}).values()))}"
    else:
        expected = EXPECTED.get(kind, first["msg"].lower())
    return f"{where} must be {expected}, not {_value_at(data, keys)!r}"


BOUNDS = {
    "greater_than": "above",
    "greater_than_equal": "at least",
    "less_than": "below",
    "less_than_equal": "at most",
}


def _walk(model: type[BaseModel], loc: list[str]) -> tuple[list[str], list[tuple[int, FieldInfo]]]:
    """An error's location as the file's keys (pydantic's union-member tags left out), and the
    model fields along it with their depth in those keys."""
    keys: list[str] = []
    fields: list[tuple[int, FieldInfo]] = []
    annotation: Any = model
    for part in loc:
        if (values := _container_values(annotation)) is not None:
            keys.append(part)  # a key of a table of tables, an index of an array
            annotation = values
            continue
        current = _first_model(annotation)
        if current is not None and part == current.__name__:
            annotation = current  # the union member pydantic tried
            continue
        if current is None or part not in current.model_fields:
            if "[" not in part:  # not a tag such as literal[False]
                keys.append(part)
            continue
        keys.append(part)
        fields.append((len(keys), current.model_fields[part]))
        annotation = current.model_fields[part].annotation
    return keys, fields


def _container_values(annotation: Any) -> Any:
    """What a dict, list or tuple annotation (optional or not) holds; None for anything else."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _container_values(kept[0]) if len(kept) == 1 else None
    if origin is dict:
        return get_args(annotation)[1]
    if origin in (list, tuple):
        return get_args(annotation)[0]
    return None


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        if found := _first_model(argument):
            return found
    return None


def _value_at(data: Any, loc: list[str]) -> Any:
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data
