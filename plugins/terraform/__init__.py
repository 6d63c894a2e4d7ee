"""Terraform: HCL modules (evaluated with tfparse) and ``terraform show -json`` plans."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Mapping, Sequence

from winportlint.hookspecs import hookimpl
from winportlint.interrupt import deferred
from winportlint.excerpt import printable
from winportlint.model import FileResult, InputError, Permission, Provenance, SubnetAcl, Target


class TerraformFormat:
    name = "terraform"
    #: Plan JSON files are read one by one, by content.
    suffixes = (".json",)
    #: A module is a folder: any of these files makes its folder be read (OpenTofu's and
    #: Terragrunt's too).
    folder_suffixes = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json", "terragrunt.hcl")

    def environment(self) -> dict[str, str]:
        """The ``TF_VAR_*`` variables, which set the modules' variables (the only part of the
        environment the evaluator is given, see ``isolated.helper_environment``)."""
        from .environment import tf_var_environment

        return dict(tf_var_environment())

    def parse(self, path: str, data: bytes) -> FileResult | None:
        if b'"format_version"' not in data or b"planned_values" not in data and b"resource_changes" not in data:
            return None
        from .plan import read_plan

        return read_plan(path, data)

    def comments(self, path: str, data: bytes) -> list[tuple[int, int, str]] | None:
        """Comments of HCL files (``.tf``, ``.tofu``, ``.tfvars``, Terragrunt's ``.hcl``); none in JSON
        (``.tf.json``, plans)."""
        lower = path.lower()
        if lower.endswith((".tf", ".tofu", ".tfvars", ".hcl")):
            from .hcl_positions import comments

            return comments(data)
        return [] if lower.endswith(".json") else None

    def parse_folders(self, folders: Sequence[str], settings: Mapping[str, object],
                      contents: Mapping[str, bytes] | None = None) -> FileResult:
        """Evaluate every root module among the folders; a module that another
        folder of the run calls is read through its caller, not on its own.
        With ``contents``, only the roots that read one of its files, with its
        bytes for theirs (see ``overlay``).

        The cyclic garbage collector is paused meanwhile: the evaluator's output
        is hundreds of thousands of containers, and full collections over them
        took half the time of reading a large module (nothing here makes cycles).
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            if contents is None:
                return self._parse_folders(folders, settings)
            from .overlay import parse_with

            return parse_with(self._parse_folders, folders, settings, contents)
        finally:
            if collecting:
                gc.enable()

    def _parse_folders(self, folders: Sequence[str], settings: Mapping[str, object]) -> FileResult:
        from .evaluate import choose_go_gc, module_calls, module_files, scanned_folders
        from .isolated import start_helpers

        files = {folder: module_files(folder) for folder in folders}
        modules = [folder for folder in folders if files[folder]]
        if modules:  # the evaluator's helper starts (~0.1 s) while the modules' calls are looked at
            choose_go_gc([files[folder] for folder in modules])
            start_helpers(1)
        calls, errors = module_calls({folder: files[folder] for folder in modules}, scanned_folders(folders, settings))
        result, through_units = FileResult(), set()
        units = [folder for folder in folders if os.path.isfile(os.path.join(folder, "terragrunt.hcl"))]
        if units:  # Terragrunt: the modules the units run are read through them (see ``terragrunt``)
            from .terragrunt import check_units

            result, through_units = check_units(units, settings)
        result.errors.extend(errors)
        # Roots: modules no other module calls, whose calls can be evaluated, and that may hold a security group.
        roots = [folder for folder in modules if calls[folder].root and not calls[folder].errors
                 and calls[folder].holds and os.path.realpath(folder) not in through_units]
        from .scenarios import scenario_files

        choice = settings.get("scenarios", "auto")
        owners = frozenset(os.path.abspath(folder) for folder in modules)
        work = {root: (files[root], calls[root].files, calls[root].dropped,
                       scenario_files(root, owners, settings.get("var_files", ()) or (), choice)) for root in roots}
        with contextlib.closing(_read_roots(roots, work, settings)) as outcomes:
            for _ in roots:
                inputs, evaluation_errors, permissions, reading_errors, targets, subnet_acls = next(outcomes)
                result.inputs.extend(inputs)
                result.errors.extend(evaluation_errors)
                if evaluation_errors:
                    continue
                result.permissions.extend(permissions)
                result.errors.extend(reading_errors)
                result.targets.extend(targets)
                result.subnet_acls.extend(subnet_acls)
        return result

    def fixes(self, finding, request, read) -> list:
        """Edits in the rule, or where its value is written: a variable's default or variable file
        entry, a module call's argument, a local (see :mod:`.fixes`)."""
        from .fixes import fixes

        return fixes(finding, request, read)


#: Read root modules in forked worker processes from this many on (below, threads do)...
FORK_MIN_ROOTS = 24
#: ... with at least this many roots for each process, whose evaluations are sent this many
#: at a time to its helper (see ``isolated.Ahead``)...
ROOTS_PER_PART = 8
AHEAD = 4
#: ... in chunks of about this many roots.
CHUNK_ROOTS = 16

#: A root module's files, the files its evaluation reads besides them, the invalid files it is
#: evaluated without (see ``evaluate.Calls``), and its scenarios: variable files it is evaluated
#: with once more each (see ``scenarios``).
Work = dict[str, tuple[list[str], list[str], list[str], list[str]]]
#: One root module's reading: the files it read besides its own, its evaluation errors,
#: its permissions, its reading errors, its targets and its subnet ACLs.
Outcome = tuple[list[str], list[InputError], list[Permission], list[InputError], list[Target], list[SubnetAcl]]


def _read_roots(roots: list[str], work: Work,
                settings: Mapping[str, object]) -> Iterator[Outcome]:
    """Each root's outcome, in the order of ``roots``, whoever read it.

    Many roots are shared out between this process and forked workers, which is
    safe only before the evaluator's Go runtime starts in this process (it runs
    threads); else, and for a few roots, they are read here with the evaluator on
    threads (see ``evaluate.Runner``). They are cut in contiguous chunks of about
    equal size: the workers take them from the last, this process from the first,
    until they meet (a static share left a process idle while another still read:
    a worker starts later, and starts its own evaluator helper).
    """
    jobs = _jobs(settings) if roots else 1
    if jobs > 1 and len(roots) >= FORK_MIN_ROOTS and _can_fork():
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        processes = min(jobs, len(roots) // ROOTS_PER_PART)  # a worker's start costs ~50 ms
        chunks = _parts(roots, work, max(2 * processes, len(roots) // CHUNK_ROOTS))
        with ProcessPoolExecutor(processes - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            with deferred():  # the workers start in ``submit``
                futures = {index: pool.submit(_read_part, chunks[index], {root: work[root] for root in chunks[index]},
                                              settings) for index in reversed(range(1, len(chunks)))}
            try:
                yield from _read_here(chunks[0], work, settings, 1, AHEAD)
                for index in range(1, len(chunks)):
                    if futures[index].cancel():  # no worker took it yet
                        yield from _read_here(chunks[index], work, settings, 1, AHEAD)
                    else:
                        yield from futures[index].result()
            finally:
                for future in futures.values():
                    future.cancel()
        return
    yield from _read_here(roots, work, settings, jobs)


def _can_fork() -> bool:
    """Forking copies one thread: safe while this process runs no other thread, the
    evaluator (Go, with threads of its own) included, and where fork is the platform's
    way (Linux)."""
    import multiprocessing
    import threading

    return sys.platform.startswith("linux") and "tfparse" not in sys.modules \
        and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _parts(roots: list[str], work: Work, count: int) -> list[list[str]]:
    """``count`` contiguous parts of the roots, of about equal size in bytes."""
    sizes = []
    for root in roots:
        total = 0
        for path in work[root][0]:
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
        sizes.append(total + 1)
    share, parts, current, filled = sum(sizes) / count, [], [], 0.0
    for root, size in zip(roots, sizes):
        if current and filled + size / 2 > share * (len(parts) + 1) and len(parts) < count - 1:
            parts.append(current)
            current = []
        current.append(root)
        filled += size
    parts.append(current)
    return parts


def _read_part(part: list[str], work: Work,
               settings: Mapping[str, object]) -> list[Outcome]:
    """In a forked worker: the outcomes of a part of the roots (the cyclic collector
    stays paused, as in the parent at the fork). A forked worker ends without running
    ``atexit``: its evaluator helpers are closed as it ends (kept for its next part till then)."""
    global _closing_helpers
    if _closing_helpers != os.getpid():
        from multiprocessing.util import Finalize

        from .isolated import close_helpers

        Finalize(None, close_helpers, exitpriority=0)
        _closing_helpers = os.getpid()
    return list(_read_here(part, work, settings, 1, AHEAD))


#: The process that closes its evaluator helpers as it ends (see ``_read_part``).
_closing_helpers = 0


def _read_here(roots: list[str], work: Work, settings: Mapping[str, object],
               jobs: int, ahead: int = 0) -> Iterator[Outcome]:
    """The roots read in this process, the evaluator on ``jobs`` threads: up to a window
    of roots are being evaluated while this thread reads the earliest one (and reads
    its syntax indexes while its evaluation runs). With one job and ``ahead``, the
    evaluations of that many roots are sent ahead to one helper (see ``isolated.Ahead``)."""
    from .evaluate import Runner, choose_go_gc, start
    from .hcl_positions import forget_index, read_ahead
    from .reading import read_module

    choose_go_gc([work[root][0] for root in roots])
    with Runner(jobs, ahead=ahead > 1) as runner:
        window = 2 * runner.jobs if runner.jobs > 1 else max(1, ahead)
        upcoming = iter(roots)
        started: dict[str, object] = {}
        for folder in roots:
            while len(started) < window and (following := next(upcoming, None)) is not None:
                started[following] = start(following, settings, work[following][0], runner, work[following][2])
            pending = started.pop(folder)
            if runner.jobs > 1:
                read_ahead(work[folder][0], pending.done)
            evaluation = pending()
            inputs = _inputs(folder, work[folder][1], evaluation.var_files) + evaluation.file_reads
            if evaluation.errors:
                outcome = inputs, evaluation.errors, [], [], [], []
            else:
                reading = read_module(evaluation)
                permissions, errors = reading.permissions, reading.errors
                for scenario in work[folder][3]:
                    found, scenario_errors = _scenario(folder, work[folder], scenario, settings, runner,
                                                       permissions, errors)
                    permissions, errors = permissions + found, errors + scenario_errors
                    inputs.append(scenario)
                outcome = inputs, [], _without(permissions, evaluation.dropped), errors, reading.targets, \
                    reading.subnet_acls
            for path in work[folder][0]:  # indexes are large: keep one module's at a time
                forget_index(path)
            yield outcome


def _without(permissions: list[Permission], dropped: Sequence[str]) -> list[Permission]:
    """The permissions of a module evaluated without invalid files, each saying so: what it
    lets through may depend on them (a variable's default, a local written there)."""
    if not dropped:
        return permissions
    shown = ", ".join(printable(path) for path in dropped)
    step = Provenance("values", "partial", f"the module read without {shown} (invalid)")
    return [permission._replace(provenance=(*permission.provenance, step)) for permission in permissions]


def _scenario(folder: str, work: tuple[list[str], list[str], list[str], list[str]], scenario: str,
              settings: Mapping[str, object], runner, known: list[Permission],
              known_errors: list[InputError]) -> tuple[list[Permission], list[InputError]]:
    """What a root opens with one more variable file that the others do not: its permissions not
    among ``known`` (their provenance names the variable files read), and its errors not among
    ``known_errors``, each naming the file."""
    from .evaluate import start
    from .reading import read_module

    var_files = [*(settings.get("var_files") or ()), scenario]
    evaluation = start(folder, {**settings, "var_files": var_files}, work[0], runner, work[2])()
    reading = read_module(evaluation) if not evaluation.errors else None
    permissions, errors = (reading.permissions, reading.errors) if reading else ([], evaluation.errors)
    seen = {p._replace(provenance=()) for p in known}
    named = f" (with {os.path.relpath(scenario, folder or '.')})"
    return [p for p in permissions if p._replace(provenance=()) not in seen], \
        [e._replace(message=e.message + named) for e in errors if e not in known_errors]


def _jobs(settings: Mapping[str, object]) -> int:
    """How many at once: worker processes for many root modules, else threads for the
    evaluator. ``settings["jobs"]`` (the --jobs option, when the engine passes it), else
    one per core; 1 reads everything in this thread, one module after the other."""
    jobs = settings.get("jobs")
    return jobs if isinstance(jobs, int) and jobs >= 1 else os.cpu_count() or 1


def _inputs(folder: str, called_files: list[str], var_files: Sequence[str]) -> list[str]:
    """The files besides the folder's own that its evaluation read: variable files, the
    called and downloaded modules' files and their folders (where a file may be added), and
    what ``terraform init`` downloaded (see ``_downloaded_inputs``); the files that file
    functions read are the evaluation's ``file_reads``."""
    files = [str(f) for f in var_files]
    for called in called_files:
        files += [os.path.dirname(called), called]
    return list(dict.fromkeys([*files, *_downloaded_inputs(folder)]))


def _downloaded_inputs(folder: str) -> list[str]:
    """``.terraform/modules`` below a root module, every folder and file of it: a download
    again (a ``?ref=main`` source) changes the modules' files, not ``modules.json``. Their
    version-control folders are left out (the evaluator reads no ``.git``)."""
    top = os.path.join(folder, ".terraform", "modules")
    found = [top]
    for root, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".hg", ".svn"))
        found += [os.path.join(root, d) for d in dirs]
        found += [os.path.join(root, name) for name in sorted(names)]
    return found


@hookimpl
def winportlint_formats():
    return [TerraformFormat()]


