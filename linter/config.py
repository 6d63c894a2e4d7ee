"""Configuration: ``[tool.winportlint]`` in ``pyproject.toml`` or a ``.winportlint.toml`` (its keys at
the top, or under a ``[tool.winportlint]`` copied from a ``pyproject.toml``).

Found by walking up from the first scanned path; the nearest file wins, and
command-line flags win over it. Paths in it are relative to its folder.
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import os
import posixpath
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network

from .excerpt import excerpt, excerpts_in
from .suppress import WARNING_DAYS, AllowEntry, Policy, parse_date

SEVERITIES = ("info", "low", "medium", "high", "critical")
_KEYS = {"select", "ignore", "severity", "catalog", "os", "exclude", "allow", "inline_ignores", "var_files",
         "fail_on_empty", "require_expiry", "require_owner", "max_exception_days", "exception_warning_days", "fix"}
_ALLOW_KEYS = {"resource", "ports", "rule", "file", "reason", "expires", "owner", "tags", "from"}
_PORTS = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$")


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file."""


@dataclass
class Config:
    path: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: str | None = None
    catalog: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow: tuple[AllowEntry, ...] = ()
    inline_ignores: bool = True
    #: Terraform's environment variable files: ``"auto"`` (every one below a root module that
    #: terraform does not load by itself), a tuple of files, or ``False`` (none).
    var_files: str | bool | tuple[str, ...] = "auto"
    #: A folder named (or ``.``) under which no file is checked is an error, not a note.
    fail_on_empty: bool = False
    #: What every exception must give (``require_expiry``, ``require_owner``, ``max_exception_days``)
    #: and the warning window before an expiry (``exception_warning_days``).
    policy: Policy = Policy()
    #: The admin sources ``winportlint fix`` restricts an exposure to: ``[fix] cidrs`` (each as its
    #: network), ``prefix_list`` (a managed prefix list id) and ``security_group`` (a group id).
    fix_cidrs: tuple[str, ...] = ()
    fix_prefix_list: str = ""
    fix_security_group: str = ""
    folder: str = field(default=".", repr=False)
    #: How messages name the file: ``pyproject.toml [tool.winportlint]``.
    where: str = field(default="", repr=False)

    @property
    def fix_sources(self) -> tuple[str, ...]:
        """The admin sources in the order a restriction request lists them: CIDRs, the prefix
        list, the security group (a format takes the first that fits the rule)."""
        return (*self.fix_cidrs, *filter(None, (self.fix_prefix_list, self.fix_security_group)))

    def excluded(self, path: str) -> bool:
        """Whether a scanned path, or a folder it is in, matches an ``exclude`` pattern (relative to
        the config's folder; ``*`` matches ``/`` too, as in :func:`fnmatch.fnmatch`)."""
        if not self.exclude:
            return False
        relative = _case(os.path.relpath(os.path.abspath(path), self.folder).replace(os.sep, "/"))
        ends = [index for index, char in enumerate(relative) if char == "/"] + [len(relative)]
        return any(self._patterns.match(relative[:end]) for end in ends)

    @functools.cached_property
    def _patterns(self) -> _Patterns:
        return _Patterns(self.exclude)


#: Whether file names are compared without case, as :func:`fnmatch.fnmatch` does here.
_case = str.lower if os.path.normcase("A") == "a" else str


