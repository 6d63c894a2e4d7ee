"""Evaluate one Terraform root module with tfparse, offline.

tfparse (the HCL evaluator behind trivy/defsec) resolves variables, locals,
functions, count, for_each, dynamic blocks and local modules. Before calling
it, local module calls are checked here (a missing folder is an error; a
cycle would make the evaluator run out of memory), because tfparse ignores
the first and never returns from the second. The files it will read (called
and downloaded modules', ``.terraform/modules/modules.json``) are read here
first, by the one reader: a FIFO would block it for good, ``/dev/zero`` fill
its memory. A chain of calls deeper than ``MAX_MODULE_DEPTH`` is an error too.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import NamedTuple

from winportlint.engine import OUTSIDE_TREES, scanned_trees, within_trees
from winportlint.excerpt import excerpt, excerpts_in
from winportlint.model import InputError
from winportlint.textfile import UnreadableFile, check_status, read_bytes

from .chunking import needs_slicing, run_now, start_slices
from .guards import panic_errors
from .hcl_positions import CONFIG_SUFFIXES, index_file
from .module_passes import evaluate_in_passes, left_out, left_out_calls, root_calls
from .syntax import syntax_error

#: tfparse's error text: ``unable to create ...: main.tf:3,17-4,1: Invalid expression; ...``.
_TFPARSE_ERROR = re.compile(
    r"(?P<file>[^\s:]+\.(?:tf|tofu)(?:\.json)?):(?P<line>\d+),(?P<column>\d+)(?:-\d+(?:,\d+)?)?: (?P<message>.*)")
AUTO_VAR_FILES = ("terraform.tfvars", "terraform.tfvars.json")
#: A module block in HCL or JSON syntax; files without one need no parse here.
_MODULE_BLOCK = re.compile(rb'(^|\n)\s*module\s*"|"module"\s*:')


@dataclass
class Evaluation:
    """What tfparse returned for one root module, and the files it read."""

    folder: str
    blocks: dict = field(default_factory=dict)
    var_files: list[str] = field(default_factory=list)
    #: Where variable values came from, for messages: file names and ``--var NAME``.
    var_sources: list[str] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    #: Files that file functions read (see ``file_reads``), and the calls not evaluated: (file, line, reason).
    file_reads: list[str] = field(default_factory=list)
    unread: list[tuple[str, int, str]] = field(default_factory=list)
    #: The invalid files the module, or a module it calls, was evaluated without (see ``syntax``).
    dropped: list[str] = field(default_factory=list)
    #: The module calls the evaluator left out (see ``module_passes``): (file, line, address).
    left_out: list[tuple[str, int, str]] = field(default_factory=list)


def module_files(folder: str) -> list[str]:
    """The configuration files of a module folder: ``*.tf``, ``*.tf.json``, ``*.tofu`` and
    ``*.tofu.json`` (as ``glob`` matches them: no hidden names), without those OpenTofu
    passes over: ``x.tf`` beside ``x.tofu``, ``x.tf.json`` beside ``x.tofu.json``."""
    try:
        names = set(os.listdir(folder or "."))
    except OSError:
        return []
    return sorted(os.path.join(folder, name) for name in names
                  if name[:1] != "." and name.endswith(CONFIG_SUFFIXES)
                  and _tofu_name(name) not in names)


def _tofu_name(name: str) -> str | None:
    """The name of the OpenTofu file that replaces a Terraform one (``x.tf``: ``x.tofu``)."""
    if name.endswith(".tf"):
        return name[:-len(".tf")] + ".tofu"
    if name.endswith(".tf.json"):
        return name[:-len(".tf.json")] + ".tofu.json"
    return None


#: Bytes without which a module's files cannot create a security group or a rule: every
#: resource type read (aws_security_group, aws_default_security_group, aws_security_group_rule,
#: aws_vpc_security_group_ingress_rule, aws_vpc_security_group_egress_rule) contains
#: ``security_group``; a ``module`` call may create them; an escape (``\u005f``) in a quoted
#: label or JSON key may spell either. Network ACLs (``network_acl``) and load balancers
#: (``aws_lb``, ``aws_alb``, ``aws_elb``) are read too (issue #7).
_MAY_HOLD_GROUPS = re.compile(rb"security_group|module|network_acl|aws_lb|aws_alb|aws_elb|\\[uU]")


def may_hold_groups(files: list[str]) -> bool:
    """False only for a module that cannot create a security group or rule (a cheap
    byte-level test; such a module needs no evaluation). A file that cannot be read,
    or is not UTF-8 text, counts as one that may: the evaluation reports it."""
    for path in files:
        try:
            data = read_bytes(path)
        except OSError:
            return True
        if _may_hold(data):
            return True
    return False


def _may_hold(data: bytes) -> bool:
    """Whether one file's bytes may create a security group or rule (see ``may_hold_groups``)."""
    if _MAY_HOLD_GROUPS.search(data) or b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def may_call_modules(data: bytes) -> bool:
    """False only for a file's bytes that hold no module block (a cheap byte-level test)."""
    return b"module" in data and _MODULE_BLOCK.search(data) is not None  # the test first: ~30 times faster


