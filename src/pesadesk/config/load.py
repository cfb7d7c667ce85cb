"""Reading the configuration: `config.yaml`, then `PESADESK_` variables, then keyword
overrides, into one `Settings`, or one `ConfigError` that lists every problem on a line
of its own, each naming where the bad value came from (the file or the variable).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError

from pesadesk.config.models import FILE_VALUES, Settings
from pesadesk.core.errors import PesadeskError
from pesadesk.secrets import SEALED_PREFIX, SecretKeyError, unseal

CONFIG_ENV = "PESADESK_CONFIG"
DEFAULT_FILE = Path("config.yaml")
ENV_PREFIX = "PESADESK_"
# Errors on values that are never secrets, where showing what was written helps.
SHOW_INPUT = frozenset(
    {
        "literal_error", "int_parsing", "int_from_float", "int_type", "bool_parsing",
        "bool_type", "float_parsing", "greater_than_equal", "less_than_equal",
        "greater_than", "less_than", "string_pattern_mismatch",
    }
)  # fmt: skip


class ConfigError(PesadeskError):
    """Raised when the configuration cannot be used."""

    code = "config_error"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems) or ["the configuration cannot be used"]
        super().__init__("\n".join(self.problems))


def config_path(config_file: str | Path | None = None) -> tuple[Path | None, bool]:
    """The file to read and whether someone named it (then it must exist).

    `--config` first, then `$PESADESK_CONFIG` (set but empty: no file at all), then
    `./config.yaml` if it is there.
    """
    if config_file is not None:
        return Path(config_file), True
    named = os.environ.get(CONFIG_ENV)
    if named is not None:
        return (Path(named), True) if named.strip() else (None, False)
    return DEFAULT_FILE, False


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the file (see `config_path`) and the environment; keyword overrides win.

    Raises ConfigError with every problem found, never a bare ValidationError.
    """
    path, required = config_path(config_file)
    values = read_config_file(path, required=required) if path is not None else {}
    token = FILE_VALUES.set(values)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe(exc, file=path, overrides=overrides)) from None
    except SettingsError as exc:  # a variable holding JSON that does not parse
        raise ConfigError([_unparsed_variable(exc)]) from None
    finally:
        FILE_VALUES.reset(token)
    problems = list(_sealed_secret_problems(settings, file=path))
    if problems:
        raise ConfigError(problems)
    return settings


def serving_problems(settings: Settings) -> list[str]:
    """Why these settings must not take callbacks from Safaricom (CONTRACT §8): real money
    and no way to prove a callback's origin. `serve` and `worker` refuse to start on them."""
    security = settings.security
    real_money = not settings.payments.mpesa.sandbox or any(
        account.sandbox is False for account in settings.payments.accounts
    )
    if not real_money or security.webhooks_protected or security.allow_unprotected_webhooks:
        return []
    return [
        "payments.mpesa.sandbox is false but neither security.webhook_token nor "
        "security.webhook_ip_allowlist is set, so anyone could post a payment callback: "
        "set one (or security.allow_unprotected_webhooks: true to verify every callback)"
    ]


# --- the file --------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (PyYAML would keep
    the last silently, and the first block's keys would be lost)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            continue  # an unhashable key is pydantic's to refuse
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is written twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_config_file(path: Path, *, required: bool) -> dict[str, Any]:
    """The file's mapping; {} for a default file that is not there or an empty file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError([f"{path}: no such config file"]) from None
        return {}
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a config file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read it: {exc.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: not valid YAML{where}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {_first_line(str(exc))}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        found = type(data).__name__.replace("str", "text")
        raise ConfigError([f"{path}: should be keys and values (a mapping), not {found}"])
    return data


# --- what went wrong, one line each ----------------------------------------------------------


def describe(
    exc: ValidationError, *, file: Path | None, overrides: dict[str, Any] | None = None
) -> list[str]:
    """One line per problem: `ORIGIN: key.path[0]: what is wrong`."""
    lines: list[str] = []
    for error in exc.errors():
        loc = error["loc"]
        origin = _origin(loc, file, overrides or {})
        path = dotted(loc)
        for message in _messages(error):
            lines.append(f"{origin}: {path}: {message}" if path else f"{origin}: {message}")
    return lines


def dotted(loc: Sequence[str | int]) -> str:
    """`("security", "webhook_ip_allowlist", 0)` -> `security.webhook_ip_allowlist[0]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _messages(error: ErrorDetails) -> list[str]:
    kind = error["type"]
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"])).splitlines()
    if kind == "extra_forbidden":
        return [_unknown_key(error["loc"])]
    if kind == "missing":
        return ["is required"]
    message = error["msg"]
    message = message[:1].lower() + message[1:]
    if kind in SHOW_INPUT and isinstance(error["input"], str | int | float | bool):
        message += f" (not {error['input']!r})"
    return [message]


def _unknown_key(loc: tuple[str | int, ...]) -> str:
    known = _known_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")


def _known_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the model at `loc` accepts ([] when `loc` leads nowhere)."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _origin(loc: Sequence[str | int], file: Path | None, overrides: dict[str, Any]) -> str:
    """Where the value at `loc` came from, in the order the sources win."""
    keys = [part for part in loc if isinstance(part, str)]
    if keys and keys[0] in overrides:
        return "settings"
    present = {name.upper() for name in os.environ}
    for n in range(len(keys), 0, -1):
        name = ENV_PREFIX + "__".join(key.upper() for key in keys[:n])
        if name in present:
            return name
    if file is not None:
        return str(file)
    return "settings"


def _unparsed_variable(exc: SettingsError) -> str:
    """pydantic-settings names the field, not the variable; name the variable."""
    found = re.search(r'field "(\w+)"', str(exc))
    if found is None:
        return f"environment: {_first_line(str(exc))}"
    name = ENV_PREFIX + found.group(1).upper()
    return f"{name}: not valid JSON (a list or mapping in a variable is written as JSON)"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


# --- sealed secrets --------------------------------------------------------------------------


Loc = tuple[str | int, ...]


def _secrets(model: BaseModel, loc: Loc = ()) -> Iterator[tuple[Loc, SecretStr]]:
    """Every secret in the settings, with where it sits."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = (*loc, name) if index is None else (*loc, name, index)
            if isinstance(item, SecretStr):
                yield where, item
            elif isinstance(item, BaseModel):
                yield from _secrets(item, where)


def _sealed_secret_problems(settings: Settings, *, file: Path | None) -> Iterator[str]:
    """A sealed `enc:` secret that cannot be opened would fail on first use; say so now."""
    for loc, secret in _secrets(settings):
        if not secret.get_secret_value().startswith(SEALED_PREFIX):
            continue
        try:
            unseal(secret)
        except SecretKeyError as exc:
            yield f"{_origin(loc, file, {})}: {dotted(loc)}: {exc}"
