"""Security-group rules of an evaluated Terraform module as Permission records."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from winportlint import netmath
from winportlint.excerpt import excerpt
from winportlint.model import (Direction, InputError, Location, Peer, Permission, PortRange, Provenance)

from .count_index import other_instances
from .evaluate import Evaluation, module_files
from .file_reads import UnreadReasons, reason
from .hcl_positions import CONFIG_SUFFIXES, Attribute, Block, forget_index, index_file

SECURITY_GROUPS = ("aws_security_group", "aws_default_security_group")
RULE = "aws_security_group_rule"
VPC_RULES = {"aws_vpc_security_group_ingress_rule": Direction.INGRESS,
             "aws_vpc_security_group_egress_rule": Direction.EGRESS}
#: Resources read for what the security groups protect (``context.ContextReader``): targets, network
#: ACLs and load balancer listeners.
CONTEXT_TYPES = frozenset(("aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_autoscaling_group",
                           "aws_network_interface", "aws_network_interface_sg_attachment", "aws_network_acl",
                           "aws_default_network_acl", "aws_network_acl_rule", "aws_network_acl_association",
                           "aws_lb_listener", "aws_alb_listener", "aws_elb"))


#: In a resource's values, the names of attributes whose value is unknown until apply
#: (plan JSON's ``after_unknown``), so that their ``null`` is not read as absent.
UNKNOWN_KEY = "__unknown"


class RuleError(Exception):
    """A rule whose values AWS would reject; reported with the rule's line."""


class Rule:
    """One rule's evaluated values and where its attributes are written."""

    def __init__(self, values: dict, attributes: dict[str, Attribute], location: Location,
                 positions_only: bool = False):
        self.values = values
        self.attributes = attributes
        self.location = location
        #: The attributes say where values are written, not which are set: those of a plan's
        #: inline rule (the plan marks its unknown values itself; the block is a likely match).
        self.positions_only = positions_only

    def written(self, name: str) -> bool:
        """Set in the configuration, even if its value is unknown (``null``)."""
        return ((name in self.attributes and not self.positions_only) or self.values.get(name) is not None
                or name in self.values.get(UNKNOWN_KEY, ()))

    def position(self, name: str, text: str | None = None) -> Location:
        attribute = self.attributes.get(name)
        if attribute is None:
            return self.location
        line, column = attribute.position_of(text)
        return Location(self.location.file, line, column)


#: A chain of more module calls than this is named by its first and last calls and its depth.
MODULE_STEPS = 3


class BlockPositions:
    """Where the blocks the evaluator gives are written in a module's files: the block at the
    evaluator's file and line, read from one file's syntax index at a time (an index is large);
    where the scanner gave up, an error in ``errors`` says so."""

    def __init__(self, folder: str, errors: list[InputError]):
        self.folder = folder
        self.errors = errors
        self._files: dict[str, str] = {}  # file name as the evaluator gives it -> path
        self._index: tuple[str, object] | None = None  # the syntax index in use (one file at a time)
        #: What is told of each index before it is dropped (its path and the index).
        self.on_leave: Callable[[str, object], None] | None = None

    def file_of(self, meta: dict) -> str:
        name = meta.get("filename", "")
        path = self._files.get(name)
        if path is None:
            path = self._files[name] = os.path.normpath(os.path.join(self.folder, name))
        return path

    def block(self, meta: dict, kind: str | None = None, nth: int = 0) -> Block | None:
        """The block ``meta`` (the evaluator's: a file and a line) names; ``kind`` and ``nth``
        say which nested block of that kind among those the evaluator gave on its line."""
        path = self.file_of(meta)
        if not path.endswith(CONFIG_SUFFIXES):
            return None
        if self._index is None or self._index[0] != path:
            try:
                self.use_index(path)
            except OSError:
                return None
        line = int(meta.get("line_start", 0))
        same_line = getattr(self._index[1], "blocks", {}).get(line, ())  # .tf.json: several may start on a line
        if len(same_line) > 1:
            return _one_of(same_line, kind, nth, _labels(meta))
        return self._index[1].block_at(line)

    def use_index(self, path: str | None) -> None:
        """Make the index in use that of ``path`` (None: none), and drop the one used so far.
        Where the scanner gave up, positions fall back to the evaluator's lines: an error says so."""
        if self._index is not None:
            if self.on_leave is not None:
                self.on_leave(*self._index)
            forget_index(self._index[0])
            self._index = None
        if path is not None:
            self._index = (path, index_file(path))
            error = getattr(self._index[1], "error", None)
            if error is not None and InputError(path, *error) not in self.errors:
                self.errors.append(InputError(path, *error))

    def text(self) -> str:
        """The text of the file whose index is in use (``""`` for none, or a JSON file's)."""
        return getattr(self._index[1], "text", "") if self._index is not None else ""

    def block_location(self, entry: dict) -> Location:
        meta = block_meta(entry)
        return Location(self.file_of(meta), int(meta.get("line_start") or 1), 1)


