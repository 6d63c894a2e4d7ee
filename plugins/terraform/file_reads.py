"""Terraform's file functions, confined to the scanned folders.

``file("../../../../proc/self/environ")`` makes the evaluator read any file the
process can (it joins the path to the module's folder and opens it, symlinks
followed), and a value read that way can reach a report. The evaluator cannot be
told to refuse, so every call of a function that reads the file system is
checked before it runs: its path must be a literal, or ``path.module`` /
``path.root`` joined with one, that leads (symlinks resolved) to a regular file
of at most the reader's size limit inside a scanned folder. Any other call is
replaced, in a scratch copy of the module's files, by a reference to nothing
(its value is unknown, as a value known only after apply is), keeping every line
where it was; the reason is given with the unknown value. A module with no such
call is evaluated as it is.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from winportlint.engine import within_trees
from winportlint.textfile import MAX_FILE_BYTES, UnreadableFile, read_bytes

from .hcl_positions import CONFIG_SUFFIXES, index_file, is_json

#: Terraform's functions that read the file system (the evaluator has no others).
FILE_FUNCTIONS = ("file", "fileexists", "fileset", "filebase64", "filebase64sha256", "filebase64sha512",
                  "filemd5", "filesha1", "filesha256", "filesha512", "templatefile")
_NAMES = "|".join(sorted(FILE_FUNCTIONS, key=len, reverse=True))
#: A call of one, anywhere in a file's bytes: a module without one needs nothing here.
_ANY_CALL = re.compile(rf"(?<![\w.:-])(?:{_NAMES})\s*\(".encode())
_CALL = re.compile(rf"(?<![\w.:-])({_NAMES})\s*\(")
#: Why a call is not evaluated, by code (the code is part of the reference put in its place).
REASONS = {
    "outside": "{}() outside the scanned folder is not read",
    "dynamic": "{}() of a path known only when evaluated is not read",
    "special": "{}() of a FIFO, device or folder is not read",
    "large": "{}() of a file over the size limit is not read",
    "nested": "{}() of a template that reads files is not read",
}
_REFERENCE = "winportlint_unread_"
_UNREAD = re.compile(rf"local\.{_REFERENCE}([a-z]+)_([a-z0-9]+)")
#: Deeper nesting of strings and interpolations is not followed (the file is not evaluated).
MAX_DEPTH = 200


def reason(reference: str) -> str | None:
    """The reason for an unknown value that is the reference put in place of a call, else None."""
    match = _UNREAD.fullmatch(reference)
    if match is None or match[1] not in REASONS:
        return None
    return REASONS[match[1]].format(match[2])


@dataclass
class Confined:
    """What to evaluate for a root module: ``folder`` and ``files`` (the module's own, or its
    scratch copy's), the files that file functions read (``reads``), and the calls left
    unread: (file, line, reason), the file as the module's files name it."""

    folder: str
    files: list[str]
    reads: list[str] = field(default_factory=list)
    unread: list[tuple[str, int, str]] = field(default_factory=list)
    scratch: tempfile.TemporaryDirectory | None = None

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None


class Unscannable(Exception):
    """A file whose calls cannot be found (nesting too deep): (path, line, message)."""


def confine(folder: str, files: list[str], trees: tuple[str, ...], list_files: Callable[[str], list[str]],
            dropped: Sequence[str] = ()) -> Confined:
    """The root module ``folder`` (whose files are ``files``) made safe to evaluate: its file
    function calls, and those of every module it calls, checked against ``trees`` (real paths).
    ``list_files`` gives a module folder's files; the evaluation reads only those, without the
    ``dropped`` ones: any other file the evaluator would read there (an invalid file, a ``.tf``
    file OpenTofu replaces) is left out of a scratch copy. Raises :class:`Unscannable`."""
    read: dict[str, bytes] = {}
    left_out = {os.path.realpath(path) for path in dropped}

    def kept_files(module: str) -> list[str]:
        return [path for path in list_files(module) if os.path.realpath(path) not in left_out]

    files = [path for path in files if os.path.realpath(path) not in left_out]
    modules = _modules(folder, files, read, kept_files)
    sources = {path: data for path, data in read.items() if _ANY_CALL.search(data)}
    confined = Confined(folder, files)
    hidden = _hidden(modules)
    if not sources and not hidden:
        return confined
    root = os.path.abspath(folder)
    rewrites: dict[str, str] = {}
    targets: list[str] = []
    for module, module_files in modules.items():
        module_path = os.path.relpath(os.path.abspath(module), root).replace(os.sep, "/")

        def refused(calls: list[tuple[int, int, str, list[str]]]) -> list[tuple[int, int, str, str]]:
            """The calls not to evaluate, with why; the others' files are noted."""
            found = []
            for start, end, name, args in calls:
                why, target = _check(name, args, module_path, root, trees)
                if why is not None:
                    found.append((start, end, name, why))
                elif target is not None:  # an input of the result: a file, a missing one, a folder listed
                    targets.append(target)
                    read = os.path.normpath(os.path.join(folder, os.path.relpath(target, root)))
                    confined.reads.extend(_folders_below(read) if name == "fileset" else [read])
            return found

        for path in module_files:
            if path in sources:
                text = sources[path].decode("utf-8", "replace")
                rewritten = _rewrite_json(path, text, refused, confined.unread) if is_json(path) \
                    else _rewrite_hcl(path, text, refused, confined.unread)
                if rewritten is not None:
                    rewrites[os.path.abspath(path)] = rewritten
    confined.reads = sorted(set(confined.reads))
    if rewrites or hidden:
        _mirror(confined, root, [os.path.abspath(m) for m in modules], targets, rewrites, hidden)
    return confined


def _hidden(modules: dict[str, list[str]]) -> set[str]:
    """The configuration files in the module folders that are not among their files (absolute
    paths): the evaluator lists each folder itself, and would read them."""
    hidden: set[str] = set()
    for module, module_files in modules.items():
        try:
            names = os.listdir(module or ".")
        except OSError:
            continue
        kept = {os.path.basename(path) for path in module_files}
        hidden.update(os.path.abspath(os.path.join(module, name)) for name in names
                      if name[:1] != "." and name.endswith(CONFIG_SUFFIXES) and name not in kept)
    return hidden


def _modules(folder: str, files: list[str], read: dict[str, bytes], module_files: Callable[[str], list[str]]
             ) -> dict[str, list[str]]:
    """The module folders an evaluation of ``folder`` reads, as paths from it (local module
    sources, and what ``terraform init`` downloaded), with their files; ``read`` gets the
    bytes of each file (one that cannot be read is left out: the evaluation reports it)."""
    found = {os.path.normpath(folder): files}
    todo = [os.path.normpath(folder)]
    manifest = os.path.join(folder, ".terraform", "modules", "modules.json")
    try:
        entries = json.loads(read_bytes(manifest)).get("Modules") or []
    except (OSError, UnreadableFile, ValueError, AttributeError):
        entries = []
    for entry in entries if isinstance(entries, list) else ():
        directory = entry.get("Dir") if isinstance(entry, dict) else None
        if isinstance(directory, str) and directory not in ("", "."):
            todo.append(os.path.normpath(os.path.join(folder, directory)))
    while todo and len(found) < 10_000:
        module = todo.pop()
        if module not in found:
            found[module] = module_files(module)
        for path in found[module]:
            try:
                read[path] = read_bytes(path)
                if b"module" not in read[path]:
                    continue
                index = index_file(path, read[path])
            except (OSError, UnreadableFile):
                continue
            for block in index.top_level:
                source = block.attributes.get("source") if block.kind == "module" else None
                target = source.strings[0][0] if source is not None and source.strings else ""
                if target.startswith(("./", "../")):
                    called = os.path.normpath(os.path.join(module, target))
                    if called not in found and os.path.isdir(called):
                        found[called] = module_files(called)
                        todo.append(called)
    return found


#: A path argument the check can follow: a literal string, ``path.module`` or ``path.root``
#: joined with literal text in it, or either alone.
_PATH_ARG = re.compile(r'"((?:[^"\\$%\n]|\\.|\$\$\{|%%\{|[$%](?!\{)|\$\{\s*path\.(?:module|root)\s*\})*)"'
                       r'|path\.(module|root)')
_ESCAPE = re.compile(r'\\(["\\nrt]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})|\\|\$\{\s*path\.(module|root)\s*\}|\$\$\{|%%\{')


def _literal_path(argument: str, module_path: str) -> str | None:
    """The path an argument spells, ``path.module`` and ``path.root`` replaced as the
    evaluator gives them (the module's folder from the root's, and ``.``); None if it
    is not that simple."""
    match = _PATH_ARG.fullmatch(argument.strip())
    if match is None:
        return None
    if match[2]:
        return module_path if match[2] == "module" else "."
    failed = False

    def unescape(escape: re.Match) -> str:
        nonlocal failed
        text = escape.group()
        if escape[2]:
            return module_path if escape[2] == "module" else "."
        if text in ("$${", "%%{"):
            return text[1:]
        if escape[1] is None:
            failed = True
            return text
        code = escape[1]
        return {"n": "\n", "r": "\r", "t": "\t"}.get(code) or (chr(int(code[1:], 16)) if len(code) > 1 else code)

    path = _ESCAPE.sub(unescape, match[1])
    return None if failed else path


#: A ``fileset`` is an input through at most this many folders (its listings).
MAX_LISTED_FOLDERS = 1000


def _folders_below(folder: str) -> list[str]:
    """A folder and those below it (symlinks not followed), whose listings a ``fileset`` with a
    ``**`` pattern reads: a file added anywhere there is a change."""
    found = [folder]
    for parent, names, _ in os.walk(folder):
        names[:] = sorted(name for name in names if name not in (".git", ".terraform"))
        found += [os.path.join(parent, name) for name in names]
        if len(found) >= MAX_LISTED_FOLDERS:
            break
    return found[:MAX_LISTED_FOLDERS]


def _check(name: str, args: list[str], module_path: str, root: str, trees: tuple[str, ...]
           ) -> tuple[str | None, str | None]:
    """(why the call is not to be evaluated, None) or (None, the file it reads: a lexical path)."""
    path = _literal_path(args[0], module_path) if args else None
    if path is None:
        return "dynamic", None
    if path.startswith("~") or os.path.isabs(path) or "\x00" in path:
        return "outside", None
    target = os.path.normpath(os.path.join(root, path))
    real = os.path.realpath(target)
    if not within_trees(real, trees):
        return "outside", None
    if name == "fileset":
        pattern = _literal_path(args[1], module_path) if len(args) > 1 else None
        if pattern is None or ".." in pattern or os.path.isabs(pattern) or pattern.startswith("~"):
            return "dynamic", None
        return None, target
    try:
        status = os.stat(real)
    except OSError:
        return None, target  # not there: the evaluator reads nothing (the call fails)
    if name == "fileexists":
        return None, target
    if not stat.S_ISREG(status.st_mode):
        return "special", None
    if status.st_size > MAX_FILE_BYTES:
        return "large", None
    if name == "templatefile":
        try:
            if _ANY_CALL.search(read_bytes(real)):
                return "nested", None
        except (OSError, UnreadableFile):
            return "special", None
    return None, target


def _replace(text: str, calls: list[tuple[int, int, str, str]]) -> tuple[str, list[tuple[int, str]]]:
    """The text with each call (outermost first) replaced by a reference to nothing, in
    parentheses holding the call's newlines (so every line stays where it was); and the
    offset and reason of each call replaced."""
    parts, last, replaced = [], 0, []
    for start, end, name, why in sorted(calls):
        if start < last:
            continue  # inside a call replaced already
        newlines = "\n" * text.count("\n", start, end)
        parts += [text[last:start], f"(local.{_REFERENCE}{why}_{name}{newlines})"]
        replaced.append((start, REASONS[why].format(name)))
        last = end
    parts.append(text[last:])
    return "".join(parts), replaced


def _rewrite_hcl(path: str, text: str, refused, unread: list[tuple[str, int, str]]) -> str | None:
    """A ``.tf`` file's text with the calls ``refused`` returns replaced (None if none is)."""
    scanner = _Scanner(text)
    try:
        scanner.expression(0, None, 0)
    except RecursionError:
        raise Unscannable(path, 1, _TOO_DEEP) from None
    calls = refused(scanner.calls)
    if not calls:
        return None
    rewritten, replaced = _replace(text, calls)
    unread += [(path, text.count("\n", 0, offset) + 1, why) for offset, why in replaced]
    return rewritten


#: A JSON string, and what follows it when it is an object's key.
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"(\s*:)?')
_TOO_DEEP = (f"strings and interpolations nested deeper than {MAX_DEPTH} levels: its file functions "
             f"cannot be checked, so the module is not evaluated")


def _rewrite_json(path: str, text: str, refused, unread: list[tuple[str, int, str]]) -> str | None:
    """As :func:`_rewrite_hcl` for a ``.tf.json`` file, whose string values are templates:
    a string with a call replaced is written again as JSON (on its one line)."""
    parts, last = [], 0
    for token in _STRING.finditer(text):
        if token[1]:
            continue  # a key
        try:
            value = json.loads(token.group())
        except ValueError:
            continue
        if not _CALL.search(value):
            continue
        scanner = _Scanner(value)
        try:
            scanner.template()
        except RecursionError:
            raise Unscannable(path, text.count("\n", 0, token.start()) + 1, _TOO_DEEP) from None
        calls = refused(scanner.calls)
        if calls:
            rewritten, replaced = _replace(value, calls)
            line = text.count("\n", 0, token.start()) + 1
            unread += [(path, line, why) for _, why in replaced]
            parts += [text[last:token.start()], json.dumps(rewritten, ensure_ascii=False)]
            last = token.end()
    if not parts:
        return None
    parts.append(text[last:])
    return "".join(parts)


def _mirror(confined: Confined, root: str, modules: list[str], targets: list[str], rewrites: dict[str, str],
            hidden: set[str]) -> None:
    """A scratch copy of the folders the evaluation reads, from their common folder: real
    folders along the paths to rewritten and ``hidden`` files (left out), symbolic links to
    everything else (so that relative module sources, ``.terraform`` and the files read
    resolve as from the real folder)."""
    anchor = os.path.commonpath([root, *modules, *targets])
    if not os.path.isdir(anchor):
        anchor = os.path.dirname(anchor)
    needed: set[str] = set()
    for path in [*rewrites, *hidden]:
        folder = os.path.dirname(path)
        while folder not in needed and folder.startswith(anchor):
            needed.add(folder)
            if folder == anchor:
                break
            folder = os.path.dirname(folder)
    scratch = tempfile.TemporaryDirectory(prefix="winportlint-files-")
    confined.scratch = scratch
    base = os.path.join(scratch.name, "tree")
    todo = [(anchor, base)]
    while todo:
        real, copy = todo.pop()
        os.mkdir(copy)
        for entry in os.listdir(real):
            source, destination = os.path.join(real, entry), os.path.join(copy, entry)
            if source in needed:
                todo.append((source, destination))
            elif source in hidden:
                continue
            elif source in rewrites:
                with open(destination, "w", encoding="utf-8") as handle:
                    handle.write(rewrites[source])
            else:
                os.symlink(source, destination)
    confined.folder = os.path.join(base, os.path.relpath(root, anchor))
    confined.files = [os.path.join(confined.folder, os.path.basename(path)) for path in confined.files]


class _Scanner:
    """Finds the calls of file functions in HCL native syntax: in expressions and in the
    interpolations and directives of strings and heredocs, not in comments or string text.
    A call is (start, end, name, its arguments' text)."""

    _COMMENT = re.compile(r"#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
    _STOP = re.compile(r'[^"#/<(){}\[\],a-zA-Z_]+|[a-zA-Z_][\w-]*')
    _HEREDOC = re.compile(r"<<-?([^\W\d][\w-]*)[ \t]*\r?\n")
    _TEXT = re.compile(r'(?:\\.|\$\$\{|%%\{|[^"\\\n$%]|[$%](?!\{))*')
    _INTERPOLATION = re.compile(r"\$\$\{|%%\{|[$%]\{")

    def __init__(self, text: str):
        self.text = text
        self.calls: list[tuple[int, int, str, list[str]]] = []

    def expression(self, pos: int, closer: str | None, depth: int) -> int:
        """From ``pos`` to the ``closer`` outside brackets (returns its offset), or the end."""
        if depth > MAX_DEPTH:
            raise RecursionError
        text = self.text
        end = len(text)
        brackets: list[tuple[str, list | None]] = []  # open bracket, and for a call: [name, start, commas]
        while pos < end:
            char = text[pos]
            if char in "#/" and (comment := self._COMMENT.match(text, pos)) is not None:
                pos = comment.end()
            elif char == '"':
                pos = self.quoted(pos + 1, depth + 1)
            elif char == "<" and (heredoc := self._HEREDOC.match(text, pos)) is not None:
                pos = self.heredoc(heredoc, depth + 1)
            elif char in "([{":
                brackets.append((char, None))
                pos += 1
            elif char in ")]}":
                if not brackets:
                    if char == closer:
                        return pos
                    pos += 1
                    continue
                _, call = brackets.pop()
                if call is not None:
                    name, opening, commas, start = call
                    bounds = [opening, *commas, pos]
                    args = [text[bounds[i] + 1:bounds[i + 1]] for i in range(len(bounds) - 1)]
                    self.calls.append((start, pos + 1, name, [a for a in args if a.strip()]))
                pos += 1
            elif char == "," and brackets and brackets[-1][1] is not None:
                brackets[-1][1][2].append(pos)
                pos += 1
            else:
                call = _CALL.match(text, pos)
                if call is not None:
                    brackets.append(("(", [call[1], call.end() - 1, [], pos]))
                    pos = call.end()
                else:
                    skipped = self._STOP.match(text, pos)
                    pos = skipped.end() if skipped is not None else pos + 1
        return end

    def quoted(self, pos: int, depth: int) -> int:
        """Past a quoted string from just after its opening quote."""
        text = self.text
        while True:
            pos = self._TEXT.match(text, pos).end()
            if text.startswith(("${", "%{"), pos):
                pos = self.expression(pos + 2, "}", depth + 1) + 1
                continue
            return pos + 1 if text.startswith('"', pos) else pos

    def template(self) -> None:
        """The whole text as template text (a ``.tf.json`` string's value)."""
        text, pos = self.text, 0
        while pos < len(text):
            found = self._INTERPOLATION.search(text, pos)
            if found is None:
                return
            pos = found.end()
            if len(found.group()) == 2:
                pos = self.expression(pos, "}", 1) + 1

    def heredoc(self, heredoc: re.Match, depth: int) -> int:
        text = self.text
        closing = re.compile(rf"^[ \t]*{re.escape(heredoc.group(1))}[ \t]*\r?$", re.M).search(text, heredoc.end())
        stop = closing.start() if closing else len(text)
        pos = heredoc.end()
        while pos < stop:
            found = self._INTERPOLATION.search(text, pos, stop)
            if found is None:
                break
            pos = found.end()
            if len(found.group()) == 2:
                pos = self.expression(pos, "}", depth + 1) + 1
        return closing.end() if closing else len(text)


class UnreadReasons:
    """Why a value is unknown when an unread call is written in it, or in a local it reads
    (directly or through other locals): the reader tells the user that instead of
    "not known before apply"."""

    _LOCAL = re.compile(r"\blocal\.([A-Za-z_][\w-]*)")

    def __init__(self, unread: list[tuple[str, int, str]], module_files: Callable[[str], list[str]]):
        self.lines: dict[str, dict[int, str]] = {}
        for path, line, why in unread:
            self.lines.setdefault(os.path.normpath(path), {}).setdefault(line, why)
        self.locals: dict[str, str] = {}
        if unread:
            self._find_locals(module_files)

    def _find_locals(self, module_files: Callable[[str], list[str]]) -> None:
        """The locals whose value holds an unread call, or reads such a local."""
        values: dict[str, tuple[str, str, str | None]] = {}  # name -> (file, value text, reason in it)
        for folder in sorted({os.path.dirname(path) for path in self.lines}):
            for path in module_files(folder):
                try:
                    index = index_file(path)
                except OSError:
                    continue
                text = getattr(index, "text", "")
                for block in index.top_level:
                    for name, attribute in block.attributes.items() if block.kind == "locals" else ():
                        value = text[attribute.span[0]:attribute.span[1]] if attribute.span else ""
                        values[name] = (path, value, self._in(os.path.normpath(path), attribute, text))
        self.locals = {name: why for name, (_, _, why) in values.items() if why}
        changed = True
        while changed:
            changed = False
            for name, (_, value, _) in values.items():
                if name not in self.locals:
                    why = next((self.locals[used] for used in self._LOCAL.findall(value) if used in self.locals), None)
                    if why:
                        self.locals[name] = why
                        changed = True

    def _in(self, path: str, attribute, text: str) -> str | None:
        lines = self.lines.get(path)
        if not lines:
            return None
        if attribute.span is None:  # JSON: to the last line of the strings in its value
            last = max([attribute.line, *(line for _, line, _ in attribute.strings)])
        else:
            last = text.count("\n", 0, attribute.span[1]) + 1
        return next((lines[line] for line in range(attribute.line, last + 1) if line in lines), None)

    def of(self, path: str, attribute, text: str) -> str | None:
        """The reason for an attribute (of the file ``path``, whose index text is ``text``)."""
        if not self.lines:
            return None
        why = self._in(os.path.normpath(path), attribute, text)
        if why is None and self.locals and attribute.span is not None:
            value = text[attribute.span[0]:attribute.span[1]]
            why = next((self.locals[used] for used in self._LOCAL.findall(value) if used in self.locals), None)
        return why
