"""What a security group protects: a finding learns its targets' operating system,
and whether a network ACL of their subnets lets the traffic through.

Runs after the checks on one file's (or module's) findings, with the targets and
subnet ACLs its format read. A group attached to a Windows target is raised one
severity level (``info`` stays); with known Windows Server versions, only the catalog rules the
AWS page lists for them count. Nothing is hidden for want of context: a group
with no known target keeps its finding as the check made it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from .catalog import Catalog, rules_version, spell_versions, version_order
from .exposure import SECURITY_GROUP, acl_exposures
from .model import Direction, FileResult, Finding, Severity, Target, TargetContext
from .windows import Verdict, decide, describe


class _Deployment(NamedTuple):
    """Targets linked by ``uses`` (an auto scaling group and its launch template): what
    their groups protect, where it runs and on what."""

    tops: tuple[Target, ...]
    groups: frozenset[str]
    subnets: frozenset[str]
    verdict: Verdict


def add_context(findings: Sequence[Finding], result: FileResult, catalog: Catalog) -> list[Finding]:
    """The findings, those on a group that protects known targets given their context."""
    deployments_of: dict[str, list[_Deployment]] = defaultdict(list)
    for deployment in _deployments(result.targets):
        for group in deployment.groups:
            deployments_of[group].append(deployment)
    if not deployments_of:
        return list(findings)
    acls_of: dict[str, set[str]] = defaultdict(set)
    for link in result.subnet_acls:
        acls_of[link.subnet].add(link.acl)
    ingress = [r for r in catalog.rules if r.direction is Direction.INGRESS]
    let_through: dict[str, list[tuple[str, set[tuple[str, str]]]]] = defaultdict(list)
    for exposure in acl_exposures(result.permissions, ingress):
        entry = exposure.permission
        let_through[entry.group].append((entry.resource, {(r.workload, r.rule) for r in exposure.rules}))
    known_versions = catalog.versions()
    contextual = []
    for finding in findings:
        permission = finding.permission
        deployments = deployments_of.get(permission.group)
        if not deployments or permission.control != SECURITY_GROUP or permission.direction is not Direction.INGRESS:
            contextual.append(finding)
            continue
        finding = _on_windows(finding, deployments, known_versions)
        hits = {(hit.workload, hit.rule) for hit in finding.catalog}
        entries = sorted({entry for d in deployments for subnet in d.subnets for acl in acls_of.get(subnet, ())
                          for entry, rules in let_through[acl] if rules & hits})
        if entries:
            finding = finding._replace(message=f"{finding.message}; the network ACL does not block it "
                                               f"(entry {', '.join(entries)})")
        contextual.append(finding)
    return contextual


def _raised(finding: Finding) -> Severity:
    """One level up, except ``info``: 443 (IP-HTTPS) on a Windows web server, or a source not known
    before deployment, is worth knowing, not a louder alarm."""
    return finding.severity if finding.severity is Severity.INFO else finding.severity.shifted(1)


def _on_windows(finding: Finding, deployments: list[_Deployment], known_versions: frozenset[str]) -> Finding:
    contexts = {}
    for deployment in deployments:
        evidence = tuple(describe(item) for item in deployment.verdict.evidence)
        for top in deployment.tops:
            contexts[top.resource] = TargetContext(top.resource, top.resource_type, deployment.verdict.os,
                                                   deployment.verdict.versions, evidence)
    finding = finding._replace(targets=tuple(contexts[name] for name in sorted(contexts)))
    windows = [d for d in deployments if d.verdict.os == "windows"]
    if not windows:
        return finding
    names = ", ".join(sorted(top.resource for d in windows for top in d.tops))
    why = describe(windows[0].verdict.evidence[0])
    versions = {v for d in windows for v in d.verdict.versions}
    rules_of = {rules_version(v, known_versions) for v in versions}
    if any(not d.verdict.versions for d in windows) or not rules_of <= known_versions:
        return finding._replace(severity=_raised(finding),
                                message=f"{finding.message}; it protects Windows {names} ({why})")
    spelt = spell_versions(sorted(versions, key=version_order), known_versions)
    kept = tuple(hit for hit in finding.catalog if rules_of & set(hit.os))
    if not kept:
        listed = sorted({os for hit in finding.catalog for os in hit.os})
        return finding._replace(message=(
            f"{finding.message}; it protects {spelt} {names} ({why}), where the AWS page does not list this "
            f"port as open by default (it does for {', '.join(listed) or 'no version'})"))
    return finding._replace(severity=_raised(finding), catalog=kept,
                            message=f"{finding.message}; it protects {spelt} {names} ({why}), "
                                    f"which opens it by default")


def _deployments(targets: Sequence[Target]) -> list[_Deployment]:
    """Targets merged by resource, then joined along ``uses`` into deployments.

    A resource is known by its name within its folder: one run may read several
    Terraform modules that each have an ``aws_instance.web``.
    """
    merged: dict[tuple[str, str], Target] = {}
    for target in targets:
        key = (os.path.dirname(target.location.file), target.resource)
        known = merged.get(key)
        if known is None:
            merged[key] = target
            continue
        merged[key] = known._replace(
            groups=_union(known.groups, target.groups), subnets=_union(known.subnets, target.subnets),
            uses=_union(known.uses, target.uses), evidence=_union(known.evidence, target.evidence))
    parent = {key: key for key in merged}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for (folder, name), target in merged.items():
        for used in target.uses:
            if (folder, used) in merged:
                parent[root((folder, used))] = root((folder, name))
    members: dict[tuple[str, str], list[Target]] = defaultdict(list)
    for key in sorted(merged):
        members[root(key)].append(merged[key])
    deployments = []
    for group in members.values():
        used = {name for target in group for name in target.uses}
        tops = tuple(t for t in group if t.resource not in used) or tuple(group)
        deployments.append(_Deployment(
            tops, frozenset(g for t in group for g in t.groups), frozenset(s for t in group for s in t.subnets),
            decide(item for t in group for item in t.evidence)))
    return deployments


def _union(first: tuple, second: tuple) -> tuple:
    return first + tuple(item for item in second if item not in first)
