"""CloudFormation templates (YAML or JSON, SAM and CDK output included)."""

from __future__ import annotations

from winportlint.hookspecs import hookimpl
from winportlint.model import FileResult, InputError

#: Every security-group resource type contains this text; a file without it
#: (in any Unicode encoding, and without escapes that could spell it) holds none.
_MARKER = "AWS::EC2::SecurityGroup"
#: A template is read when it holds a security group, a network ACL (entries,
#: associations) or a load balancer (classic or v2): each gives permissions. Targets
#: (instances, launch templates) alone link to no group, and are not worth reading.
_MARKERS = (_MARKER, "AWS::EC2::NetworkAcl", "AWS::ElasticLoadBalancing")
#: A template that calls others (nested stacks) is read for what they hold.
_STACK_MARKERS = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
_BYTE_MARKERS = tuple(marker.encode() for marker in (*_MARKERS, *_STACK_MARKERS))
#: Resource types read for context (targets, subnet ACLs) and for network permissions.
_CONTEXT_TYPES = frozenset(("AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration",
                            "AWS::AutoScaling::AutoScalingGroup", "AWS::EC2::NetworkInterface",
                            "AWS::EC2::SubnetNetworkAclAssociation"))
_STACK_TYPES = frozenset(_STACK_MARKERS)
_NETWORK_TYPES = frozenset(("AWS::EC2::NetworkAclEntry", "AWS::ElasticLoadBalancingV2::Listener",
                            "AWS::ElasticLoadBalancing::LoadBalancer"))


class CloudFormationFormat:
    name = "cloudformation"
    suffixes = (".yaml", ".yml", ".json", ".template")

    def parse(self, path: str, data: bytes) -> FileResult | None:
        from winportlint.textfile import NotText, decode

        if not any(marker in data for marker in _BYTE_MARKERS) and not _may_hide_marker(data) \
                and not _may_be_service(data):  # a service may hold its resources in other files
            return None
        try:
            text = decode(data)
        except NotText as exc:
            return FileResult(errors=[InputError(path, exc.line, str(exc))])
        own = _has_marker(text) or "\\" in text or _may_be_service(data)
        if not own and not any(marker in text for marker in _STACK_MARKERS):
            return None
        from winportlint.nodes import LoadError, load

        from .extract import is_template
        from .intrinsics import SHORT_TAGS

        result = FileResult()
        try:
            documents = load(text, _json_syntax(path, text), SHORT_TAGS)
        except LoadError as exc:
            if not _has_marker(text):  # unreadable, and no sign of a security group, ACL or LB: not ours
                return None
            result.errors.append(InputError(path, exc.line, str(exc)))
            return result
        templates = [(path, document) for document in documents if is_template(document)]
        # a loop's key may be escaped; a service's resources may come from other files
        may_loop = "ForEach" in text or "\\" in text
        if any(token in data for token in _SERVERLESS_VARIABLES) or all(key in data for key in _SERVICE_KEYS):
            from .serverless import has_variables, is_service

            if any(is_service(d) or (is_template(d) and has_variables(d)) for d in documents):
                # the Serverless Framework reads its files with js-yaml: 06475 is 6475 there
                documents = load(text, _json_syntax(path, text), SHORT_TAGS, js_yaml=True)
                templates = [(path, document) for document in documents if is_template(document)]
                services = [document for document in documents if not is_template(document)]
                templates = _with_serverless_variables(path, templates, services, result)
                may_loop = may_loop or bool(services)
        if not templates and not result.errors:
            return None
        for where, document in templates:
            _read_template(where, document, result, may_loop=may_loop)
            if _resource_types(document) & _STACK_TYPES:
                from .stacks import Nesting

                Nesting(where, _load_template, _read_template).read_stacks(where, document, result)
        if not (own or result.permissions or result.errors or result.children):
            return None  # calls only remote templates: no file of ours
        return result

    def comments(self, path: str, data: bytes) -> list[tuple[int, int, str]]:
        """YAML comments; none in JSON, which has no comments (JSON templates use ``Metadata``)."""
        from winportlint.textfile import NotText, decode

        try:
            text = decode(data)
        except NotText:  # parse reports it
            return []
        if _json_syntax(path, text):
            return []
        from winportlint.nodes import yaml_comments

        return yaml_comments(text)

    def fixes(self, finding, request, read) -> list:
        """Edits in the rule or in a parameter's Default (see :mod:`.fixes`)."""
        from winportlint.textfile import NotText, decode

        from .fixes import fixes
        from .serverless_fixes import variable_fixes

        path = finding.location.file
        data = read(path)
        try:
            json_syntax = _json_syntax(path, decode(data))
        except NotText:
            return []
        return variable_fixes(path, data, finding, request, json_syntax, read) or \
            fixes(path, data, finding, request, json_syntax)