class ModuleReader:
    """Reads the resources of one evaluation into permissions."""

    def __init__(self, evaluation: Evaluation):
        self.evaluation = evaluation
        self.folder = evaluation.folder
        #: Group keys must be unique across the modules of a run.
        self.group_prefix = os.path.normpath(evaluation.folder) + ":"
        self.permissions: list[Permission] = []
        self.errors: list[InputError] = []
        resources = [entry for entries in evaluation.blocks.values() if isinstance(entries, list)
                     for entry in entries if block_meta(entry).get("type") == "resource"]
        self.resources = resources
        self.group_ids = {entry.get("id"): block_meta(entry).get("path") for entry in resources
                          if block_meta(entry).get("label") in SECURITY_GROUPS and entry.get("id")}
        self.modules = {block_meta(m).get("path"): m for m in evaluation.blocks.get("module", []) or []}
        self.providers = [entry for entry in evaluation.blocks.get("provider", []) or []
                          if isinstance(entry, dict) and block_meta(entry).get("label") == "aws"]
        #: The tags of each security group, by address (for the rules that name it).
        self.group_tags = {block_meta(entry).get("path"): self.tags(entry) for entry in resources
                           if block_meta(entry).get("label") in SECURITY_GROUPS}
        self.var_sources = tuple(Provenance("variables", "variable", source) for source in evaluation.var_sources)
        self.unread = UnreadReasons(evaluation.unread, module_files)  # file function calls not evaluated (see ``file_reads``)
        #: Where the evaluator's blocks are written (one file's syntax index at a time).
        self.positions = BlockPositions(evaluation.folder, self.errors)

    def read(self, read_context: Callable[[dict, str], None]) -> tuple[list[Permission], list[InputError]]:
        """Permissions of every security-group resource, file by file (a file's index is dropped
        once its resources are read: they are large); each resource of a type in CONTEXT_TYPES
        is handed to ``read_context`` in its turn (see ``reading``)."""
        for entry in self._instances():
            kind = block_meta(entry).get("label")
            try:
                if kind in SECURITY_GROUPS:
                    self._security_group(entry, kind)
                elif kind == RULE:
                    self._standalone(entry, kind, None)
                elif kind in VPC_RULES:
                    self._standalone(entry, kind, VPC_RULES[kind])
                elif kind in CONTEXT_TYPES:
                    read_context(entry, kind)
            except RuleError as exc:
                location = self.positions.block_location(entry)
                self.errors.append(InputError(location.file, location.line, f"{block_meta(entry).get('path')}: {exc}"))
        self._known_modules()
        self.positions.use_index(None)
        return self.permissions, self.errors

    def _instances(self) -> Iterator[dict]:
        """The resources file by file, each followed by the instances the evaluator left out
        of it when its count is known only at apply (``count_index``)."""
        for entry in sorted(self.resources, key=lambda e: (block_meta(e).get("filename", ""),
                                                            block_meta(e).get("line_start", 0))):
            yield entry
            if "count" not in entry or entry["count"] is not None and not isinstance(entry["count"], dict):
                continue
            meta = block_meta(entry)
            block = self.positions.block(meta)
            text = self.positions.text() if block is not None else ""
            if text:
                prefixes = module_prefixes(str(meta.get("path", "")))
                yield from other_instances(entry, block, text, self.evaluation.blocks, self.modules,
                                           prefixes[-1] if prefixes else "")

    def _known_modules(self) -> None:
        """Calls of known registry modules that were not downloaded: their rules from the inputs."""
        if not any(isinstance(call.get("source"), str) and not call["source"].startswith(("./", "../"))
                   for call in self.modules.values()):
            return  # local calls only: the rule tables need not be loaded (~35 ms)
        from .known_modules import UnknownModuleRule, is_known_module, module_rules

        evaluated = {block_meta(entry).get("path", "") for entry in self.resources}
        for address, call in self.modules.items():
            source = call.get("source")
            if not isinstance(source, str) or not is_known_module(source):
                continue
            if any(path.startswith(f"{address}.") for path in evaluated):
                continue  # downloaded: its resources were evaluated
            meta = block_meta(call)
            location = self.positions.block_location(call)
            try:
                rules = module_rules(call)
            except UnknownModuleRule as exc:
                self.errors.append(InputError(location.file, location.line, f"{address}: {exc}"))
                continue
            block = self.positions.block(meta)
            steps = self.provenance(call) + (Provenance("resource", "module", f"{source} (rules from its inputs)"),)
            for rule in rules:
                values = {"protocol": rule.protocol, "from_port": rule.from_port, "to_port": rule.to_port}
                try:
                    protocol, ports, port_steps = _protocol_and_ports(Rule(values, {}, location), "protocol")
                except RuleError as exc:
                    self.errors.append(InputError(location.file, location.line, f"{address} {rule.input}: {exc}"))
                    continue
                peer = netmath.parse_peer(rule.cidr) if rule.cidr else Peer("unknown", f"{rule.input} is not known")
                self.permissions.append(Permission(
                    resource=address, resource_type="module", group=self.group_prefix + address,
                    direction=Direction(rule.direction),
                    protocol=protocol, ports=ports, peer=peer,
                    location=_input_position(block, rule.input, rule.cidr, location), rule_location=location,
                    resource_location=location,
                    provenance=steps + port_steps + (Provenance(
                        "cidr", "module input",
                        f"input {rule.input}" + (f" (rule {rule.rule_name})" if rule.rule_name else "")),),
                ))

    # -- where things are written -------------------------------------------------------------

    def provenance(self, entry: dict, item: dict | None = None) -> tuple[Provenance, ...]:
        """Variables the rule reads (and where their values came from) and the module calls."""
        meta = block_meta(entry)
        references = [*(meta.get("references") or ()), *(block_meta(item).get("references") or ())] if item else \
            list(meta.get("references") or ())
        names = dict.fromkeys(r.get("label") for r in references if isinstance(r, dict) and not r.get("name"))
        variables = [Provenance("value", "variable", f"var.{name}") for name in names]
        steps = [*variables, *(self.var_sources if variables else ())]
        if meta.get("element"):  # an instance read from a list (see ``count_index``)
            steps.append(Provenance("count.index", "element", f"{meta['element']} (the count is known only at apply)"))
        address = meta.get("path", "")
        calls = [part for part in module_prefixes(address) if part in self.modules]
        for number, call in enumerate(calls, 1):
            if 1 < number < len(calls) and len(calls) > MODULE_STEPS:
                continue  # a long chain: its first and last calls, and how deep it is
            call_meta = block_meta(self.modules[call])
            where = f"{self.positions.file_of(call_meta)}:{call_meta.get('line_start')}"
            if len(calls) > MODULE_STEPS and number > 1:  # the last: named by its own part of the address
                detail = f"{call[len(calls[-2]) + 1:]} ({where}), {number} calls deep"
            else:
                detail = f"{call} ({where})"
            steps.append(Provenance("resource", "module", detail,
                                    Location(self.positions.file_of(call_meta), int(call_meta.get("line_start") or 1), 1)))
        return tuple(steps)

    def tags(self, entry: dict) -> tuple[tuple[str, str], ...]:
        """A security group's known tags, sorted by key: its ``tags`` over its provider's
        ``default_tags`` (its own win, as the AWS provider merges them), or a plan's ``tags_all``,
        which holds both. A tag whose value is not known before apply is left out; so are all of
        them when ``tags`` itself is not known, and the default tags when which provider's they
        are is not known here (see :meth:`default_tags`)."""
        plan = block_meta(entry).get("plan")
        if plan and isinstance(entry.get("tags_all"), dict):
            merged = entry["tags_all"]
        else:
            own = entry.get("tags", {})
            if own is None and plan and "tags" not in entry.get(UNKNOWN_KEY, ()):
                own = {}  # a plan's null is an unset value
            if not isinstance(own, dict) or "__attribute__" in own:
                return ()
            merged = {**self.default_tags(entry), **own}
        texts = {key: _tag_text(value) for key, value in merged.items()}
        return tuple(sorted((key, text) for key, text in texts.items() if text is not None))

    def default_tags(self, entry: dict) -> dict:
        """The ``default_tags`` of the root module's ``aws`` provider a resource uses: the one its
        ``provider = aws.<alias>`` names, else the one without alias. Empty where which provider
        applies is not known here: a resource of a module that names its provider, or whose call (or
        one on the way) passes ``providers``, or that declares a provider of its own."""
        calls = module_prefixes(str(block_meta(entry).get("path", "")))
        reference = entry.get("provider")
        if calls and (reference is not None or any(
                isinstance(self.modules.get(call), dict) and self.modules[call].get("providers") for call in calls)
                or any(str(block_meta(p).get("path", "")).startswith(tuple(f"{call}." for call in calls))
                       for p in self.providers)):
            return {}
        name = reference.get("__attribute__") if isinstance(reference, dict) else "aws" if reference is None else None
        if not isinstance(name, str) or name != "aws" and not name.startswith("aws."):
            return {}
        alias = name[len("aws."):] or None
        for provider in self.providers:
            if block_meta(provider).get("path") == "provider.aws" and provider.get("alias") == alias:
                default = provider.get("default_tags")
                tags = default.get("tags") if isinstance(default, dict) else None
                return tags if isinstance(tags, dict) and "__attribute__" not in tags else {}
        return {}

    # -- resources ----------------------------------------------------------------------------

    def _security_group(self, entry: dict, kind: str) -> None:
        address = block_meta(entry).get("path", "")
        if address not in self.group_tags:  # an instance the evaluator left out (``count_index``)
            self.group_tags[address] = self.tags(entry)
        entry_location = self.positions.block_location(entry)
        for key, direction in (("ingress", Direction.INGRESS), ("egress", Direction.EGRESS)):
            for item, rule in self.inline_rules(entry, key):
                provenance = self.provenance(entry, item)
                try:
                    self.permissions.extend(self.rule_permissions(address, kind, address, direction, rule,
                                                                  provenance, entry_location, protocol_key="protocol",
                                                                  ipv4="cidr_blocks", ipv6="ipv6_cidr_blocks"))
                except RuleError as exc:  # this rule only: the group's other rules are still read
                    self.errors.append(InputError(rule.location.file, rule.location.line, f"{address} {key}: {exc}"))

    def inline_rules(self, entry: dict, key: str) -> Iterator[tuple[dict, Rule]]:
        """The inline rules ``key`` (``ingress``, ``egress``) of a resource: blocks, or objects of
        the ``key = [{...}]`` attribute form, each with where its attributes are written."""
        meta = block_meta(entry)
        value = entry.get(key)
        if value is None:
            return
        block = self.positions.block(meta)
        entry_location = self.positions.block_location(entry)
        items = value if isinstance(value, list) else [value]
        attribute = block.attributes.get(key) if block else None
        taken: set[int] = set()
        on_line: dict[tuple, int] = {}  # blocks seen so far on each line (JSON may write several on one)
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            # Only the evaluator's blocks carry metadata; an object of `ingress = [{...}]` is the user's.
            item_meta = block_meta(item) if attribute is None else {}
            if item_meta:  # a block: its own line
                line_key = (item_meta.get("filename"), item_meta.get("line_start"))
                on_line[line_key] = on_line.get(line_key, -1) + 1
                item_block = self.positions.block(item_meta, key, on_line[line_key])
                attributes = item_block.attributes if item_block else {}
                location = Location(self.positions.file_of(item_meta), int(item_meta.get("line_start") or 1), 1)
                if item_block:
                    location = Location(location.file, item_block.line, item_block.column)
            elif meta.get("plan"):  # a set's elements in the plan's order: the block or object that spells them
                written = [child for child in block.children if child.kind == key] if block else []
                sources = attribute.objects if attribute is not None else [b.attributes for b in written]
                chosen = _plan_source(sources, item, position, len(items), taken)
                location, attributes = entry_location, {}
                if chosen is not None:
                    attributes = sources[chosen]
                    where = attribute if attribute is not None else written[chosen]
                    location = Location(self.positions.file_of(meta), where.line, where.column)
            elif attribute is not None:  # the `ingress = [{...}]` attribute form
                objects = attribute.objects
                attributes = objects[position] if position < len(objects) else {}
                location = Location(self.positions.file_of(meta), attribute.line, attribute.column)
            else:  # the n-th block of that name, when they match one to one
                written = [child for child in block.children if child.kind == key] if block else []
                location = entry_location
                attributes = {}
                if len(written) == len(items):
                    attributes = written[position].attributes
                    location = Location(location.file, written[position].line, written[position].column)
            yield item, Rule(item, attributes, location, positions_only=bool(meta.get("plan")) and not item_meta)

    def _standalone(self, entry: dict, kind: str, direction: Direction | None) -> None:
        meta = block_meta(entry)
        address = meta.get("path", "")
        block = self.positions.block(meta)
        location = self.positions.block_location(entry)
        rule = Rule(entry, block.attributes if block else {}, location)
        unknown_type = None
        if direction is None:
            rule_type = entry.get("type")
            why = unknown_reason(rule_type, "type") if "type" in rule.attributes else None
            if why:  # it may be ingress: read as one whose sources are unknown (WPL001), never dropped
                unknown_type = f"type unknown ({self._unread_reason(rule, 'type', why)})"
                rule_type = "ingress"
            if rule_type not in ("ingress", "egress"):
                raise RuleError(f"type must be ingress or egress, not {excerpt(rule_type)}")
            direction = Direction(rule_type)
            keys = dict(protocol_key="protocol", ipv4="cidr_blocks", ipv6="ipv6_cidr_blocks")
        else:
            keys = dict(protocol_key="ip_protocol", ipv4="cidr_ipv4", ipv6="cidr_ipv6")
        group_id = entry.get("security_group_id")
        group_id = group_id if isinstance(group_id, str) and group_id else None  # unknown: the rule alone
        group = self.group_ids.get(group_id) or group_id or address
        self.permissions.extend(self.rule_permissions(address, kind, group, direction, rule, self.provenance(entry),
                                                      location, **keys, unknown_type=unknown_type))

    def _unread_reason(self, rule: Rule, key: str, why: str) -> str:
        """``why`` a value is unknown, or the reason of a file function call not evaluated in it."""
        attribute = rule.attributes.get(key)
        if attribute is None or not self.evaluation.unread or rule.positions_only:
            return why
        try:
            index = index_file(rule.location.file)
        except OSError:
            return why
        return self.unread.of(rule.location.file, attribute, getattr(index, "text", "")) or why

    def rule_permissions(self, address: str, kind: str, group: str, direction: Direction, rule: Rule,
                          provenance: tuple[Provenance, ...], resource_location: Location, protocol_key: str,
                          ipv4: str, ipv6: str, unknown_type: str | None = None) -> Iterator[Permission]:
        """The rule's permissions, one per source; with ``unknown_type`` (why its direction is not
        known) every source is unknown for that reason."""
        protocol, ports, port_steps = _protocol_and_ports(rule, protocol_key)
        port_steps = tuple(step._replace(detail=self._unread_reason(rule, step.field, step.detail))
                           if step.kind == "unknown" else step for step in port_steps)
        # Whether the rule is ingress at all: unknown, it is read as ingress with this step (WPL001).
        type_steps = (Provenance("type", "unknown", unknown_type, rule.position("type")),) if unknown_type else ()
        for key, version in ((ipv4, 4), (ipv6, 6)):
            if not rule.written(key):
                continue
            value = rule.values.get(key)
            cidrs = value if isinstance(value, list) else [value]
            for cidr in cidrs:
                why = unknown_reason(cidr, key)
                if why:
                    why = self._unread_reason(rule, key, why)
                    peer = Peer("unknown", why)
                    steps = type_steps + (Provenance(key, "unknown", why, rule.position(key)),)
                elif not isinstance(cidr, str):
                    peer, steps = Peer("invalid", repr(cidr)), type_steps
                else:
                    peer, steps = _peer(cidr), type_steps
                    if peer.kind == "invalid" and cidr:  # the provider rejects it at plan: an input error at the value
                        # ("" is how a plan spells an absent network ACL CIDR)
                        where = rule.position(key, cidr)
                        self.errors.append(InputError(where.file, where.line, f"{address}: {key} {excerpt(cidr)} "
                                                      f"{netmath.cidr_error(cidr, version)}"))
                        continue
                yield Permission(
                    resource=address,
                    resource_type=kind,
                    group=self.group_prefix + group,
                    direction=direction,
                    protocol=protocol,
                    ports=ports,
                    peer=peer,
                    location=rule.position(key, cidr if isinstance(cidr, str) else None),
                    rule_location=rule.location,
                    resource_location=resource_location,
                    provenance=provenance + port_steps + steps,
                    tags=self.group_tags.get(group, ()),
                )


