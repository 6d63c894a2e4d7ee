"""What security groups protect in an evaluated Terraform module (issue #7): instances,
launch templates and configurations, auto scaling groups and network interfaces as
Target records with what is written of their image; network ACL entries and load
balancer listeners as Permission records; ACL-to-subnet associations.

The evaluator (tfparse) gives a reference to another resource's or data source's
attribute as that block's ``id`` (a UUID of its own, e.g. ``aws_security_group.x.id``,
``aws_lb.x.arn``, ``data.aws_ami.w.id``) when the block exists, as the attribute's value
when it is set (``aws_security_group.x.name``) and, when it is not,
``{"__attribute__": "aws_launch_configuration.lc.name", ...}`` (or ``null`` inside a list).
Formats never decide what the records mean: that is the core's (winportlint.context).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from winportlint import netmath
from winportlint.excerpt import excerpt
from winportlint.model import (Direction, Evidence, InputError, Location, Peer, Permission, PortRange, Provenance,
                               SubnetAcl, Target)
from winportlint.textfile import read_bytes

from .extract import ModuleReader, Rule, RuleError, block_meta, module_prefixes, unknown_reason

INSTANCE = "aws_instance"
LAUNCH_TEMPLATE = "aws_launch_template"
LAUNCH_CONFIGURATION = "aws_launch_configuration"
AUTOSCALING_GROUP = "aws_autoscaling_group"
NETWORK_INTERFACE = "aws_network_interface"
SG_ATTACHMENT = "aws_network_interface_sg_attachment"
TARGETS = (INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, AUTOSCALING_GROUP, NETWORK_INTERFACE, SG_ATTACHMENT)

NETWORK_ACLS = ("aws_network_acl", "aws_default_network_acl")
ACL_RULE = "aws_network_acl_rule"
ACL_ASSOCIATION = "aws_network_acl_association"

LOAD_BALANCERS = ("aws_lb", "aws_alb")
LISTENERS = ("aws_lb_listener", "aws_alb_listener")
TARGET_GROUPS = ("aws_lb_target_group", "aws_alb_target_group")
CLASSIC_LB = "aws_elb"

#: User data beyond this is cut (the core looks for ``<powershell>`` / ``<script>``).
USER_DATA_LIMIT = 64 * 1024
_SSM_PREFIX = re.compile(r"^\{\{\s*resolve:ssm:(.*?)\s*\}\}$|^resolve:ssm:(.*)$")
#: A reference the evaluator could not resolve: ``aws_x.y.attr``, ``data.aws_x.y.attr``, ``aws_x.y.[0].attr``.
_REFERENCE = re.compile(r"^(data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(?:\.?(\[[^\]]*\]))?")
#: Functions whose file the user data would come from: not read (the contract says file() is not).
_READS_FILE = re.compile(r"\b(?:file|filebase64|templatefile)\s*\(")
_ENCODES = re.compile(r"\bbase64encode\s*\(")
_LISTENER_PROTOCOLS = {"http": ("tcp",), "https": ("tcp",), "tcp": ("tcp",), "tls": ("tcp",), "ssl": ("tcp",),
                       "udp": ("udp",), "tcp_udp": ("tcp", "udp")}
_WORLD = netmath.parse_peer("0.0.0.0/0")


class ContextReader:
    """Targets, subnet ACLs and ACL / load-balancer permissions of one evaluation, read
    with the extractor's positions (``reader``); errors and permissions go to the reader's lists."""

    def __init__(self, reader: ModuleReader):
        self.reader = reader
        references = References(reader)
        self.target_reader = TargetReader(reader, references)
        self.network_reader = NetworkReader(reader, references)
        self.targets = self.target_reader.targets
        self.subnet_acls = self.network_reader.subnet_acls

    def read(self, entry: dict, kind: str) -> None:
        """Read one resource of a type in CONTEXT_TYPES (load balancers and target groups are
        read through their listeners); a malformed value is an error at its line."""
        try:
            if kind in TARGETS:
                self.target_reader.read(entry, kind)
            else:
                self.network_reader.read(entry, kind)
        except RuleError as exc:
            location = self.reader.positions.block_location(entry)
            self.reader.errors.append(InputError(location.file, location.line, f"{block_meta(entry).get('path')}: {exc}"))


class References:
    """The resources and data sources of one evaluation, by the evaluator's id, by address and by
    name, and what a value refers to among them; positions of attributes (``reader``'s)."""

    def __init__(self, reader: ModuleReader):
        self.reader = reader
        self.prefix = reader.group_prefix
        self.by_id: dict[str, dict] = {}
        self.by_path: dict[str, dict] = {}
        self.named: dict[tuple[str, str], dict] = {}  # (type, module-prefixed name attribute) -> entry
        for entries in reader.evaluation.blocks.values():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                meta = block_meta(entry)
                if meta.get("type") not in ("resource", "data"):
                    continue
                path = str(meta.get("path", ""))
                self.by_path.setdefault(path, entry)
                if isinstance(entry.get("id"), str):
                    self.by_id.setdefault(entry["id"], entry)
                name = entry.get("name")
                if meta.get("type") == "resource" and isinstance(name, str):
                    self.named.setdefault((str(meta.get("label")), _module_of(path) + name), entry)

    def referenced(self, value: object, entry: dict, kinds: tuple[str, ...] = ()) -> dict | None:
        """The resource or data source a value refers to (by the evaluator's id, or an
        unresolved ``__attribute__``), of one of ``kinds`` when given."""
        found = None
        if isinstance(value, str):
            found = self.by_id.get(value)
        elif isinstance(value, dict) and isinstance(value.get("__attribute__"), str):
            match = _REFERENCE.match(value["__attribute__"])
            if match and match[2] not in ("var", "local", "module", "each", "count", "path", "terraform", "self"):
                address = (f"{_module_of(block_meta(entry).get('path', ''))}{match[1] or ''}{match[2]}.{match[3]}"
                           f"{match[4] or ''}")
                found = self.by_path.get(address)
        if found is not None and kinds and block_meta(found).get("label") not in kinds:
            return None
        return found

    def by_name(self, value: object, entry: dict, kinds: tuple[str, ...]) -> dict | None:
        """A resource of ``kinds`` referred to by id, by its ``name`` attribute (same module), or unresolved."""
        found = self.referenced(value, entry, kinds)
        if found is None and isinstance(value, str):
            module = _module_of(block_meta(entry).get("path", ""))
            for kind in kinds:
                found = self.named.get((kind, module + value))
                if found is not None:
                    break
        return found

    def key(self, value: object, entry: dict, kinds: tuple[str, ...], by_name: bool = False) -> str | None:
        """A group / subnet / ACL key: the prefixed address of the resource referred to, or a
        literal id as written (prefixed, as the extractor keys a literal security_group_id)."""
        found = self.by_name(value, entry, kinds) if by_name else self.referenced(value, entry)
        if found is not None:
            if kinds and block_meta(found).get("label") not in kinds:
                return None
            return self.prefix + str(block_meta(found).get("path", ""))
        if isinstance(value, str) and value and value not in self.by_id:
            return self.prefix + value
        return None

    def keys(self, entry: dict, name: str, kinds: tuple[str, ...], by_name: bool = False,
              values: dict | None = None) -> list[str]:
        values = entry if values is None else values
        return [key for item in _items(values.get(name), name)
                if (key := self.key(item, entry, kinds, by_name)) is not None]

    def address(self, value: object, entry: dict, kinds: tuple[str, ...], by_name: bool = False) -> str | None:
        found = self.by_name(value, entry, kinds) if by_name else self.referenced(value, entry, kinds)
        return str(block_meta(found).get("path", "")) if found is not None else None

    def position(self, meta: dict, attributes: dict, name: str, text: str | None = None) -> Location:
        attribute = attributes.get(name)
        file = self.reader.positions.file_of(meta)
        if attribute is None:
            return Location(file, int(meta.get("line_start") or 1), 1)
        return Location(file, *attribute.position_of(text))


class TargetReader:
    """Target records: what a resource that uses security groups is (its groups, subnets, the
    resources it uses) and what is written of its image and user data."""

    def __init__(self, reader: ModuleReader, references: References):
        self.reader = reader
        self.references = references
        self.targets: list[Target] = []

    def read(self, entry: dict, kind: str) -> None:
        """The Target of a resource of a type in TARGETS, when it names anything."""
        target = self._sg_attachment(entry) if kind == SG_ATTACHMENT else self._target(entry, kind)
        if target is not None and (target.groups or target.uses or target.evidence or target.subnets):
            self.targets.append(target)

    def _target(self, entry: dict, kind: str) -> Target:
        meta = block_meta(entry)
        block = self.reader.positions.block(meta)
        attributes = block.attributes if block else {}
        groups: list[str] = []
        subnets: list[str] = []
        uses: list[str] = []
        evidence: list[Evidence] = []
        sg = ("aws_security_group", "aws_default_security_group")
        if kind in (INSTANCE, LAUNCH_TEMPLATE, NETWORK_INTERFACE):
            groups += self.references.keys(entry, "vpc_security_group_ids" if kind != NETWORK_INTERFACE else "security_groups", sg)
        if kind == INSTANCE:
            groups += self.references.keys(entry, "security_groups", sg, by_name=True)
        if kind == LAUNCH_TEMPLATE:
            groups += self.references.keys(entry, "security_group_names", sg, by_name=True)
        if kind == LAUNCH_CONFIGURATION:
            groups += self.references.keys(entry, "security_groups", sg, by_name=True)
        groups += self._unnamed_groups(entry, kind, groups)
        if kind in (INSTANCE, NETWORK_INTERFACE):
            subnets += self.references.keys(entry, "subnet_id", ("aws_subnet", "aws_default_subnet"))
        if kind == AUTOSCALING_GROUP:
            subnets += self.references.keys(entry, "vpc_zone_identifier", ("aws_subnet", "aws_default_subnet"))
        if kind == LAUNCH_TEMPLATE:
            for interface in _blocks(entry.get("network_interfaces")):
                groups += self.references.keys(entry, "security_groups", sg, values=interface)
                subnets += self.references.keys(entry, "subnet_id", ("aws_subnet", "aws_default_subnet"), values=interface)
        if kind == INSTANCE:
            for interface in _blocks(entry.get("network_interface")):
                uses += filter(None, [self.references.address(interface.get("network_interface_id"), entry,
                                                    (NETWORK_INTERFACE,))])
        if kind in (INSTANCE, AUTOSCALING_GROUP):
            uses += self._launch_templates(entry, entry.get("launch_template"), "id", "name")
        if kind == AUTOSCALING_GROUP:
            configuration = entry.get("launch_configuration")
            if configuration is not None:
                uses += filter(None, [self.references.address(configuration, entry, (LAUNCH_CONFIGURATION,), by_name=True)])
            for policy in _blocks(entry.get("mixed_instances_policy")):
                for template in _blocks(policy.get("launch_template")):
                    specifications = list(_blocks(template.get("launch_template_specification")))
                    for override in _blocks(template.get("override")):
                        specifications += _blocks(override.get("launch_template_specification"))
                    for specification in specifications:
                        uses += self._launch_templates(entry, specification, "launch_template_id",
                                                       "launch_template_name")
        image_key = {INSTANCE: "ami", LAUNCH_TEMPLATE: "image_id", LAUNCH_CONFIGURATION: "image_id"}.get(kind)
        if image_key:
            evidence += self._image(entry, image_key, attributes)
            evidence += self._user_data(entry, kind, attributes)
        if kind == INSTANCE and entry.get("get_password_data") is True:
            evidence.append(Evidence("password-data", "true", "get_password_data",
                                     self.references.position(meta, attributes, "get_password_data")))
        return Target(str(meta.get("path", "")), kind, self.reader.positions.block_location(entry),
                      _unique(groups), _unique(subnets), _unique(uses), tuple(evidence))

    def _unnamed_groups(self, entry: dict, kind: str, groups: list[str]) -> list[str]:
        """``security_groups = [aws_security_group.x.name]`` when x sets no name: the evaluator
        gives ``null``; the groups are those the resource refers to and no other attribute named,
        when there are as many of them as nulls."""
        name = "security_group_names" if kind == LAUNCH_TEMPLATE else "security_groups"
        value = entry.get(name)
        nulls = sum(1 for item in value if item is None) if isinstance(value, list) and kind != NETWORK_INTERFACE else 0
        if not nulls:
            return []
        referred = []
        for reference in block_meta(entry).get("references") or ():
            found = self.references.by_id.get(reference.get("id")) if isinstance(reference, dict) else None
            if found is not None and block_meta(found).get("label") in ("aws_security_group", "aws_default_security_group"):
                key = self.references.prefix + str(block_meta(found).get("path", ""))
                if key not in groups and key not in referred:
                    referred.append(key)
        return referred if len(referred) == nulls else []

    def _launch_templates(self, entry: dict, value: object, id_key: str, name_key: str) -> list[str]:
        uses = []
        for spec in _blocks(value):
            for key, by_name in ((id_key, False), (name_key, True)):
                if spec.get(key) is not None:
                    address = self.references.address(spec.get(key), entry, (LAUNCH_TEMPLATE,), by_name=by_name)
                    if address:
                        uses.append(address)
            if id_key == "id":
                # The evaluator gives every nested block an ``id`` of its own, over the written one:
                # the launch template referred to is among the block's references.
                for reference in block_meta(spec).get("references") or ():
                    found = self.references.by_id.get(reference.get("id")) if isinstance(reference, dict) else None
                    if found is not None and block_meta(found).get("label") == LAUNCH_TEMPLATE:
                        uses.append(str(block_meta(found).get("path", "")))
        return uses

    def _sg_attachment(self, entry: dict) -> Target | None:
        interface = self.references.referenced(entry.get("network_interface_id"), entry)
        group = self.references.key(entry.get("security_group_id"), entry, ("aws_security_group", "aws_default_security_group"))
        if interface is None or group is None:
            return None
        meta = block_meta(interface)
        return Target(str(meta.get("path", "")), str(meta.get("label", "")), self.reader.positions.block_location(entry),
                      (group,))

    # -- evidence -----------------------------------------------------------------------------

    def _image(self, entry: dict, name: str, attributes: dict) -> list[Evidence]:
        value = entry.get(name)
        if value is None:
            return []
        meta = block_meta(entry)
        source = self.references.referenced(value, entry)
        if source is not None:
            return self._data_image(source)
        if isinstance(value, str):
            match = _SSM_PREFIX.match(value.strip())
            image = (match[1] or match[2]).strip() if match else value
            return [Evidence("image", image, name, self.references.position(meta, attributes, name, value))]
        if isinstance(value, dict) and "__attribute__" in value or isinstance(value, list):
            return []  # unresolved, or a value an image id cannot be
        raise RuleError(f"{name} {excerpt(value)} is not an image id")

    def _data_image(self, source: dict) -> list[Evidence]:
        meta = block_meta(source)
        if meta.get("type") != "data":
            return []
        path = str(meta.get("path", ""))
        block = self.reader.positions.block(meta)
        attributes = block.attributes if block else {}
        found = []
        if meta.get("label") == "aws_ssm_parameter":
            if isinstance(source.get("name"), str):
                found.append(Evidence("image", source["name"], f"{path}.name",
                                      self.references.position(meta, attributes, "name", source["name"])))
        elif meta.get("label") == "aws_ami":
            on_line: dict[tuple, int] = {}
            for item in _blocks(source.get("filter")):
                item_meta = block_meta(item)
                filter_name = item.get("name")
                kind = {"name": "image", "platform": "platform"}.get(filter_name) if isinstance(filter_name, str) else None
                line_key = (item_meta.get("filename"), item_meta.get("line_start"))
                on_line[line_key] = on_line.get(line_key, -1) + 1
                if kind is None:
                    continue
                item_block = self.reader.positions.block(item_meta, "filter", on_line[line_key]) if item_meta else None
                item_attributes = item_block.attributes if item_block else {}
                where = item_meta if item_meta else meta
                for value in _items(item.get("values"), "values"):
                    if isinstance(value, str):
                        found.append(Evidence(kind, value, f"{path}.filter.{filter_name}",
                                              self.references.position(where, item_attributes, "values", value)))
            if isinstance(source.get("name_regex"), str):
                found.append(Evidence("image", source["name_regex"], f"{path}.name_regex",
                                      self.references.position(meta, attributes, "name_regex", source["name_regex"])))
        return found

    def _user_data(self, entry: dict, kind: str, attributes: dict) -> list[Evidence]:
        meta = block_meta(entry)
        found = []
        if meta.get("plan"):
            return found  # a plan gives the user data's hash, not its text
        for name in ("user_data", "user_data_base64"):
            value = entry.get(name)
            if not isinstance(value, str) or not value:
                continue
            location = self.references.position(meta, attributes, name, value)
            written = _line(location.file, location.line) if name in attributes else ""
            if _READS_FILE.search(written):
                continue  # the text of another file: not read
            if name == "user_data_base64" or _ENCODES.search(written) or kind == LAUNCH_TEMPLATE:
                value = _decoded(value)  # a launch template's user data is base64 (as AWS takes it)
            found.append(Evidence("user-data", value[:USER_DATA_LIMIT], name, location))
        return found


class NetworkReader:
    """Network ACL entries and load balancer listeners as permissions (into ``reader``'s), and
    which ACL guards which subnet."""

    def __init__(self, reader: ModuleReader, references: References):
        self.reader = reader
        self.references = references
        self.subnet_acls: list[SubnetAcl] = []

    def read(self, entry: dict, kind: str) -> None:
        """The permissions (or subnet ACL) of an ACL, ACL rule or association, or a listener."""
        if kind in NETWORK_ACLS:
            self._network_acl(entry, kind)
        elif kind == ACL_RULE:
            self._acl_rule(entry, kind)
        elif kind == ACL_ASSOCIATION:
            self._association(entry)
        elif kind in LISTENERS:
            self._listener(entry, kind)
        elif kind == CLASSIC_LB:
            self._classic(entry, kind)

    def _network_acl(self, entry: dict, kind: str) -> None:
        meta = block_meta(entry)
        address = str(meta.get("path", ""))
        acl = self.references.prefix + address
        entry_location = self.reader.positions.block_location(entry)
        for key, direction in (("ingress", Direction.INGRESS), ("egress", Direction.EGRESS)):
            for item, rule in self.reader.inline_rules(entry, key):
                try:
                    self._acl_permissions(address, kind, address, direction, rule, "rule_no", "action",
                                          self.reader.provenance(entry, item), entry_location)
                except RuleError as exc:
                    self.reader.errors.append(InputError(rule.location.file, rule.location.line,
                                                         f"{address} {key}: {exc}"))
        block = self.reader.positions.block(meta)
        attributes = block.attributes if block else {}
        for item in _items(entry.get("subnet_ids"), "subnet_ids"):
            subnet = self.references.key(item, entry, ("aws_subnet", "aws_default_subnet"))
            if subnet is not None:
                self.subnet_acls.append(SubnetAcl(acl, subnet, self.references.position(
                    meta, attributes, "subnet_ids", item if isinstance(item, str) else None)))

    def _acl_rule(self, entry: dict, kind: str) -> None:
        meta = block_meta(entry)
        address = str(meta.get("path", ""))
        egress = entry.get("egress", False)
        if isinstance(egress, dict) or egress is None:
            return  # the direction is not known: nothing can be said
        if not isinstance(egress, bool):
            raise RuleError(f"egress must be true or false, not {excerpt(egress)}")
        found = self.references.referenced(entry.get("network_acl_id"), entry, NETWORK_ACLS)
        acl = str(block_meta(found).get("path")) if found is not None else entry.get("network_acl_id")
        acl = acl if isinstance(acl, str) and acl and acl not in self.references.by_id else address
        block = self.reader.positions.block(meta)
        location = self.reader.positions.block_location(entry)
        rule = Rule(entry, block.attributes if block else {}, location)
        self._acl_permissions(address, kind, acl, Direction.EGRESS if egress else Direction.INGRESS, rule,
                              "rule_number", "rule_action", self.reader.provenance(entry), location)

    def _acl_permissions(self, address: str, kind: str, acl: str, direction: Direction, rule: Rule,
                         number_key: str, action_key: str, provenance: tuple[Provenance, ...],
                         resource_location: Location) -> None:
        number = rule.values.get(number_key)
        if unknown_reason(number, number_key):
            number = None
        else:
            number = netmath.parse_port(number) if not isinstance(number, bool) else None
            if number is None or not 1 <= number <= 32766:
                raise RuleError(f"{number_key} {excerpt(rule.values.get(number_key))} is not a rule number (1-32766)")
        action = rule.values.get(action_key)
        if unknown_reason(action, action_key):
            return  # allow or deny is not known: nothing can be said
        if not isinstance(action, str) or action.lower() not in ("allow", "deny"):
            raise RuleError(f"{action_key} must be allow or deny, not {excerpt(action)}")
        permissions = list(self.reader.rule_permissions(address, kind, acl, direction, rule, provenance,
                                                         resource_location, protocol_key="protocol",
                                                         ipv4="cidr_block", ipv6="ipv6_cidr_block"))
        # A plan spells an absent CIDR as "" (cidr_block or ipv6_cidr_block): no entry for it.
        self.reader.permissions.extend(p._replace(control="network-acl", rule_number=number, action=action.lower())
                                       for p in permissions if p.peer.text != "")

    def _association(self, entry: dict) -> None:
        acl = self.references.key(entry.get("network_acl_id"), entry, NETWORK_ACLS)
        subnet = self.references.key(entry.get("subnet_id"), entry, ("aws_subnet", "aws_default_subnet"))
        if acl is None or subnet is None:
            return
        meta = block_meta(entry)
        block = self.reader.positions.block(meta)
        value = entry.get("subnet_id")
        self.subnet_acls.append(SubnetAcl(acl, subnet, self.references.position(
            meta, block.attributes if block else {}, "subnet_id", value if isinstance(value, str) else None)))

    # -- load balancers -----------------------------------------------------------------------

    def _scheme(self, balancer: dict) -> tuple[Peer, Provenance] | None:
        """The peer of an internet-facing load balancer (None for an internal one)."""
        meta = block_meta(balancer)
        block = self.reader.positions.block(meta)
        attributes = block.attributes if block else {}
        location = self.references.position(meta, attributes, "internal")
        internal = balancer.get("internal")
        why = unknown_reason(internal, "internal") if "internal" in balancer or "internal" in attributes else None
        if why:
            return Peer("unknown", why), Provenance("Scheme", "unknown", why, location)
        if internal is True:
            return None
        if internal not in (None, False):
            raise RuleError(f"internal must be true or false, not {excerpt(internal)}")
        written = "literal" if internal is False else "default"
        return _WORLD, Provenance("Scheme", written, "internet-facing", location)

    def _listener(self, entry: dict, kind: str) -> None:
        balancer = self.references.referenced(entry.get("load_balancer_arn"), entry, LOAD_BALANCERS)
        if balancer is None:
            return  # a load balancer defined elsewhere: its scheme is not known
        scheme = self._scheme(balancer)
        if scheme is None:
            return
        peer, scheme_step = scheme
        meta = block_meta(entry)
        block = self.reader.positions.block(meta)
        attributes = block.attributes if block else {}
        port = _port(entry.get("port"), "port")
        if port is None:
            return
        forwards, steps = [], []
        for action in _blocks(entry.get("default_action")):
            arns = [action.get("target_group_arn")]
            for forward in _blocks(action.get("forward")):
                arns += [group.get("arn") for group in _blocks(forward.get("target_group"))]
            for arn in arns:
                group = self.references.referenced(arn, entry, TARGET_GROUPS) if arn is not None else None
                if group is None:
                    continue
                group_port = _port(group.get("port"), "port")
                if group_port is None:
                    continue
                group_meta = block_meta(group)
                group_block = self.reader.positions.block(group_meta)
                forwards.append(PortRange(group_port, group_port))
                steps.append(Provenance("TargetGroupArn", "reference",
                                        f"target group {group_meta.get('path')} port {group_port}",
                                        self.references.position(group_meta, group_block.attributes if group_block else {},
                                                       "port")))
        guards = tuple(self.references.keys(balancer, "security_groups", ("aws_security_group", "aws_default_security_group")))
        location = self.references.position(meta, attributes, "port")
        self._listener_permissions(entry, kind, block_meta(balancer), entry.get("protocol"), port, tuple(forwards),
                                   guards, peer, (scheme_step, *steps), location,
                                   self.reader.positions.block_location(entry))

    def _classic(self, entry: dict, kind: str) -> None:
        scheme = self._scheme(entry)
        if scheme is None:
            return
        peer, scheme_step = scheme
        meta = block_meta(entry)
        guards = tuple(self.references.keys(entry, "security_groups", ("aws_security_group", "aws_default_security_group")))
        on_line: dict[tuple, int] = {}
        for listener in _blocks(entry.get("listener")):
            listener_meta = block_meta(listener)
            line_key = (listener_meta.get("filename"), listener_meta.get("line_start"))
            on_line[line_key] = on_line.get(line_key, -1) + 1
            block = self.reader.positions.block(listener_meta, "listener", on_line[line_key]) if listener_meta else None
            where = listener_meta if listener_meta else meta
            attributes = block.attributes if block else {}
            port = _port(listener.get("lb_port"), "lb_port")
            if port is None:
                continue
            instance_port = _port(listener.get("instance_port"), "instance_port")
            forwards = (PortRange(instance_port, instance_port),) if instance_port is not None else ()
            start = Location(self.reader.positions.file_of(where), block.line, block.column) if block else \
                self.reader.positions.block_location(entry)
            self._listener_permissions(entry, kind, meta, listener.get("lb_protocol"), port, forwards, guards, peer,
                                       (scheme_step,), self.references.position(where, attributes, "lb_port"), start)

    def _listener_permissions(self, entry: dict, kind: str, balancer_meta: dict, protocol: object, port: int,
                              forwards: tuple[PortRange, ...], guards: tuple[str, ...], peer: Peer,
                              steps: tuple[Provenance, ...], location: Location, start: Location) -> None:
        if protocol is None:
            protocols = ("tcp",)  # HTTP, an application load balancer's default
        elif isinstance(protocol, str) and protocol.lower() in _LISTENER_PROTOCOLS:
            protocols = _LISTENER_PROTOCOLS[protocol.lower()]
        elif unknown_reason(protocol, "protocol"):
            protocols = ("unknown",)
        else:
            return  # GENEVE (a gateway load balancer) and the like: not a listener of the internet
        for name in protocols:
            self.reader.permissions.append(Permission(
                resource=str(block_meta(entry).get("path", "")), resource_type=kind,
                group=self.references.prefix + str(balancer_meta.get("path", "")), direction=Direction.INGRESS,
                protocol=name, ports=PortRange(port, port), peer=peer, location=location, rule_location=start,
                provenance=self.reader.provenance(entry) + steps, resource_location=self.reader.positions.block_location(entry),
                control="load-balancer", guards=guards, forwards_to=forwards))


def _port(value: object, key: str) -> int | None:
    """A listener's or target group's port; None when unknown; an error when it is not a port."""
    if value is None or unknown_reason(value, key):
        return None
    port = netmath.parse_port(value) if not isinstance(value, bool) else None
    if port is None or not 1 <= port <= 65535:
        raise RuleError(f"{key} {excerpt(value)} is not a port number")
    return port


def _items(value: object, name: str) -> list:
    """A list attribute's items (a single value as one item); nothing for an unresolved value."""
    if value is None or isinstance(value, dict) and "__attribute__" in value:
        return []
    if isinstance(value, list):
        for item in value:
            if not (item is None or isinstance(item, str) or isinstance(item, dict) and "__attribute__" in item):
                raise RuleError(f"{name} holds {excerpt(item)}, not an id")
        return value
    if isinstance(value, str):
        return [value]
    raise RuleError(f"{name} {excerpt(value)} is not an id or a list of ids")


def _blocks(value: object) -> Iterator[dict]:
    """A nested block given as one object or a list of them."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "__attribute__" not in item:
            yield item


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _module_of(path: str) -> str:
    """``module.a.module.b.aws_x.y`` -> ``module.a.module.b.``; ``aws_x.y`` -> ``""``."""
    prefixes = module_prefixes(path)
    return prefixes[-1] + "." if prefixes else ""


def _decoded(value: str) -> str:
    """The text of base64 user data; the value as written when it is not base64 of UTF-8 text."""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return value


def _line(path: str, line: int) -> str:
    """One line of a file (the user data's attribute: what it is written with)."""
    try:
        lines = read_bytes(path).decode("utf-8", errors="replace").split("\n")  # as the evaluator counts them
    except OSError:
        return ""
    return lines[line - 1] if 0 < line <= len(lines) else ""