def is_template_file(path: str, data: bytes) -> bool:
    """Whether a file is a CloudFormation template (any document a mapping with a ``Resources``
    mapping), read as ``parse`` reads it. Text that is no YAML or JSON counts when it names
    ``Resources``, so a broken template still reaches a linter that reports why."""
    from winportlint.nodes import LoadError, load
    from winportlint.textfile import NotText, decode

    from .extract import is_template
    from .intrinsics import SHORT_TAGS

    if b"Resources" not in data and not _may_hide_marker(data):
        return False
    try:
        text = decode(data)
        documents = load(text, _json_syntax(path, text), SHORT_TAGS)
    except NotText:
        return False
    except LoadError:
        return "Resources" in text
    return any(is_template(document) for document in documents)


def _read_template(path: str, document, result: FileResult, arguments=None, may_loop: bool = True) -> None:
    """The permissions, targets and errors of one template (written in ``path``) into ``result``;
    ``arguments`` are the values a parent stack passes for its parameters; ``may_loop``: the
    text may spell ``Fn::ForEach`` (else its loops are not looked for)."""
    from .extract import extract

    expansion = None
    if may_loop:
        from .loops import expand, has_loops

        if has_loops(document):
            expansion = expand(path, document)
            document = expansion.document
            result.permissions.extend(expansion.unknown)
            result.errors.extend(expansion.errors)
    permissions, errors = extract(path, document, arguments)
    result.permissions.extend(expansion.named(permissions) if expansion else permissions)
    result.errors.extend(errors)
    types = _resource_types(document)
    if types & _CONTEXT_TYPES:
        from .context import extract_context

        targets, subnet_acls, errors = extract_context(path, document, arguments)
        result.targets.extend(targets)
        result.subnet_acls.extend(subnet_acls)
        result.errors.extend(errors)
    if types & _NETWORK_TYPES:
        from .network import extract_network

        permissions, errors = extract_network(path, document, arguments)
        result.permissions.extend(expansion.named(permissions) if expansion else permissions)
        result.errors.extend(errors)


def _with_serverless_variables(path: str, templates: list, services: list, result: FileResult) -> list:
    """The templates of a Serverless service (``resources``, its fragments from other files
    included), and templates whose strings hold Serverless variables, resolved (see ``serverless``)."""
    from .serverless import Service, has_variables, is_service

    resolved = []
    for where, document in templates:
        if has_variables(document):  # a fragment read on its own: its variables are unknown here
            fragment = Service(path, None, _load_fragment)
            document = fragment.template(document, where)
            result.inputs.extend(fragment.inputs)
        resolved.append((where, document))
    for document in services:
        if is_service(document):
            service = Service(path, document, _load_fragment)
            resolved.extend((where, template) for where, template in service.templates()
                            if isinstance(template.value, dict) and "Resources" in template.value)
            result.errors.extend(service.errors)
            result.inputs.extend(service.inputs)
            result.children.extend(service.children)
    return resolved


def _load_fragment(path: str):
    """The first document of a file a Serverless ``${file()}`` names, read as the framework reads
    it (js-yaml); raises OSError or ValueError."""
    return _first_document(path, js_yaml=True)


def _load_template(path: str):
    """The first document of a nested stack's template (raises OSError or ValueError)."""
    return _first_document(path, js_yaml=False)


def _first_document(path: str, js_yaml: bool):
    from winportlint.nodes import LoadError, load
    from winportlint.textfile import decode, read_bytes

    from .intrinsics import SHORT_TAGS

    text = decode(read_bytes(path))
    try:
        documents = load(text, _json_syntax(path, text), SHORT_TAGS, js_yaml=js_yaml)
    except LoadError as exc:
        raise ValueError(f"line {exc.line}: {exc}") from None
    if not documents:
        raise ValueError("it is empty")
    return documents[0]


#: Sources of Serverless Framework variables (``${self:custom.cidr}``, ``${opt:stage, 'dev'}``).
SERVERLESS_SOURCES = ("self:", "opt:", "sls:", "env:", "file(", "ssm:", "cf:", "cf(", "s3:", "aws:", "param:", "sls(")
#: A Serverless variable's start: a file holding one may be a service, or a fragment of one.
_SERVERLESS_VARIABLES = tuple(b"${" + source.encode() for source in SERVERLESS_SOURCES)


#: The keys of a Serverless Framework service (a service need not use any variable).
_SERVICE_KEYS = (b"service", b"provider", b"resources")


def _may_be_service(data: bytes) -> bool:
    """A Serverless Framework service whose resources may all be in other files (``${file()}``)."""
    return b"${file(" in data and b"resources" in data and b"provider" in data


def _json_syntax(path: str, text: str) -> bool:
    """Whether the file is read as JSON: the same text read as YAML would take ``#`` in it for comments."""
    return not path.endswith((".yaml", ".yml")) and text.lstrip()[:1] in ("{", "[")


def _has_marker(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def _resource_types(document) -> set[str]:
    types = set()
    for resource in document.value["Resources"].value.values():
        kind = resource.value.get("Type") if isinstance(resource.value, dict) else None
        if kind is not None and isinstance(kind.value, str):
            types.add(kind.value)
    return types


def _may_hide_marker(data: bytes) -> bool:
    """Text that is not plain UTF-8, or that has escapes, is decoded before deciding."""
    return b"\\" in data or b"\x00" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff") or _not_utf8(data)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@hookimpl
def winportlint_formats():
    return [CloudFormationFormat()]
