"""What catalog rules open, in the words people use: ``3389/tcp+udp RDP, 445/tcp SMB``.

Findings name the concrete ports they open and the service behind each, not only the
Windows Firewall rule names of the AWS page. The short names are data
(``rules_catalog/services.yaml``): the catalog has no field for them (its ``symbol``, the
page's port keyword, is set on 9 of 96 rules), and many rules share one port under different
names, so the table names a rule by its port, and by its name or protocol where the port
says nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from .catalog import builtin_file, parse_port_text, parse_yaml, version_order
from .model import CatalogHit, PortRange


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    with open(builtin_file("services.yaml"), encoding="utf-8") as handle:
        return parse_yaml(handle.read())


def service_name(hit: CatalogHit) -> str:
    """``RDP`` for the rules on 3389, ``RPC dynamic`` for 49152-65535; a rule the table
    does not name is named by its workload."""
    table = _table()
    return (table["rules"].get(hit.rule) or table["ports"].get(hit.ports) or table["protocols"].get(hit.protocol)
            or hit.workload)


def ports_opened(hits: Iterable[CatalogHit]) -> str:
    """The services of ``hits`` with their ports, each once, by port:
    ``137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, 9955/tcp and any udp port AllJoyn``."""
    by_port = sorted(hits, key=_lowest_port)
    return ", ".join(_service_text(name, members) for name, members in _by_service(by_port).items())


def opened_by_default(hits: Iterable[CatalogHit], limit: int | None = None) -> str:
    """The services of ``hits`` in their order, saying on which AMIs AWS lists each as open by
    default: ``3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)``;
    past ``limit`` services, ``and N more services``."""
    by_versions: dict[tuple[str, ...], list[str]] = {}
    services = _by_service(hits)
    for name, members in services.items():
        versions = tuple(sorted({os for hit in members for os in hit.os}, key=version_order))
        by_versions.setdefault(versions, []).append(_service_text(name, members))
    parts, count = [], 0
    for versions, shown in by_versions.items():
        if limit is not None and count + len(shown) > limit:
            shown = shown[:limit - count]
        if shown:
            parts.append(f"{', '.join(shown)} ({_on_amis(versions)})")
        count += len(shown)
    more = len(services) - count
    if more:
        parts.append(f"and {more} more service{'' if more == 1 else 's'}")
    return ", ".join(parts)


def _by_service(hits: Iterable[CatalogHit]) -> dict[str, list[CatalogHit]]:
    """The hits by service, in the order of each service's first hit."""
    services: dict[str, list[CatalogHit]] = {}
    for hit in hits:
        services.setdefault(service_name(hit), []).append(hit)
    return services


def _service_text(name: str, hits: Sequence[CatalogHit]) -> str:
    return f"{_ports(hits)} {name}".lstrip()


def _lowest_port(hit: CatalogHit) -> int:
    """Hits on any port, or of a protocol without ports, come last."""
    return 65536 if hit.ports == "any" else parse_port_text(hit.ports.split(",")[0]).low


def _ports(hits: Sequence[CatalogHit]) -> str:
    """``3389/tcp+udp``, ``137-138/udp and 139/tcp``, ``554,8554-8558/tcp``, ``any udp port``;
    empty for protocols without ports (the service's name says which)."""
    ranges: dict[str, list[PortRange] | None] = {}
    for hit in hits:
        if hit.ports == "any":
            ranges[hit.protocol] = None
        elif ranges.get(hit.protocol, []) is not None:
            ranges.setdefault(hit.protocol, []).extend(parse_port_text(p) for p in hit.ports.split(","))
    protocols_of: dict[str, list[str]] = {}
    for protocol, found in ranges.items():
        if protocol not in ("tcp", "udp"):
            continue
        text = f"any {protocol} port" if found is None else _merged(found)
        protocols_of.setdefault(text, []).append(protocol)
    return " and ".join(text if text.startswith("any ") else f"{text}/{'+'.join(protocols)}"
                        for text, protocols in protocols_of.items())


def _merged(ranges: list[PortRange]) -> str:
    """``137,138`` as ``137-138``: ranges that touch or overlap are one."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return ",".join(str(PortRange(low, high)) for low, high in merged)


def _on_amis(versions: Sequence[str]) -> str:
    """``open by default in the Windows Server 2012 and 2012 R2 AMIs``: the AWS page lists the
    ports each AMI's firewall opens, which is not the versions a finding is limited to."""
    if not versions:
        return "not on the AWS page's list"
    if len(versions) == 1:
        return f"open by default in the Windows Server {versions[0]} AMI"
    joined = f"{versions[0]} and {versions[1]}" if len(versions) == 2 else f"{versions[0]} to {versions[-1]}"
    return f"open by default in the Windows Server {joined} AMIs"