class _Patterns:
    """Many globs matched at once: each pattern compiled once, and only those that may match
    a path tried on it. Literal names are a set; a glob whose first (or else last) path
    component is literal is filed under it, and each file's globs make one regular
    expression, compiled when a path first needs it; the rest make one more."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.literal: set[str] = set()
        self.by_first: dict[str, list[str]] = {}
        self.by_last: dict[str, list[str]] = {}
        self.other: list[str] = []
        for pattern in dict.fromkeys(_case(p.rstrip("/")) for p in patterns):
            head, _, rest = pattern.partition("/")
            start, _, tail = pattern.rpartition("/")
            if not _is_glob(pattern):
                self.literal.add(pattern)
            elif rest and not _is_glob(head):
                self.by_first.setdefault(head, []).append(pattern)
            elif start and not _is_glob(tail):
                self.by_last.setdefault(tail, []).append(pattern)
            else:
                self.other.append(pattern)
        self.compiled: dict[tuple[str, str | None], re.Pattern[str]] = {}

    def match(self, path: str) -> bool:
        if path in self.literal:
            return True
        first, last = path.partition("/")[0], path.rpartition("/")[2]
        return any(self._regex(kind, key, patterns).match(path) for kind, key, patterns in (
            ("first", first, self.by_first.get(first)), ("last", last, self.by_last.get(last)),
            ("other", None, self.other)) if patterns)

    def _regex(self, kind: str, key: str | None, patterns: list[str]) -> re.Pattern[str]:
        compiled = self.compiled.get((kind, key))
        if compiled is None:
            compiled = self.compiled[(kind, key)] = re.compile("|".join(fnmatch.translate(p) for p in patterns))
        return compiled


def _is_glob(text: str) -> bool:
    return any(char in text for char in "*?[")


def find(start: str) -> str | None:
    """The nearest ``.winportlint.toml``, or ``pyproject.toml`` with a ``[tool.winportlint]`` table."""
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        candidate = os.path.join(folder, ".winportlint.toml")
        if _present(candidate):
            return candidate
        candidate = os.path.join(folder, "pyproject.toml")
        if _present(candidate) and _tool_table(_read(candidate), candidate) is not None:
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _present(path: str) -> bool:
    """A file is there (a FIFO or device too: reading it is then an error, never a silent skip)."""
    return os.path.exists(path) and not os.path.isdir(path)


def load(path: str | None) -> Config:
    if path is None:
        return Config()
    document = _read(path)
    if path.endswith("pyproject.toml") or set(document) == {"tool"}:
        table, where = _tool_table(document, path) or {}, _shown(path) + " [tool.winportlint]"
        if not path.endswith("pyproject.toml") and set(document["tool"]) != {"winportlint"}:
            raise ConfigError(f"{where}: unknown key {_keys(set(document['tool']) - {'winportlint'}, 'tool.')} "
                              f"(a .winportlint.toml holds only winportlint's keys: at its top, or under "
                              f"[tool.winportlint])")
    else:
        table, where = document, _shown(path)
        if "tool" in document:
            raise ConfigError(f"{where}: unknown key tool (write winportlint's keys at the top of the file, or "
                              f"all of them under [tool.winportlint], not both)")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {_keys(unknown)} (known: {', '.join(sorted(_KEYS))})")
    folder = os.path.dirname(os.path.abspath(path))
    config = Config(path=path, folder=folder, where=where)
    config.select = _ids(table, "select", where)
    config.ignore = _ids(table, "ignore", where)
    if "severity" in table:
        if table["severity"] not in SEVERITIES:
            raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, "
                              f"not {excerpt(table['severity'])}")
        config.severity = table["severity"]
    config.catalog = tuple(os.path.join(folder, p) for p in _strings(table, "catalog", where))
    config.os = _strings(table, "os", where)
    config.exclude = _strings(table, "exclude", where)
    config.inline_ignores = _boolean(table, "inline_ignores", where, config.inline_ignores)
    config.fail_on_empty = _boolean(table, "fail_on_empty", where, config.fail_on_empty)
    config.policy = Policy(_boolean(table, "require_expiry", where, False),
                           _boolean(table, "require_owner", where, False),
                           _days(table, "max_exception_days", where, None, 1),
                           _days(table, "exception_warning_days", where, WARNING_DAYS, 0))
    config.allow = tuple(_allow(entry, number, where, folder) for number, entry in enumerate(_list(table, "allow", where)))
    config.fix_cidrs, config.fix_prefix_list, config.fix_security_group = _fix(table, where)
    if "var_files" in table:
        value = table["var_files"]
        if value is False or value == "auto":
            config.var_files = value
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            config.var_files = tuple(os.path.join(folder, item) for item in value)
        else:
            raise ConfigError(f'{where}: var_files must be "auto", false or a list of files')
    return config


def _keys(keys: set[str], prefix: str = "") -> str:
    """Unknown keys as a message lists them, each shortened and escaped."""
    return ", ".join(excerpt(prefix + key, quote=False) for key in sorted(keys))


def _boolean(table: dict, key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, not {_kind(value)}")
    return value


def _days(table: dict, key: str, where: str, default: int | None, least: int) -> int | None:
    value = table.get(key, default)
    if value is not default and (type(value) is not int or value < least):
        raise ConfigError(f"{where}: {key} must be a number of days, {least} or more, not "
                          f"{excerpt(value) if type(value) is int else _kind(value)}")
    return value


def _shown(path: str) -> str:
    """The file as messages name it: relative to the working folder, unless above it."""
    shown = os.path.relpath(path)
    return path if shown.startswith("..") else shown


def _tool_table(document: dict, path: str) -> dict | None:
    """A ``pyproject.toml``'s ``[tool.winportlint]``, None when it has none; a ``tool`` or
    ``tool.winportlint`` that is not a table is an error (it cannot mean anything else)."""
    tool = document.get("tool")
    if tool is not None and not isinstance(tool, dict):
        raise ConfigError(f"{_shown(path)}: tool must be a table (write [tool.winportlint]), not {_kind(tool)}")
    table = None if tool is None else tool.get("winportlint")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{_shown(path)}: tool.winportlint must be a table (write [tool.winportlint]), "
                          f"not {_kind(table)}")
    return table


def _kind(value: object) -> str:
    """A TOML value's type as TOML names it."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
             dict: "a table"}
    return names.get(type(value), "a date or time")