def auto_var_files(folder: str) -> list[str]:
    """``terraform.tfvars``, then ``*.auto.tfvars`` in name order, as terraform loads them
    (the names glob would give, from one listing of the folder)."""
    try:
        names = os.listdir(folder or ".")
    except OSError:
        names = None
    found = [os.path.join(folder, name) for name in AUTO_VAR_FILES
             if (names is None or name in names) and os.path.isfile(os.path.join(folder, name))]
    if names is None:
        return found
    autos = [os.path.join(folder, name) for name in names if name[:1] != "." and (
        fnmatch.fnmatch(name, "*.auto.tfvars") or fnmatch.fnmatch(name, "*.auto.tfvars.json"))]
    return found + sorted(autos)


#: Above this many bytes of source in one evaluation, Go's garbage collector works harder.
LARGE_EVALUATION = 1 << 20


def choose_go_gc(modules: list[list[str]]) -> None:
    """Set Go's GC target for the evaluator's helper processes (see ``isolated``), before
    they start (Go reads GOGC once), unless the user set one: 100 when one evaluation is large, a large
    module that is not sliced (``.tf.json``; its heap is hundreds of MB; measured on the 300-file benchmark
    module evaluated whole: 2.4-2.9 s and 465 MB, where 50 took 3.7-3.9 s and 410-427 MB, and 200 2.6 s
    and 487 MB), else 200 (measured: the evaluator is 15-25% faster on small modules and slices, for a few
    MB more; on that module's 128 KB slices, 100 took 85-87 MB a helper
    instead of 97-113, and a median of 4.2 s instead of 3.7 s over 5 runs)."""
    if "GOGC" in os.environ or "tfparse" in sys.modules:
        return
    large = False
    for files in modules:
        size = 0
        for path in files:
            try:
                size += os.path.getsize(path)
            except OSError:
                pass
        if size > LARGE_EVALUATION and not needs_slicing(files):  # a sliced one is evaluated in small slices
            large = True
            break
    os.environ["GOGC"] = "100" if large else "200"


