"""The settings files themselves, without pydantic: YAML layers that remember the line of every
key, merging them, the `ConfigError` every settings problem becomes, and `listen_address`, which
`vorhoelle serve` uses to open its socket before the settings model (pydantic, pydantic-settings,
~0.15 s) is even imported. bot/config/settings.py builds the settings from these layers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.resources import resource_dir

ENV_PREFIX = "VORHOELLE_"


class ConfigError(ValueError):
    """Settings that cannot be used; each problem is one readable line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --- YAML layers that remember where each key was written --------------------------------------


@dataclass
class YamlLayer:
    """One YAML file's settings and the line of every key in it, for error messages."""

    name: str
    data: dict[str, Any]
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest key of `loc` this file writes, or None if it has none."""
        for depth in range(len(loc), 0, -1):
            if loc[:depth] in self.lines:
                return self.lines[loc[:depth]]
        return None


# libyaml, when PyYAML has it, parses ~6x faster than PyYAML's Python parser: the defaults file
# alone took ~20 ms at every start.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_yaml(text: str) -> yaml.Node | None:
    """The YAML node tree; a file libyaml refuses is parsed again in Python, whose error
    messages the ConfigError quotes."""
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text)


def anchors_and_aliases(text: str, name: str) -> list[str]:
    """Every YAML anchor (`&name`) and alias (`*name`, `<<: *name`) in `text`, as problems at
    their lines. Settings never need them, and each alias doubles what a reader of the file
    walks: a few hundred bytes of them ("billion laughs") expand to gigabytes. Found from the
    parser's events, which see each alias once, before anything is expanded."""
    if "&" not in text and "*" not in text:
        return []  # neither can be written without these characters
    found: dict[str, None] = {}  # in order, each line and name once
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.AliasEvent):
                found[f"{name}:{event.start_mark.line + 1}: the YAML alias *{event.anchor} is not allowed "
                      "in settings; write the value out where it is used"] = None
            elif getattr(event, "anchor", None) is not None:
                found[f"{name}:{event.start_mark.line + 1}: the YAML anchor &{event.anchor} is not allowed "
                      "in settings; write the value out where it is used"] = None
            if len(found) == MAX_ALIAS_PROBLEMS:
                return [*found, f"{name}: more anchors and aliases follow; settings files may hold none"]
    except yaml.YAMLError:
        pass  # a syntax error: compose_yaml says where, in the Python parser's words
    return list(found)


MAX_ALIAS_PROBLEMS = 10


def parse_yaml(text: str, name: str) -> YamlLayer:
    """Parse settings YAML; a syntax error, a repeated key, an anchor or an alias, or nesting
    too deep to read is a ConfigError at `name:line`."""
    try:
        return _parse_yaml(text, name)
    except RecursionError:  # PyYAML composes and constructs recursively
        raise ConfigError([f"{name}:{_too_deep_at(text)}: nested too deeply to read; settings are a few "
                           "levels deep"]) from None


DEEP = 64  # where to point when a file nests too deeply to read