def _read(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    from .textfile import NotText, read_text

    try:
        return tomllib.loads(read_text(path))
    except OSError as exc:
        raise ConfigError(f"{_shown(path)}: cannot read: {exc.strerror}") from None
    except NotText as exc:
        raise ConfigError(f"{_shown(path)}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_shown(path)}: invalid TOML: {excerpts_in(str(exc))}") from None
    except RecursionError:  # the parser recurses once per nested array or table
        raise ConfigError(f"{_shown(path)}: invalid TOML: arrays or tables nested too deep") from None


def _list(table: dict, key: str, where: str) -> list:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be a list, not {_kind(value)}")
    return value


def _strings(table: dict, key: str, where: str) -> tuple[str, ...]:
    values = _list(table, key, where)
    if not all(isinstance(v, str) and v for v in values):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(values)


def _ids(table: dict, key: str, where: str) -> tuple[str, ...]:
    values = tuple(v.strip().upper() for v in _strings(table, key, where))
    bad = [v for v in values if not re.fullmatch(r"[A-Z]+[0-9]*", v)]
    if bad:
        raise ConfigError(f"{where}: {key} has {', '.join(map(excerpt, bad))}, which are not check ids or prefixes")
    return values


def _allow(entry: object, number: int, where: str, folder: str) -> AllowEntry:
    label = f"{where}: allow[{number}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{label} must be a table with resource, ports and reason")
    unknown = set(entry) - _ALLOW_KEYS
    if unknown:
        raise ConfigError(f"{label}: unknown key {_keys(unknown)} "
                          f"(known: {', '.join(sorted(_ALLOW_KEYS))})")
    tags = _allow_tags(entry, label)
    resource, reason = entry.get("resource", "*" if tags else None), entry.get("reason")
    if not isinstance(resource, str) or not resource:
        raise ConfigError(f"{label} needs a resource (a logical id or address; * and ? match) or tags")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{label} ({excerpt(resource, quote=False)}) needs a reason")
    ports = None
    if "ports" in entry:
        match = _PORTS.match(str(entry["ports"]))
        low, high = (int(match[1]), int(match[2] or match[1])) if match else (-1, -1)
        if not match or not 0 <= low <= high <= 65535:
            raise ConfigError(f"{label}: ports must be a port or a range such as \"3389\" or \"49152-65535\"")
        ports = (low, high)
    rule = entry.get("rule")
    if rule is not None and (not isinstance(rule, str) or not rule.strip()):  # ids are checked with the plugins
        raise ConfigError(f"{label}: rule must be a check id or a family prefix, such as WPL101 or WPL1")
    file = entry.get("file")
    if file is not None and not isinstance(file, str):
        raise ConfigError(f"{label}: file must be a glob (relative to this file's folder)")
    owner = entry.get("owner", "")
    if not isinstance(owner, str) or "owner" in entry and not owner.strip():
        raise ConfigError(f"{label}: owner must be a name, such as \"platform\"")
    return AllowEntry(resource, ports, reason.strip(), rule.strip().upper() if rule else None,
                      posixpath.normpath(file.replace(os.sep, "/")) if file else None, f"{where} allow[{number}]",
                      folder, owner.strip(), _expires(entry, label), tags=tags,
                      sources=_allow_sources(entry, label))