class Runner:
    """Runs the evaluator's calls: on ``jobs`` threads, or one by one in this thread.

    An evaluation runs in a helper process (see ``isolated``), the thread waiting
    for it holds no GIL, so on threads the evaluations of
    several modules, or of a large module's slices, overlap each other and the
    reading of the finished ones. tfparse's output is the same on any thread.
    (Many modules are also shared out between processes, see ``_read_roots``;
    a single large module is not: sending 20,000 permissions back from a
    process costs about as much as making them.)
    """

    def __init__(self, jobs: int, ahead: bool = False):
        self.jobs = max(1, jobs)
        self._pool = None
        #: With one job: the evaluations are sent ahead to one helper (see ``isolated.Ahead``).
        self._ahead = None
        if self.jobs == 1 and ahead:
            from .isolated import Ahead

            self._ahead = Ahead()
        if self.jobs > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="winportlint-tfparse")

    def submit(self, function, *args) -> Future:
        if self._pool is not None:
            return self._pool.submit(function, *args)
        return run_now(function, *args)

    def load(self, folder: str, vars_paths: list[str]) -> Future:
        """The evaluation of a module folder (``isolated.load_from_path``), as the runner runs it."""
        if self._ahead is not None:
            return self._ahead.submit(folder, vars_paths)
        from .isolated import load_from_path

        return self.submit(load_from_path, folder, vars_paths)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._ahead is not None:
            self._ahead.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def evaluate(folder: str, settings: Mapping[str, object], files: list[str] | None = None) -> Evaluation:
    """Evaluate a root module whose module calls were checked; problems are InputErrors.
    ``files`` are the module's files when the caller has listed them already."""
    return start(folder, settings, files, Runner(1))()


def start(folder: str, settings: Mapping[str, object], files: list[str] | None, runner: Runner,
          dropped: Sequence[str] = ()) -> _Started | _Raise:
    """Start evaluating a root module on the runner, without the ``dropped`` files (invalid
    ones, of the module or a module it calls: see ``Calls``); calling what is returned waits
    for the evaluation and gives it. An error in starting is raised by that call, as
    evaluating there and then would have raised it."""
    try:
        return _start(folder, settings, files, runner, dropped)
    except Exception as exc:
        return _Raise(exc)


class _Raise:
    def __init__(self, exc: Exception):
        self.exc = exc

    def done(self) -> bool:
        return True

    def __call__(self) -> Evaluation:
        raise self.exc


class _Started:
    """An evaluation under way: ``done()`` says whether its evaluator calls are over,
    calling it waits for them and gives the Evaluation."""

    def __init__(self, futures: list[Future], finish: Callable[[], Evaluation]):
        self._futures = futures
        self._finish = finish

    def done(self) -> bool:
        return all(future.done() for future in self._futures)

    def __call__(self) -> Evaluation:
        return self._finish()