def _tag_text(value: object) -> str | None:
    """A tag's value as AWS stores it (terraform turns numbers and booleans into text); None when
    it is not known before apply."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None


def _one_of(blocks: list[Block], kind: str | None, nth: int, labels: list[str] | None) -> Block:
    """Of blocks starting on one line: the resource with these labels, else the ``nth`` of that kind."""
    named = [block for block in blocks if labels and block.labels == labels]
    of_kind = [block for block in blocks if block.kind == kind]
    return named[0] if named else of_kind[min(nth, len(of_kind) - 1)] if of_kind else blocks[0]


def _labels(meta: dict) -> list[str] | None:
    """A resource's block labels, ``[type, name]``, from its address (``module.m.aws_x.y["k"]``)."""
    if meta.get("type") != "resource" or not meta.get("label"):
        return None
    return [meta["label"], re.sub(r"\[[^\]]*\]$", "", str(meta.get("path", ""))).rsplit(".", 1)[-1]]


def _plan_source(sources: list[dict[str, Attribute]], item: dict, position: int, count: int,
                 taken: set[int]) -> int | None:
    """Which written rule (a block's or an object's attributes) a plan's inline rule comes
    from. A plan lists a set's elements in an order of its own (terraform sorts them), not
    the configuration's: among the rules whose literal CIDRs and protocol are the item's,
    the n-th if it is one, else the first not taken yet. When none spells its CIDRs (values
    from variables), the n-th if there are as many rules as items."""
    def spells(attributes: dict[str, Attribute]) -> bool:
        for name in ("cidr_blocks", "ipv6_cidr_blocks"):
            literals = [text for text, _, _ in attributes[name].strings] if name in attributes else []
            if sorted(literals) != sorted(v for v in item.get(name) or () if isinstance(v, str)):
                return False
        protocol = attributes["protocol"].strings if "protocol" in attributes else []
        return len(protocol) != 1 or \
            netmath.normalize_protocol(protocol[0][0]) == netmath.normalize_protocol(item.get("protocol"))

    candidates = [index for index, attributes in enumerate(sources) if spells(attributes)]
    for index in ([position] if position in candidates else []) + candidates:
        if index not in taken:
            taken.add(index)
            return index
    if candidates:
        return candidates[0]
    return position if count == len(sources) and position < count else None


