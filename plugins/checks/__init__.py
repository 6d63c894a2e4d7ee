"""The built-in checks: one module per check, each defining ``CHECK``."""

from __future__ import annotations

import importlib

from winportlint.hookspecs import hookimpl

_MODULES = (
    "unresolved", "remote_desktop", "file_sharing", "remote_management", "rpc", "media_streaming",
    "windows_service", "discovery", "core_networking", "https_tunnel", "egress_file_sharing", "custom",
    "network_acl", "network_acl_allow_all", "load_balancer",
)


@hookimpl
def winportlint_checks():
    return [importlib.import_module(f"{__name__}.{module}").CHECK for module in _MODULES]