def _start(folder: str, settings: Mapping[str, object], files: list[str] | None, runner: Runner,
           dropped: Sequence[str]) -> _Started:
    evaluation = Evaluation(folder, dropped=list(dropped))
    evaluation.var_files = auto_var_files(folder) + [str(f) for f in settings.get("var_files", ()) or ()]
    variables = settings.get("vars") or {}
    evaluation.var_sources = [os.path.normpath(f) for f in evaluation.var_files]
    evaluation.var_sources += [f"--var {name}" for name in variables]
    var_paths = [os.path.relpath(os.path.abspath(f), os.path.abspath(folder)) for f in evaluation.var_files]
    scratch = None  # a scratch folder only for the --var file (creating one costs ~0.3 ms a module)
    if variables:
        scratch = tempfile.TemporaryDirectory(prefix="winportlint-")
        cli_vars = os.path.join(scratch.name, "command-line.tfvars")
        with open(cli_vars, "w", encoding="utf-8") as handle:
            handle.write(_tfvars(variables))
        var_paths.append(os.path.relpath(cli_vars, folder))
    unit = settings.get("unit_inputs")  # a Terragrunt unit's (see ``terragrunt``): (values, where they are set)
    if unit is not None:  # set as TF_VAR_* by Terragrunt: the module's own variable files come after them
        scratch = scratch or tempfile.TemporaryDirectory(prefix="winportlint-")
        unit_vars = os.path.join(scratch.name, "terragrunt-inputs.tfvars.json")
        with open(unit_vars, "w", encoding="utf-8") as handle:
            json.dump(unit[0], handle)
        var_paths.insert(0, os.path.relpath(unit_vars, folder))
        evaluation.var_sources.insert(0, unit[1])
    os.environ.setdefault("GOGC", "100")  # when choose_go_gc was not asked (helpers read it when they start)
    from . import file_reads, isolated

    files = module_files(folder) if files is None else files
    try:  # file functions read only the scanned folders: the module's calls are checked first
        confined = file_reads.confine(folder, files, scanned_folders([folder], settings), module_files, dropped)
    except file_reads.Unscannable as exc:
        if scratch is not None:
            scratch.cleanup()
        evaluation.errors.append(InputError(*exc.args))
        return _Started([], lambda: evaluation)
    evaluation.file_reads, evaluation.unread = confined.reads, confined.unread

    def paths_from(module_folder: str) -> list[str]:
        return [os.path.relpath(os.path.join(os.path.abspath(folder), p), os.path.abspath(module_folder))
                for p in var_paths]

    def load(module_folder: str) -> dict:
        # In a helper process: the evaluator cannot be stopped, and its panic would abort this process.
        return isolated.load_from_path(module_folder, paths_from(module_folder))

    futures: list[Future] = []

    def submit(function, *args) -> Future:
        futures.append(runner.submit(function, *args))
        return futures[-1]

    try:
        sliced = whole = None
        calls = root_calls(confined.files, lambda source: _loadable(confined.folder, source))
        if calls is None and needs_slicing(confined.files):  # confined: the module's own folder, or its copy
            sliced = start_slices(confined.folder, confined.files, load, submit)
        if calls is None and sliced is None:
            futures.append(runner.load(confined.folder, paths_from(confined.folder)))
            whole = futures[-1]
    except BaseException:
        if scratch is not None:
            scratch.cleanup()
        confined.close()
        raise

    def finish() -> Evaluation:
        try:
            in_passes = calls
            if in_passes is None:
                evaluation.blocks = sliced() if sliced is not None else whole.result()
                missed = left_out_calls(evaluation.blocks)  # the evaluator left calls out: evaluate in passes
                in_passes = root_calls(confined.files, lambda source: _loadable(confined.folder, source), missed) \
                    if missed and sliced is None else None
            if in_passes is not None:
                try:
                    evaluation.blocks = evaluate_in_passes(confined.folder, confined.files, in_passes, load,
                                                           os.cpu_count() or 1)
                except isolated.EvaluatorError as exc:
                    if "winportlint-" not in str(exc):
                        raise
                    # The evaluator refused a file the passes wrote: the root as one evaluation gives it
                    # (what that leaves out is reported), never an error of the user's files.
                    evaluation.blocks = load(confined.folder) if calls is not None else evaluation.blocks
            evaluation.left_out = _left_out(folder, evaluation.blocks)
            evaluation.errors.extend(count_errors(folder, evaluation.blocks))
        except (isolated.EvaluatorError, isolated.Crashed) as exc:
            evaluation.errors.append(_parse_error(folder, str(exc)))
        except isolated.OverBudget as exc:
            where = os.path.normpath(files[0] if files else folder)
            evaluation.errors.append(InputError(where, 1, f"evaluating this module ({os.path.normpath(folder)}) {exc}; "
                                                          f"it was not checked"))
        finally:
            if scratch is not None:  # the evaluations that read it are over: result() waited for them
                scratch.cleanup()
            confined.close()
        return evaluation

    return _Started(futures, finish)


def _left_out(folder: str, blocks: dict) -> list[tuple[str, int, str]]:
    """The calls of local modules with files that the evaluator left out: (file, line, address)."""
    found = []
    for entry in left_out(blocks):
        meta = entry.get("__tfmeta") or {}
        written = os.path.join(folder, str(meta.get("filename", "")))
        source = entry.get("source")
        if isinstance(source, str) and _loadable(os.path.dirname(written), source):
            found.append((os.path.normpath(written), int(meta.get("line_start") or 1), str(meta.get("path", ""))))
    return found


def _loadable(folder: str, source: str) -> bool:
    """Whether a call's source is a local folder whose configuration files hold a block (a module
    whose every line is a comment leaves nothing to evaluate, nor anything out)."""
    if not source.startswith(("./", "../")):
        return False
    for path in module_files(os.path.join(folder, source)):
        try:
            if index_file(path).top_level:
                return True
        except (OSError, ValueError, UnreadableFile):
            return True  # the evaluation reports what cannot be read
    return False