#: Peers by CIDR text: a large module spells the same few CIDRs thousands of times (Peer is immutable).
_PEERS: dict[str, Peer] = {}


def _peer(cidr: str) -> Peer:
    """A CIDR as the provider validates it: a network of either family in any of these fields
    (an address of the other family is left to EC2, at apply)."""
    peer = _PEERS.get(cidr)
    if peer is None:
        if len(_PEERS) > 4096:
            _PEERS.clear()
        peer = _PEERS[cidr] = netmath.parse_peer(cidr)
    return peer


def _protocol_and_ports(rule: Rule, protocol_key: str) -> tuple[str, PortRange | None, tuple[Provenance, ...]]:
    raw = rule.values.get(protocol_key)
    why = unknown_reason(raw, protocol_key)
    if why:
        if rule.written(protocol_key):
            return "unknown", None, (Provenance(protocol_key, "unknown", why),)
        raise RuleError(f"rule has no {protocol_key}")
    protocol = netmath.normalize_protocol(raw)
    if protocol is None:
        raise RuleError(f"{protocol_key} {excerpt(raw)} is not a protocol")
    if protocol not in netmath.PORTED_PROTOCOLS:
        return protocol, None, ()
    ends = []
    for key in ("from_port", "to_port"):
        value = rule.values.get(key)
        why = unknown_reason(value, key)
        if why:
            if rule.written(key):
                return "unknown", None, (Provenance(key, "unknown", why),)
            ends.append(None)
            continue
        port = netmath.parse_port(value)
        if port is None:
            raise RuleError(f"{key} {excerpt(value)} is not a port number")
        ends.append(port)
    try:
        return protocol, netmath.port_range(protocol, *ends), ()
    except ValueError as exc:
        raise RuleError(f"{exc} (from_port {ends[0]}, to_port {ends[1]})") from None