def _too_deep_at(text: str) -> int:
    """The line where `text` first nests deeper than DEEP (the parser's events, read flat)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > DEEP:
                    return event.start_mark.line + 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:  # libyaml stops at its own nesting limit
        return exc.problem_mark.line + 1 if exc.problem_mark else 1
    return 1


def _parse_yaml(text: str, name: str) -> YamlLayer:
    try:
        aliased = anchors_and_aliases(text, name)
        if aliased:
            raise ConfigError(aliased)
        root = compose_yaml(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([f"{_where(name, exc)}: YAML syntax error: {exc.problem or exc}"]) from None
    if root is None:
        return YamlLayer(name, {})
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError([f"{name}:{root.start_mark.line + 1}: the top level must be a mapping of settings"])
    lines: dict[tuple[Any, ...], int] = {}
    problems: list[str] = []
    _record_lines(root, (), lines, problems, name)
    if problems:
        raise ConfigError(problems)
    try:
        data = yaml.SafeLoader("").construct_document(root) or {}
    except yaml.MarkedYAMLError as exc:  # a tag safe loading refuses (!!python/...), a bad !!binary
        raise ConfigError([f"{_where(name, exc)}: {exc.problem or exc}"]) from None
    return YamlLayer(name, data, lines)


def _where(name: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    return f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name


def _record_lines(node: yaml.Node, path: tuple[Any, ...], lines: dict, problems: list[str], name: str) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(f"{name}:{key_node.start_mark.line + 1}: a setting's name must be plain text, "
                                "not a list or a mapping")
                continue
            key = path + (key_node.value,)
            if key in lines:
                problems.append(
                    f"{name}:{key_node.start_mark.line + 1}: {'.'.join(map(str, key))} is written "
                    f"twice (first on line {lines[key]}); keep one"
                )
            lines[key] = key_node.start_mark.line + 1
            _record_lines(value_node, key, lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _record_lines(item, path + (index,), lines, problems, name)


def read_yaml_file(path: Path, given_by: str = "") -> YamlLayer:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the settings file{given_by}: {exc.strerror}"]) from None
    return parse_yaml(text, str(path))


def default_config_file() -> Path:
    return resource_dir("config") / "vorhoelle.yml"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge mappings key by key; lists and scalars in `override` replace those in `base`."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """`nest(("a", "b"), 1)` -> `{"a": {"b": 1}}`."""
    for key in reversed(path):
        value = {key: value}
    return value


# --- Which files, and the address `serve` listens on -------------------------------------------


def settings_files(config_file: str | Path | None = None) -> tuple[Path | None, list[YamlLayer]]:
    """The user's settings file (`config_file`, else VORHOELLE_CONFIG, else none) and the YAML
    layers to read, the packaged defaults first."""
    chosen = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG")
    given_by = " given by --config" if config_file else f" given by {ENV_PREFIX}CONFIG"
    user_file = Path(chosen) if chosen else None
    layers = [read_yaml_file(default_config_file())]
    if user_file is not None:
        layers.append(read_yaml_file(user_file, given_by))
    return user_file, layers


PLATFORM_PORT = "PORT"


def platform_port() -> int | None:
    """The port the platform tells the container to listen on (`PORT`: Cloud Run, Knative,
    Heroku), None when it is not set. It comes between `--port` and the settings."""
    value = os.environ.get(PLATFORM_PORT, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise ConfigError([f"{PLATFORM_PORT}={value!r}: not a port (0-65535); unset it or give --port"])
    return int(value)


def listen_address(config_file: str | Path | None, host: str | None, port: int | None) -> tuple[str, int] | None:
    """Where `vorhoelle serve` listens: `host`/`port` from the command line, else the port in
    `PORT`, else `server.host` and `server.port` as the settings will say, read from the same
    files and variables without the settings model. None where only the model can tell (a file
    it would refuse, a value it would convert, the whole section in `VORHOELLE_SERVER`):
    `vorhoelle serve` then loads the settings before listening."""
    try:
        _, layers = settings_files(config_file)
        port = platform_port() if port is None else port
    except ConfigError:
        return None
    server: dict[str, Any] = {}
    for layer in layers:
        section = layer.data.get("server", {})
        if not isinstance(section, dict):
            return None
        server = deep_merge(server, section)
    environment = {name.upper(): value for name, value in os.environ.items()}  # names ignore case
    if f"{ENV_PREFIX}SERVER" in environment:
        return None
    for key in ("host", "port"):
        server[key] = environment.get(f"{ENV_PREFIX}SERVER__{key.upper()}", server.get(key))
    host = host or server["host"]
    port = server["port"] if port is None else port
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if not isinstance(host, str) or not host or type(port) is not int or not 0 <= port <= 65535:
        return None
    return host, port