def scanned_folders(folders: Sequence[str], settings: Mapping[str, object]) -> tuple[str, ...]:
    """The folders modules and file functions may read in: the engine's ``scanned_trees``,
    else those of the module folders."""
    trees = settings.get("scanned_trees")
    if isinstance(trees, tuple) and trees:
        return trees
    return scanned_trees(folders)


def count_errors(folder: str, blocks: dict) -> list[InputError]:
    """A resource whose evaluated ``count`` is not a whole number of 0 or more (a string,
    bool, fraction, list or map): tfparse makes one instance of it, terraform rejects
    it. (A constant one is found before evaluating, see ``guards``; an unknown count,
    a reference or ``null``, is left alone: tfparse gives an unknown as ``null`` too.)"""
    errors: list[InputError] = []
    seen: set[tuple[str, int]] = set()
    for entries in blocks.values():
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict) or "count" not in entry:
                continue
            meta = entry.get("__tfmeta")
            value = entry["count"]
            if not isinstance(meta, dict) or meta.get("type") != "resource" or _whole_count(value):
                continue
            path = os.path.normpath(os.path.join(folder, str(meta.get("filename", ""))))
            line = int(meta.get("line_start") or 1)
            if (path, line) in seen:
                continue
            seen.add((path, line))
            errors.append(InputError(path, _attribute_line(path, line, "count"), f"{_address(meta)}: count must be "
                                     f"a whole number, 0 or more, got {excerpt(json.dumps(value), quote=False)}"))
    return errors


def _address(meta: dict) -> str:
    """A resource instance's address without its index: ``aws_security_group.rdp``."""
    return re.sub(r"\[[^\[\]]*\]$", "", str(meta.get("path", "?")))


def _whole_count(value) -> bool:
    """Whether terraform takes the value as a count, or it is unknown."""
    if value is None or isinstance(value, dict) and "__attribute__" in value:
        return True
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return False
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 and float(value).is_integer()


def _attribute_line(path: str, line: int, name: str) -> int:
    """The line of the attribute of the block at ``line``, else that line."""
    try:
        block = index_file(path).block_at(line)
    except (OSError, ValueError):
        return line
    attribute = block.attributes.get(name) if block is not None else None
    return attribute.line if attribute is not None and attribute.line else line


def _tfvars(variables: Mapping[str, str]) -> str:
    """``--var NAME=VALUE`` as a tfvars file: lists and maps as written, anything else a string."""
    lines = []
    for name, value in variables.items():
        text = value.strip()
        lines.append(f"{name} = {text if text[:1] in '[{' else json.dumps(value)}")
    return "\n".join(lines) + "\n"


def _parse_error(folder: str, message: str) -> InputError:
    """tfparse's message, ``... main.tf:3,17-4,1: Invalid expression; ...``, as file and line
    (what it quotes of the source as excerpts)."""
    match = _TFPARSE_ERROR.search(message)
    if not match:
        return InputError(folder, 0,
                          f"invalid Terraform: {excerpts_in(message.splitlines()[0]) if message else 'unknown error'}")
    detail = " ".join(match["message"].split())
    return InputError(os.path.normpath(os.path.join(folder, match["file"])), int(match["line"]),
                      f"invalid HCL: {excerpts_in(detail)}")


#: The deepest chain of module calls below a root module that is evaluated; a call that goes
#: deeper is an input error at its ``module`` block. Terraform sets no limit, but real
#: configurations nest a few levels, and the evaluator's time and memory grow much faster
#: than the depth (tfparse alone, on a chain of local modules: 100 deep 0.09 s and 95 MB,
#: 250 deep 0.5 s and 240 MB, 600 deep 4.1 s and 1.6 GB, 1,000 deep 22 s, and more than
#: the helper's 4 GB budget): the limit keeps every chain far below the budgets.
MAX_MODULE_DEPTH = 100