def _input_position(block: Block | None, path: str, cidr: str | None, fallback: Location) -> Location:
    """Where a module input such as ``ingress_with_cidr_blocks[1].cidr_blocks`` spells the CIDR."""
    if block is None:
        return fallback
    name, _, rest = path.partition("[")
    attribute = block.attributes.get(name.split(".")[0])
    if attribute is not None and rest:
        index, _, key = rest.partition("]")
        objects = attribute.objects
        if index.isdigit() and int(index) < len(objects) and key.lstrip(".") in objects[int(index)]:
            attribute = objects[int(index)][key.lstrip(".")]
    if attribute is None:
        return fallback
    for literal, line, column in attribute.strings:
        if cidr is not None and cidr in (part.strip() for part in literal.split(",")):
            return Location(fallback.file, line, column)
    return Location(fallback.file, attribute.line, attribute.column)


def unknown_reason(value: object, key: str) -> str | None:
    """Why a value is unknown, or None when it is known.

    The evaluator gives ``null`` for values known only after apply and
    ``{"__attribute__": "var.x", ...}`` for a reference it could not resolve
    (a variable without a value, a data source, another resource's attribute).
    """
    if value is None:
        return f"{key} is not known before apply"
    if isinstance(value, dict) and "__attribute__" in value:
        return reason(str(value["__attribute__"])) or f"{value['__attribute__']} has no known value"
    return None


def block_meta(entry: dict) -> dict:
    """The evaluator's metadata of a block (its type, label, address, file and lines)."""
    meta = entry.get("__tfmeta") if isinstance(entry, dict) else None
    return meta if isinstance(meta, dict) else {}


def module_prefixes(address: str) -> list[str]:
    """``module.a[0].module.b.aws_x.y`` -> ``["module.a[0]", "module.a[0].module.b"]``."""
    parts = address.split(".")
    prefixes = []
    for i in range(0, len(parts) - 2, 2):
        if parts[i] != "module":
            break
        prefixes.append(".".join(parts[: i + 2]))
    return prefixes
