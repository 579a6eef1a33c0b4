"""Saying where a bad setting came from and what to do: one line per pydantic error, naming the
file and line, the environment variable or the keyword argument that gave the value, with "did
you mean" for a misspelt name. Secrets are never quoted back.
"""

from __future__ import annotations

import difflib
import os
from typing import Any, get_args, get_origin

from pydantic import SecretStr

from bot.config.files import ENV_PREFIX, YamlLayer
from bot.config.sources import SECRET_ENV


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def origin(loc: tuple[Any, ...], layers: list[YamlLayer], overrides: dict[str, Any]) -> str:
    """Where the value at `loc` was written, highest layer first (the one that won)."""
    if loc and loc[0] in overrides:
        return f"keyword argument {loc[0]}"
    for name, path in SECRET_ENV.items():
        if loc[: len(path)] == path:
            for variable in (f"{ENV_PREFIX}{name}_FILE", f"{ENV_PREFIX}{name}"):
                if variable in os.environ:
                    return f"environment variable {variable}"
    for depth in range(len(loc), 0, -1):
        variable = ENV_PREFIX + "__".join(str(part) for part in loc[:depth]).upper()
        if variable in os.environ:
            return f"environment variable {variable}"
    for layer in reversed(layers):
        line = layer.line_of(loc)
        if line is not None:
            return f"{layer.name}:{line}"
    return "settings"


def _model_at(loc: tuple[Any, ...]) -> Any:
    """The model class holding the settings at `loc`, or None where the settings are free-form."""
    from bot.config.settings import Settings  # here: Settings is built from what this explains

    model: Any = Settings
    parts = list(loc)
    while parts:
        info = getattr(model, "model_fields", {}).get(parts.pop(0))
        if info is None:
            return None
        annotation = info.annotation
        if get_origin(annotation) in (dict, list):
            if not parts:
                return None
            parts.pop(0)  # the mapping's key or the list's index
            annotation = get_args(annotation)[-1]
        model = next((t for t in (annotation, *get_args(annotation)) if hasattr(t, "model_fields")), None)
    return model


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The setting names allowed at `loc`, for "did you mean"."""
    fields = getattr(_model_at(loc), "model_fields", {})
    return [info.alias or name for name, info in fields.items()]


def is_secret_path(loc: tuple[Any, ...]) -> bool:
    """Whether the setting at `loc` is a secret (typed `SecretStr`)."""
    info = getattr(_model_at(loc[:-1]), "model_fields", {}).get(loc[-1]) if loc else None
    return info is not None and SecretStr in (info.annotation, *get_args(info.annotation))


def explain_error(error: dict[str, Any], layers: list[YamlLayer], overrides: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = origin(loc, layers, overrides)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        guess = difflib.get_close_matches(key, _known_keys(loc[:-1]), n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known: {', '.join(_known_keys(loc[:-1]))}"
        return f"{where}: unknown setting {_dotted(loc)!r}; {hint}"
    if error["type"] == "missing":
        return f"{where}: {_dotted(loc)} is required but not set"
    shown = "" if error["type"] == "value_error" else _shown(error, loc)  # ours name the value
    return f"{where}: {_dotted(loc)}: {message}{shown}{_secret_hint(loc)}"


def _secret_hint(loc: tuple[Any, ...]) -> str:
    """Name the variables that can give the secrets inside `loc`, e.g. an enabled channel."""
    names = [f"{ENV_PREFIX}{name}" for name, path in SECRET_ENV.items() if path[: len(loc)] == loc]
    if not names or len(loc) < 2:
        return ""
    return f" (secrets: set {' or '.join(names)}, or the same names with _FILE)"


def _shown(error: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """The offending input, unless it is (or sits in) a secret."""
    value = error.get("input")
    if is_secret_path(loc) or isinstance(value, (dict, list)) or value is None:
        return ""
    return f" (got {value!r})"