class Calls(NamedTuple):
    """A module folder of the run as the module calls make it. ``root`` is false when
    another module calls it (it is read through its caller). For a root: ``files`` are
    the files its evaluation reads besides its own (its called and downloaded modules'),
    ``errors`` why it cannot be evaluated, ``holds`` what ``may_hold_groups`` says of its
    own valid files (from the same read), ``dropped`` the invalid files of the root and the
    modules it calls, which it is evaluated without (their errors are the run's)."""

    root: bool
    holds: bool
    files: list[str]
    errors: list[InputError]
    dropped: list[str]


def module_calls(folders: Mapping[str, list[str]], trees: tuple[str, ...] = ()
                 ) -> tuple[dict[str, Calls], list[InputError]]:
    """The calls of the run's module folders (each with its files), and every error of
    the modules they call: a file that cannot be read or would make the evaluator panic,
    a source that does not exist or (with ``trees``, real paths) is outside the scanned
    folders, a cycle, a chain deeper than :data:`MAX_MODULE_DEPTH`.

    Every module folder is read once (by the one reader, before the evaluator reads
    it), and the calls are walked without recursion: each root module's calls once,
    then those of the folders no root calls (cycles, which no root reaches)."""
    graph = _Graph(trees)
    found = {folder: graph.module(folder, files) for folder, files in folders.items()}
    graph.read_all(list(found.values()))
    called = {call.key for module in graph.modules.values() for call in module.calls}
    result: dict[str, Calls] = {}
    errors: dict[InputError, None] = {}
    reached: set = set()
    for folder, module in found.items():
        if module.key in called:
            continue
        downloaded, problems = graph.downloaded(folder, module)
        seen: set = set()
        walked, walk_errors = graph.walk(module, [*module.calls, *downloaded], seen, check_depth=True)
        reached |= seen
        walk_errors = [*problems, *walk_errors]
        invalid = [error for each in (module, *walked) for error in each.invalid]
        errors.update(dict.fromkeys([*walk_errors, *invalid]))
        result[folder] = Calls(True, module.holds, [path for each in walked for path in each.files], walk_errors,
                               [error.file for error in invalid])
    for folder, module in found.items():
        if module.key in called:
            result[folder] = Calls(False, module.holds, [], [], [])
            if module.key not in reached:  # in a cycle no root reaches: its errors still count
                walked, walk_errors = graph.walk(module, module.calls, reached, check_depth=False)
                errors.update(dict.fromkeys([*walk_errors, *(e for each in (module, *walked) for e in each.invalid)]))
    return result, list(errors)


class _Call(NamedTuple):
    """A ``module`` block that calls a local folder (``key`` None: none is there), or a
    module ``terraform init`` downloaded (the block is then its line in modules.json)."""

    file: str
    line: int
    label: str
    folder: str
    key: object


class _Module:
    """A module folder, read: its files, its calls, its own errors (which keep it from being
    evaluated) and its invalid files' errors (it is evaluated without them)."""

    __slots__ = ("folder", "key", "files", "calls", "errors", "invalid", "holds")

    def __init__(self, folder: str, key: object, files: list[str]):
        self.folder, self.key, self.files = folder, key, files
        self.calls: list[_Call] | None = None  # None until read
        self.errors: list[InputError] = []
        self.invalid: list[InputError] = []
        self.holds = False


def _identity(folder: str) -> object:
    """What makes two paths one folder (a symlinked path included); raises OSError."""
    try:
        status = os.stat(folder)
    except ValueError:  # a NUL in the source: no such folder
        raise FileNotFoundError(folder) from None
    if not stat.S_ISDIR(status.st_mode):
        raise NotADirectoryError(folder)
    return (status.st_dev, status.st_ino) if status.st_ino else os.path.realpath(folder)