def _expires(entry: dict, label: str) -> datetime.date | None:
    """An allow entry's ``expires``: a TOML date (``2027-03-31``) or such a date in a string."""
    value = entry.get("expires")
    if value is None or type(value) is datetime.date:
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    shown = excerpt(value) if isinstance(value, str) else _kind(value)
    raise ConfigError(f"{label}: expires must be a date such as 2027-03-31, not {shown}")


def _allow_tags(entry: dict, label: str) -> tuple[tuple[str, str], ...]:
    """An allow entry's ``tags``: a table of strings, as ``(key, value)`` pairs sorted by key."""
    tags = entry.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(value, str) for value in tags.values()) or not tags \
            and "tags" in entry:
        raise ConfigError(f'{label}: tags must be a table of strings, such as {{exposure = "bastion"}}')
    return tuple(sorted(tags.items()))


#: ``[fix]`` ids: the key, the id's prefix and what it names.
_FIX_IDS = {"prefix_list": ("pl", "a managed prefix list id"), "security_group": ("sg", "a security group id")}


def _fix(table: dict, where: str) -> tuple[tuple[str, ...], str, str]:
    """``[fix]``: the admin sources ``cidrs`` (each a CIDR without host bits), ``prefix_list`` and
    ``security_group`` (ids as AWS writes them: the prefix, a dash and 8 or 17 hex digits)."""
    fix = table.get("fix", {})
    if not isinstance(fix, dict):
        raise ConfigError(f'{where}: fix must be a table, such as [tool.winportlint.fix] cidrs = ["203.0.113.0/24"]')
    known = {"cidrs", *_FIX_IDS}
    if set(fix) - known:
        raise ConfigError(f"{where}: fix: unknown key {_keys(set(fix) - known)} (known: {', '.join(sorted(known))})")
    ids = []
    for key, (prefix, names) in _FIX_IDS.items():
        value = fix.get(key, "")
        if key in fix and (not isinstance(value, str)
                           or not re.fullmatch(prefix + r"-(?:[0-9a-f]{8}|[0-9a-f]{17})", value)):
            shown = excerpt(value) if isinstance(value, str) else _kind(value)
            raise ConfigError(f"{where}: fix: {key} must be {names} ({prefix}- and 8 or 17 hex digits, such as "
                              f"{prefix}-0123456789abcdef0), not {shown}")
        ids.append(value)
    cidrs = tuple(str(network) for network in _allow_sources(fix, f"{where}: fix", "cidrs"))
    return cidrs, ids[0], ids[1]


def _allow_sources(entry: dict, label: str, key: str = "from") -> tuple[IPv4Network | IPv6Network, ...]:
    """An allow entry's ``from`` (or the table's ``key``): a list of CIDRs of either family, each
    written as its network."""
    values = entry.get(key, [])
    if not isinstance(values, list) or not values and key in entry:
        raise ConfigError(f'{label}: {key} must be a list of CIDRs, such as ["203.0.113.0/24", "2001:db8::/32"]')
    networks = []
    for value in values:
        try:
            if not isinstance(value, str) or "/" not in value or "%" in value:
                raise ValueError(value)
            networks.append(ip_network(value))
        except ValueError:
            problem = "is not a CIDR (an address, a slash and a prefix length)"
            if isinstance(value, str) and "/" in value and "%" not in value:
                try:
                    problem = f"has host bits set (the network is {ip_network(value, strict=False)})"
                except ValueError:
                    pass
            raise ConfigError(f"{label}: {key}: {excerpt(value)} {problem}") from None
    return tuple(networks)
