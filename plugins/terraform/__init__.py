"""Terraform: HCL modules (evaluated with tfparse) and ``terraform show -json`` plans."""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping, Sequence

from winportlint.hookspecs import hookimpl
from winportlint.model import FileResult


class TerraformFormat:
    name = "terraform"
    #: Plan JSON files are read one by one, by content.
    suffixes = (".json",)
    #: A module is a folder: any of these files makes its folder be read.
    folder_suffixes = (".tf", ".tf.json", ".tfvars", ".tfvars.json")

    def parse(self, path: str, data: bytes) -> FileResult | None:
        if b'"format_version"' not in data or b"planned_values" not in data and b"resource_changes" not in data:
            return None
        from .plan import read_plan

        return read_plan(path, data)

    def parse_folders(self, folders: Sequence[str], settings: Mapping[str, object]) -> FileResult:
        """Evaluate every root module among the folders; a module that another
        folder of the run calls is read through its caller, not on its own.

        The cyclic garbage collector is paused meanwhile: the evaluator's output
        is hundreds of thousands of containers, and full collections over them
        took half the time of reading a large module (nothing here makes cycles).
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._parse_folders(folders, settings)
        finally:
            if collecting:
                gc.enable()

    def _parse_folders(self, folders: Sequence[str], settings: Mapping[str, object]) -> FileResult:
        from .evaluate import Runner, may_hold_groups, module_calls, module_files, start
        from .extract import ModuleReader, work_out_indexes
        from .hcl_positions import index_file

        files = {folder: module_files(folder) for folder in folders}
        modules = [folder for folder in folders if files[folder]]
        calls = {folder: module_calls(folder) for folder in modules}
        called = set().union(*(found for found, _ in calls.values())) if calls else set()
        roots = [folder for folder in modules if not calls[folder][1] and os.path.realpath(folder) not in called
                 and may_hold_groups(files[folder])]
        result = FileResult()
        with Runner(_jobs(settings) if roots else 1) as runner:
            # Up to `window` modules are being evaluated (on the runner's threads) while
            # this thread reads the earliest one: the results come in the serial order.
            window = 2 * runner.jobs if runner.jobs > 1 else 1
            upcoming = iter(roots)
            started: dict[str, object] = {}
            for folder in modules:
                errors = calls[folder][1]
                result.errors.extend(e for e in errors if e not in result.errors)
                if errors or os.path.realpath(folder) in called:
                    continue
                while len(started) < window and (following := next(upcoming, None)) is not None:
                    started[following] = start(following, settings, files[following], runner)
                if folder not in started:
                    continue  # it cannot hold a security group (may_hold_groups)
                evaluation = started.pop(folder)
                indexes = work_out_indexes(files[folder], evaluation.done) if runner.jobs > 1 else {}
                evaluation = evaluation()
                evaluation.indexes = indexes
                result.inputs.extend(_inputs(folder, calls[folder][0], evaluation.var_files))
                result.errors.extend(evaluation.errors)
                if evaluation.errors:
                    continue
                permissions, errors = ModuleReader(evaluation).read()
                result.permissions.extend(permissions)
                result.errors.extend(errors)
                index_file.cache_clear()  # syntax trees are large: keep one module's at a time
        return result


def _jobs(settings: Mapping[str, object]) -> int:
    """Threads for the evaluator: ``settings["jobs"]`` (the --jobs option), else one per core."""
    jobs = settings.get("jobs")
    return jobs if isinstance(jobs, int) and jobs >= 1 else os.cpu_count() or 1


def _inputs(folder: str, called: set[str], var_files: Sequence[str]) -> list[str]:
    """The files besides the folder's own that its evaluation read: variable files, the
    called local modules' files, and what ``terraform init`` recorded of remote modules."""
    from .evaluate import module_files

    files = [str(f) for f in var_files]
    for module_folder in sorted(called):
        files += module_files(module_folder)
    return [*files, os.path.join(folder, ".terraform", "modules", "modules.json")]


@hookimpl
def winportlint_formats():
    return [TerraformFormat()]