class _Graph:
    """Module folders by identity, each read once."""

    def __init__(self, trees: tuple[str, ...] = ()) -> None:
        self.modules: dict[object, _Module] = {}
        #: The folders modules may be read from (none: anywhere).
        self.trees = trees

    def module(self, folder: str, files: list[str] | None = None) -> _Module:
        """The module of a folder (its calls not read yet)."""
        try:
            key = _identity(folder)
        except OSError:
            key = ("unreadable", os.path.normpath(folder))
        module = self.modules.get(key)
        if module is None:
            module = self.modules[key] = _Module(folder, key, module_files(folder) if files is None else files)
        return module

    def read_all(self, modules: list[_Module]) -> None:
        """Read the modules and every module they call, each once."""
        todo = list(modules)
        while todo:
            module = todo.pop()
            if module.calls is None:
                _read_module(module, self.trees)
                todo.extend(self.module(call.folder) for call in module.calls if call.key is not None)

    def downloaded(self, folder: str, root: _Module) -> tuple[list[_Call], list[InputError]]:
        """The modules ``terraform init`` recorded in ``.terraform/modules/modules.json``
        (the evaluator reads them), read; an error when the record cannot be read."""
        path = os.path.join(folder, ".terraform", "modules", "modules.json")
        try:
            data = read_bytes(path)
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        except UnreadableFile as exc:
            return [], [InputError(path, 0, f"{exc}; {os.path.normpath(folder)} is not read")]
        except OSError as exc:
            return [], [InputError(path, 0, f"cannot read file: {exc.strerror}")]
        calls = []
        for key, where in _recorded_modules(data):
            target = os.path.normpath(os.path.join(folder, where))
            try:
                identity = _identity(target)
            except OSError:
                continue  # not downloaded: the evaluator finds nothing there either
            if not within_trees(target, self.trees):
                return [], [InputError(os.path.normpath(path), 0, _outside_message(key, where))]
            if identity != root.key:
                calls.append(_Call(path, 0, key, target, identity))
        self.read_all([self.module(call.folder) for call in calls])
        return calls, []

    def walk(self, start: _Module, calls: list[_Call], seen: set, check_depth: bool
             ) -> tuple[list[_Module], list[InputError]]:
        """The modules ``calls`` reach from ``start`` (depth first, without recursion; none
        in ``seen``, which gets them), and their errors and cycles; with ``check_depth``,
        a chain deeper than :data:`MAX_MODULE_DEPTH` is an error at the call that goes too deep."""
        errors = list(start.errors)
        reached: list[_Module] = []
        seen.add(start.key)
        path, entered, children, branches = [start], [None], [calls], [iter(calls)]
        on_path = {start.key: 0}
        heights: dict[object, int] = {}  # the longest chain of calls below a module
        while branches:
            call = next(branches[-1], None)
            if call is None:
                branches.pop()
                module = path.pop()
                entered.pop()
                del on_path[module.key]
                heights[module.key] = max((heights[c.key] + 1 for c in children.pop() if c.key in heights), default=0)
                continue
            if call.key is None:
                continue
            index = on_path.get(call.key)
            if index is not None:
                errors.extend(_cycle_errors(path[index:], [call, *entered[index + 1:]]))
                continue
            if call.key in seen:
                continue
            seen.add(call.key)
            module = self.modules[call.key]
            reached.append(module)
            errors.extend(module.errors)
            on_path[call.key] = len(path)
            path.append(module)
            entered.append(call)
            children.append(module.calls)
            branches.append(iter(module.calls))
        if check_depth and heights.get(start.key, 0) > MAX_MODULE_DEPTH:
            errors.append(self._too_deep(start, calls, heights))
        return reached, errors

    def _too_deep(self, start: _Module, calls: list[_Call], heights: dict[object, int]) -> InputError:
        """The error at the call that makes the longest chain below ``start`` too deep."""
        names, module, height = [start.folder], start, heights[start.key]
        for _ in range(MAX_MODULE_DEPTH + 1):
            call = next(c for c in calls if heights.get(c.key) == height - 1)
            module, height = self.modules[call.key], height - 1
            names.append(module.folder)
            calls = module.calls
        return InputError(call.file, call.line, f'module "{call.label}": module calls nested deeper than '
                                                f"{MAX_MODULE_DEPTH} ({chain_text(names)})")


def chain_text(names: list[str]) -> str:
    """``a -> b -> c``; a long chain as its first two and last two names, and how many
    are left out between (a message never grows with the chain)."""
    if len(names) <= 5:
        return " -> ".join(names)
    return " -> ".join([*names[:2], f"({len(names) - 4} more)", *names[-2:]])


def _cycle_errors(cycle: list[_Module], calls: list[_Call]) -> list[InputError]:
    """An error at each call of a cycle (``calls[i]`` calls ``cycle[i]``), naming the
    cycle from the folder it calls."""
    folders = [module.folder for module in cycle]
    return [InputError(call.file, call.line, f'module "{call.label}": module cycle '
                                             f"({chain_text([*folders[i:], *folders[:i], folders[i]])})")
            for i, call in enumerate(calls)]


def _read_module(module: _Module, trees: tuple[str, ...]) -> None:
    """Read a module's files (each once, by the one reader): its own errors, its invalid
    files, whether it may hold a security group, and its calls of local folders (a call of
    a folder outside ``trees`` is an error: nothing outside the scanned folders is read)."""
    module.calls = []
    for path in module.files:
        try:
            if trees and os.path.islink(path) and not within_trees(path, trees):
                check_status(os.stat(path))  # a FIFO or device is said to be one first
                module.holds = True  # its evaluation is not tried: the error says why
                module.errors.append(InputError(os.path.normpath(path), 0, f"{OUTSIDE_TREES}; its folder is not read"))
                continue
            source = read_bytes(path)
            invalid = syntax_error(os.path.normpath(path), source)
            if invalid is not None:  # left out of the evaluation, its module calls included
                module.invalid.append(invalid)
                continue
            module.holds = module.holds or _may_hold(source)
            module.errors.extend(panic_errors(path, source))  # what would abort the process in tfparse's Go code
            if not may_call_modules(source):
                continue
            index = index_file(path, source)
        except UnreadableFile as exc:
            module.holds = True  # its evaluation is not tried: the error says why
            module.errors.append(InputError(path, 0, f"{exc}; its folder is not read"))
            continue
        except OSError as exc:
            module.holds = True
            module.errors.append(InputError(path, 0, f"cannot read file: {exc.strerror}"))
            continue
        for block in (b for b in index.top_level if b.kind == "module"):
            source = block.attributes.get("source")
            if source is None or not source.strings:
                continue
            target = source.strings[0][0]
            if not target.startswith(("./", "../")):
                continue
            target_folder = os.path.normpath(os.path.join(module.folder, target))
            label = block.labels[0] if block.labels else "?"
            try:
                key = _identity(target_folder)
            except OSError:
                key = None
                shown = excerpt(target, quote=False)
                module.errors.append(InputError(os.path.normpath(path), block.line,
                                                f"module \"{label}\": source {shown} does not exist"))
            else:
                if not within_trees(target_folder, trees):
                    key = None
                    module.errors.append(InputError(os.path.normpath(path), block.line,
                                                    _outside_message(label, target)))
            module.calls.append(_Call(path, block.line, label, target_folder, key))


def _outside_message(label: str, target: str) -> str:
    return (f"module \"{label}\": source {excerpt(target, quote=False)} is outside the scanned folders and is not "
            f"read (scan a folder that holds both, such as the repository)")


def _recorded_modules(data: bytes) -> list[tuple[str, str]]:
    """``(key, folder)`` of each module in a modules.json, read as the evaluator's Go
    code reads it (field names in any case); nothing when it is not such JSON."""
    try:
        document = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return []
    entries = _field(document, "modules")
    found = []
    for entry in entries if isinstance(entries, list) else ():
        key, folder = _field(entry, "key"), _field(entry, "dir")
        if isinstance(key, str) and key and isinstance(folder, str) and folder:
            found.append((key, folder))
    return found


def _field(document: object, name: str) -> object:
    """A JSON object's field, its name in any case (the last one given wins, as in Go)."""
    if not isinstance(document, dict):
        return None
    return next((document[k] for k in reversed(list(document)) if k.lower() == name), None)
