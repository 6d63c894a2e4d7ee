"""The ``winportlint`` command. Imports stay inside commands: it starts on every commit."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from .excerpt import excerpt, excerpts_in, printable

if TYPE_CHECKING:
    import datetime

    from .catalog import Catalog
    from .config import Config
    from .engine import RunResult
    from .model import Finding, Severity
    from .plugin_manager import Plugins
    from .suppress import Outcome

EXIT_CLEAN, EXIT_ERROR = 0, 2
SEVERITIES = ("info", "low", "medium", "high", "critical")


def _write(text: str, stream=None) -> None:
    """Write to standard output (or ``stream``) whatever its encoding: a character the console
    cannot encode is written as its escape (``\\xe9``) rather than losing the whole report."""
    stream = stream or sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    stream.write(text)


def _say(message: str) -> None:
    """One line on standard error, with what is not printable escaped (file names, values)."""
    _write(printable(message) + "\n", sys.stderr)


class UsageError(Exception):
    """A bad command line or configuration: exit 2 with one line on stderr."""


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter, given the terminal width as ``shutil.get_terminal_size`` finds it:
    asked itself, argparse imports shutil (and with it bz2 and lzma), 3 ms of every start."""
    columns = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return argparse.HelpFormatter(prog, width=(columns or 80) - 2)


class _ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser (and its subcommands' parsers) with :func:`_help_formatter`."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(**kwargs)


def _lint_options(command: argparse.ArgumentParser) -> None:
    """The options that say what to lint and how, for ``check`` and ``exceptions`` alike."""
    command.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                         help="a file or folder to check (default: the current folder); folders are searched for "
                              "templates, Terraform and Serverless files, a file named is read whatever its name")
    command.add_argument("--select", action="append", metavar="IDS",
                         help="run only these checks: ids or prefixes, comma-separated, repeatable; enables "
                              "off-by-default checks")
    command.add_argument("--ignore", action="append", metavar="IDS",
                         help="skip these checks: ids or prefixes, comma-separated, repeatable")
    command.add_argument("--severity", choices=SEVERITIES,
                         help="report and fail on findings at or above this severity (default: low)")
    command.add_argument("--os", action="append", metavar="VERSION",
                         help="only catalog rules of this Windows Server version (2012, '2012 R2', 2016, 2019, 2022, "
                              "2025); repeatable")
    command.add_argument("--catalog", action="append", metavar="FILE",
                         help="an extra catalog file of your own ports; repeatable")
    command.add_argument("--jobs", type=int, metavar="N",
                         help="worker processes for large runs (default: one per core; 1 for none)")
    command.add_argument("--var-file", action="append", metavar="FILE",
                         help="Terraform: a variable file for every module read, after terraform.tfvars and "
                              "*.auto.tfvars; repeatable")
    command.add_argument("--var", action="append", metavar="NAME=VALUE",
                         help="Terraform: set a variable, as terraform -var; repeatable")
    command.add_argument("--no-cache", action="store_true",
                         help="read every file again instead of reusing results of unchanged files "
                              "(cache folder: $WINPORTLINT_CACHE_DIR, else the user cache folder)")


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="winportlint",
        description="Find AWS security groups that expose Windows-default ports to the internet.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"winportlint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check", help="lint files and folders (default: .)",
        description="Lint CloudFormation, Terraform and Serverless files for Windows ports open to the internet.",
        epilog="Options marked 'repeatable' may be given more than once; --select and --ignore also take "
               "comma-separated lists (--select WPL101,WPL102). Exit codes: 0 no findings, 1 findings, "
               "2 usage or input errors.")
    _lint_options(check)
    check.add_argument("--format", default="text",
                       help="output format: text (default), json, sarif, github, junit, gitlab, markdown, "
                            "rdjson (reviewdog), or a plugin's")
    check.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    check.add_argument("--output-format", metavar="FORMAT",
                       help="with --output only: the file's format, while the console keeps --format "
                            "(e.g. --output results.sarif --output-format sarif)")
    check.add_argument("--show-suppressed", action="store_true", help="list suppressed findings with their reasons")
    check.add_argument("--report-unused-ignores", action="store_true",
                       help="report suppressions that match no finding (as errors)")
    check.add_argument("--baseline", metavar="FILE", help="report only findings that are not in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings as the baseline")
    check.add_argument("--diff-base", metavar="REF",
                       help="git: count only the findings that the files at this revision (a commit, branch or "
                            "tag, e.g. origin/main) do not have; the others are counted in the summary")
    check.add_argument("--fail-on-empty", action="store_true",
                       help="a folder named (or the current folder) that holds no file to check is an input "
                            "error (exit 2), as for a CI step pointed at the wrong folder; without it, a note on "
                            "stderr")

    exceptions = commands.add_parser(
        "exceptions", help="list the exceptions (suppressions and allow entries) and whether each is in force",
        description="Lint the paths as 'check' does and list every exception that accepts a finding: inline "
                    "comments, CloudFormation Metadata and the configuration's allow entries, with what each "
                    "covers, its reason, owner, expiry and status (active, expiring soon, expired, unused).",
        epilog="Exit codes: 0 every exception in force and used, 1 one has expired or matches no finding, "
               "2 usage or input errors.")
    _lint_options(exceptions)
    exceptions.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                            help="output format (default: text)")

    fix = commands.add_parser(
        "fix", help="show or apply the edits that end findings (restrict the source, accept with a reason, or "
                    "remove the rule)",
        description="Lint the paths as 'check' does and, for each finding, ask the format that read its file for "
                    "fixes, in this order: restrict the source to the admin sources of [tool.winportlint.fix] "
                    "(cidrs, prefix_list, security_group; unsafe: it changes who can connect), accept the finding "
                    "with an inline exception (--reason; safe), or remove the rule (unsafe). The first fix "
                    "allowed is made. Every fix is verified before it is written: the fixed file is read and "
                    "checked again.",
        epilog="Exit codes: 0 no finding left, 1 findings left (with --diff: any finding), 2 usage or input "
               "errors.")
    _lint_options(fix)
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true",
                      help="print the fixes as a unified diff and write nothing (the default)")
    mode.add_argument("--apply", action="store_true", help="write the safe fixes (and unsafe ones with --unsafe-fixes)")
    fix.add_argument("--unsafe-fixes", action="store_true",
                     help="include unsafe fixes (restricting a source or removing a rule changes who can connect)")
    fix.add_argument("--reason", help="accept the findings with an inline exception giving this reason")
    fix.add_argument("--owner", help="with --reason: the exception's owner (one word, e.g. a team)")
    fix.add_argument("--expires", metavar="YYYY-MM-DD", help="with --reason: the last day the exception applies")

    rules = commands.add_parser("rules", help="list the checks")
    rules.add_argument("--markdown", action="store_true", help="print the rule documentation (docs/rules.md)")
    explain = commands.add_parser("explain", help="show the documentation of checks")
    explain.add_argument("rule_id", metavar="ID", nargs="+",
                         help="check ids or names (WPL101, remote-desktop-open-to-world), as the text report's "
                              "last line names them")

    commands.add_parser(
        "lsp", help="run the language server (for editors; needs the lsp extra)",
        description="Serve the Language Server Protocol over standard input and output: diagnostics for "
                    "CloudFormation, Serverless and Terraform files as they are edited, quick fixes and "
                    "explanations. Needs the lsp extra: pip install 'winportlint[lsp]'.")

    catalog = commands.add_parser(
        "catalog", help="print the Windows port catalog, or compile it from the AWS page",
        description="Print the Windows port catalog as a table (cut to the terminal's width, whole when piped); "
                    "'winportlint catalog import PAGE.txt' compiles it from the AWS page instead.")
    catalog.add_argument("--os", action="append", metavar="VERSION",
                         help="only this Windows Server version; repeatable")
    catalog.add_argument("--direction", choices=("in", "out"), help="only inbound or outbound rules")
    catalog.add_argument("--catalog", action="append", metavar="FILE", help="an extra catalog file; repeatable")
    catalog_commands = catalog.add_subparsers(
        dest="catalog_command", metavar="import",
        help="compile the AWS page text into the catalog YAML (see 'winportlint catalog import --help')")
    compile_page = catalog_commands.add_parser(
        "import", description="Compile the text of the AWS page into the catalog YAML, corrected by the errata.")
    compile_page.add_argument("page", metavar="PAGE.txt", help="the AWS page, saved as text")
    compile_page.add_argument("--output", metavar="FILE",
                              help="where to write the YAML (default: standard output); writing over the "
                                   "built-in rules_catalog/windows-ami.yaml also refreshes its snapshot")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; SIGINT, SIGTERM and SIGHUP end it (and its worker processes) with exit
    code 128 + the signal's number, no traceback and no report file (see :mod:`.interrupt`)."""
    from .interrupt import Interrupted, handled, received

    try:
        with handled():
            return _main(argv)
    except Interrupted as exc:
        return 128 + exc.signum
    except KeyboardInterrupt:  # SIGINT before the handler was set, or where none can be
        return 128 + 2
    except UsageError as exc:
        _say(f"winportlint: error: {exc}")
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # a bug (one line, never a traceback), or the workers a signal ended
        if received():
            return 128 + received()
        _say(f"winportlint: internal error: {type(exc).__name__}: {excerpts_in(str(exc))} (please report it)")
        return EXIT_ERROR


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args)
    if args.command == "exceptions":
        return _exceptions(args)
    if args.command == "fix":
        return _fix(args)
    if args.command == "rules":
        return _rules(args.markdown)
    if args.command == "explain":
        for index, rule_id in enumerate(args.rule_id):
            if index:  # a blank line between two checks' documentation
                _write("\n")
            _explain(rule_id)
        return EXIT_CLEAN
    if args.command == "catalog":
        return _catalog(args)
    if args.command == "lsp":
        return _lsp()
    parser.print_help()
    return EXIT_ERROR


def _load_catalog(extra_files, os_versions, origin: str = "--os", configured=None):
    """The catalog, narrowed to ``os_versions`` (given by ``origin``: ``--os`` or a configuration
    file). A release the AWS page does not list yet gets a note saying whose rules it is given.
    A catalog file the configuration (``configured``) names that cannot be read is named with its key."""
    from .catalog import CatalogError, load_catalog, normalize_os, rules_version, spell_versions

    try:
        catalog = load_catalog(tuple(extra_files or ()))
    except CatalogError as exc:
        if configured is not None and exc.line is None and exc.file in configured.catalog:
            raise UsageError(f"{configured.where}: catalog: {exc}") from None
        raise UsageError(str(exc)) from None
    if os_versions:
        try:
            narrowed = catalog.select(os=os_versions)
        except ValueError as exc:
            raise UsageError(f"{origin}: {exc}") from None
        listed = catalog.versions()
        for version in dict.fromkeys(normalize_os(value) for value in os_versions):
            if rules_version(version, listed) != version:
                _say(f"winportlint: note: {origin} {version}: {spell_versions([version], listed)}")
        catalog = narrowed
    return catalog


class _Lint(NamedTuple):
    """A run's findings with the exceptions applied (``outcome``), and what it was run with."""

    config: Config
    plugins: Plugins
    checks: list
    catalog: Catalog
    catalog_files: list[str]
    settings: dict
    result: RunResult
    threshold: Severity
    #: The findings at or above the threshold, before the exceptions.
    shown: list[Finding]
    outcome: Outcome
    #: The date the exceptions were judged on (:func:`winportlint.suppress.today`).
    today: datetime.date


def _configured(paths: Sequence[str]) -> tuple[Config, Plugins]:
    """The configuration for ``paths`` and the plugins; their warnings go to standard error."""
    from . import config as configuration
    from .plugin_manager import load_plugins

    try:
        config = configuration.load(configuration.find(paths[0]))
    except configuration.ConfigError as exc:
        raise UsageError(str(exc)) from None
    plugins = load_plugins()
    for warning in plugins.warnings:
        _say(f"winportlint: warning: {warning}")
    return config, plugins


def _lint(args, config, plugins) -> _Lint:
    """Lint ``args.paths`` as the options and the configuration say, and apply the exceptions."""
    from . import engine, suppress
    from .model import Severity

    known_ids = {check.id for check in plugins.checks}
    given = engine.Selection(engine.split_ids(args.select), engine.split_ids(args.ignore))
    try:
        checks = engine.chosen_checks(plugins.checks, config, given, "--")
        today = suppress.judged_on(config.allow, known_ids, config.policy)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    catalog_files = [*plugins.catalog_files, *config.catalog, *(args.catalog or ())]
    catalog = _load_catalog(catalog_files, args.os or list(config.os), "--os" if args.os else f"{config.where}: os",
                            config)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    settings = {**_settings(args, config), "scenarios": config.var_files}
    cache = None if args.no_cache else _cache(plugins, checks, catalog, settings, config.path)
    result = engine.run(args.paths, plugins.formats, checks, catalog, settings, excluded=config.excluded,
                        jobs=args.jobs, cache=cache)
    threshold = Severity(args.severity or config.severity or "low")
    shown = [f for f in result.findings if f.severity.rank >= threshold.rank]
    outcome = suppress.apply(shown, result.files, plugins.formats, known_ids, config.allow,
                             config.inline_ignores, cache, config.policy, today)
    return _Lint(config, plugins, checks, catalog, catalog_files, settings, result, threshold, shown, outcome, today)


def _check(args) -> int:
    from .report import Report

    if args.output_format and not args.output:
        raise UsageError("--output-format needs --output FILE (the console's format is --format)")
    config, plugins = _configured(args.paths)
    base = _diff_base(args.diff_base, args.paths) if args.diff_base is not None else None
    reporters = [plugins.reporters.get(name) for name in (args.format, args.output_format or args.format)]
    for name, reporter in zip((args.format, args.output_format), reporters):
        if reporter is None:
            raise UsageError(f"unknown format {excerpt(name)} (known: {', '.join(sorted(plugins.reporters))})")
    if args.output and args.write_baseline and os.path.realpath(args.output) == os.path.realpath(args.write_baseline):
        raise UsageError(f"--output {args.output} and --write-baseline {args.write_baseline} are the same file")
    run = _lint(args, config, plugins)
    checks, catalog_files, settings, result, outcome = run.checks, run.catalog_files, run.settings, run.result, \
        run.outcome
    for warning in outcome.warnings:
        _say(f"winportlint: warning: {warning}")
    findings, baselined = outcome.kept, 0
    if args.baseline:
        findings, baselined = _baseline(args.baseline, outcome.kept)
    at_base = []
    if base is not None:
        findings, at_base = _compare_with_base(base, findings, args, run)
    if config.fix_sources and any(getattr(reporter, "shows_fixes", False) for reporter in reporters):
        from .engine import scanned_trees
        from .fixes import attach, requests

        findings = attach(findings, plugins.formats, requests(config.fix_sources), trees=scanned_trees(args.paths),
                          checks=checks)
    inputs = [*result.inputs, *args.paths, *catalog_files, *settings["var_files"], *filter(None, [config.path])]
    if args.write_baseline:
        _refuse_overwriting("--write-baseline", args.write_baseline, inputs)
    if args.output:
        _refuse_overwriting("--output", args.output, [*inputs, *filter(None, [args.baseline, args.write_baseline])])
    errors = sorted([*result.errors, *outcome.errors, *(outcome.unused if args.report_unused_ignores else ()),
                     *_unchecked(args, config, result)], key=lambda e: (e.file, e.line, e.message))
    report = Report(
        findings=findings,
        errors=errors,
        checks=checks,
        files_checked=result.files_checked,
        threshold=run.threshold,
        hidden=len(result.findings) - len(run.shown),
        warnings=[*plugins.warnings, *outcome.warnings],
        suppressed=outcome.suppressed,
        show_suppressed=args.show_suppressed,
        baselined=baselined,
        at_base=at_base,
        diff_base=args.diff_base or "",
    ).printable()
    console, to_file = reporters
    writes = {}
    if args.write_baseline:
        from .baseline import render

        writes[args.write_baseline] = render(args.write_baseline, outcome.kept)
    if args.output:
        writes[args.output] = to_file.render(report), None
    failed = []
    for path, (text, count) in writes.items():
        try:
            _write_whole(path, text)
        except UsageError as exc:  # the report is still shown: the run's work is not lost
            failed.append(str(exc))
            continue
        if count is not None:
            _say(f"winportlint: wrote {count} finding{'' if count == 1 else 's'} to {path}")
    if not args.output or args.output_format or failed:
        report.color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        _write(console.render(report))
    for message in failed:
        _say(f"winportlint: error: {message}")
    if failed:
        return EXIT_ERROR
    return 0 if args.write_baseline and not errors else report.exit_code


def _exceptions(args) -> int:
    """List every exception with its status: 1 when one has expired or matches no finding (for a
    scheduled job), 2 on input errors."""
    from winportlint.plugins.reporters.exceptions import render

    config, plugins = _configured(args.paths)
    run = _lint(args, config, plugins)
    waivers = sorted(run.outcome.waivers, key=lambda waiver: (waiver.location is None, waiver.location or ()))
    rows = [(waiver, waiver.status(run.today, config.policy.warning_days)) for waiver in waivers]
    errors = sorted([*run.result.errors, *run.outcome.errors], key=lambda e: (e.file, e.line, e.message))
    _write(render(args.format, rows, errors, run.today))
    if errors:
        return EXIT_ERROR
    return 1 if any(status in ("expired", "unused") for _, status in rows) else EXIT_CLEAN


def _fix_requests(args, config) -> list:
    """The requests ``fix`` makes of the formats, from the configuration and the command line."""
    from .fixes import requests
    from .suppress import parse_date

    if (args.owner or args.expires) and not args.reason:
        raise UsageError("--owner and --expires go with --reason (the exception they describe)")
    if args.reason is not None and (not args.reason.strip() or "\n" in args.reason or "\r" in args.reason):
        raise UsageError("--reason needs one line of text")
    if args.owner is not None and (not args.owner or any(c.isspace() for c in args.owner)):
        raise UsageError(f"--owner needs one word, not {excerpt(args.owner)}")
    if args.expires is not None:
        try:
            parse_date(args.expires)
        except ValueError:
            raise UsageError(f"--expires {excerpt(args.expires, quote=False)} is not a date (write YYYY-MM-DD)") \
                from None
    return requests(config.fix_sources, (args.reason or "").strip(), args.owner or "", args.expires or "")


def _fix(args) -> int:
    """Show (``--diff``) or write (``--apply``) the fixes of the findings; the files a fix edits (and
    those read with them: a Terraform module's) are written only when, read and checked again with
    the fixed bytes, they lose the findings fixed and gain nothing."""
    from . import engine, fixes

    config, plugins = _configured(args.paths)
    asked = _fix_requests(args, config)
    run = _lint(args, config, plugins)
    errors = sorted([*run.result.errors, *run.outcome.errors], key=lambda e: (e.file, e.line, e.message))
    for error in errors:
        _say(f"{error.file}:{error.line}: error: {error.message}" if error.line else f"{error.file}: error: "
             f"{error.message}")
    contents: dict = {}
    trees = engine.scanned_trees(args.paths)
    allowed = ("safe", "unsafe") if args.unsafe_fixes else ("safe",)
    choices = [fixes.choose(finding, allowed)
               for finding in fixes.attach(run.outcome.kept, plugins.formats, asked, contents, trees, run.checks)]
    chosen = []
    unsafe = missing = left = 0
    for choice in choices:
        if choice.fix is not None:
            chosen.append(choice)
            continue
        left += 1
        location = choice.finding.location
        if choice.reason == "unsafe":
            unsafe += 1
        else:
            missing += 1
            why = f": {choice.reason}" if choice.reason else ""
            _say(f"{location.file}:{location.line}: {choice.finding.rule_id}: no fix to apply{why}")
    suffixes = tuple(s for fmt in plugins.formats for s in getattr(fmt, "folder_suffixes", ()))
    folders = sorted({os.path.dirname(path) or "." for path in run.result.files if path.lower().endswith(suffixes)})
    relint = fixes.relinter(plugins.formats, run.checks, run.catalog, run.threshold,
                            {check.id for check in plugins.checks}, config, run.today,
                            {**run.settings, "scanned_trees": trees}, folders)
    done = 0
    for unit in fixes.units(chosen, plugins.formats):
        paths = fixes.files_of(unit)
        original = {path: contents[path] for path in paths}
        outcome = fixes.fix_unit(original, unit, relint, plugins.formats, asked, allowed, trees, run.checks)
        refused = outcome.refused
        if not refused and args.apply:
            try:
                fixes.write_unit(outcome.patched, original)
            except OSError as exc:
                refused = exc.strerror or str(exc)
        if refused:
            left += len(unit)
            _say(f"{', '.join(paths)}: not fixed: {refused}")
            continue
        fixed = {fixes.key(finding) for finding in outcome.fixed}
        unchecked = {fixes.key(finding) for finding in outcome.unchecked}
        for choice in unit:
            if fixes.key(choice.finding) not in fixed:
                left += 1
                location = choice.finding.location
                why = ("it comes from a file that reads this one (a parent stack, a service), which cannot be checked "
                       "again before writing" if fixes.key(choice.finding) in unchecked
                       else "its edit overlaps another fix's")
                _say(f"{location.file}:{location.line}: {choice.finding.rule_id}: not fixed: {why}")
        done += len(outcome.fixed)
        if not args.apply and outcome.fixed:
            _write("".join(fixes.unified_diff(path, original[path], outcome.patched[path]) for path in paths))
    verb = "applied" if args.apply else "to apply (with --apply)"
    parts = [f"{done} fix{'' if done == 1 else 'es'} {verb}"]
    if unsafe:
        parts.append(f"{unsafe} more with --unsafe-fixes")
    if missing:
        parts.append(f"{missing} finding{'' if missing == 1 else 's'} without a fix to apply")
    _say(", ".join(parts))
    if errors:
        return EXIT_ERROR
    return 1 if left or (done and not args.apply) else EXIT_CLEAN


def _unchecked(args, config, result) -> list:
    """Say which files named were skipped and why, and which folders named held no file to check
    (a CI step pointed at the wrong folder must not pass in silence); such a folder is an input
    error with ``--fail-on-empty`` or ``fail_on_empty``, returned. A skipped file never is:
    pre-commit passes every staged ``.yaml``, a workflow's included."""
    from .model import InputError

    fail = "--fail-on-empty" if args.fail_on_empty else f"{config.where}: fail_on_empty" if config.fail_on_empty \
        else None
    skipped = set(result.skipped)
    taken = [*result.inputs, *(error.file for error in result.errors)]
    errors = []
    for path in dict.fromkeys(args.paths):
        if not os.path.isdir(path):
            if os.path.normpath(path) in skipped:
                _say(f"{path}: skipped: holds no CloudFormation, Terraform or Serverless security group, "
                     f"network ACL or load balancer")
            continue
        if any(_under(file, path) for file in taken):
            continue
        looked_at = sum(1 for file in skipped if _under(file, path))
        message = f"no CloudFormation, Terraform or Serverless files found under {path}"
        if looked_at:
            message += (f" ({looked_at} file{'' if looked_at == 1 else 's'} there hold{'s' if looked_at == 1 else ''}"
                        f" no security group, network ACL or load balancer)")
        if fail:
            errors.append(InputError(path, 0, f"{message} ({fail})"))
        else:
            _say(f"winportlint: note: {message}")
    return errors


def _under(file: str, folder: str) -> bool:
    try:
        relative = os.path.relpath(file, folder)
    except ValueError:  # another drive
        return False
    return relative != ".." and not relative.startswith(".." + os.sep)


def _refuse_overwriting(option: str, target: str, inputs: Sequence[str]) -> None:
    """A usage error when ``target`` is one of the files the run reads (by any path: a symlink,
    a hard link, ``./x``): a report or baseline written over a template destroys it."""
    try:
        identity = os.stat(target)
    except OSError:  # nothing there yet: nothing to lose
        return
    for path in inputs:
        try:
            if os.path.samestat(identity, os.stat(path)):
                raise UsageError(f"{option} {target}: refusing to write over {path}, which this run reads")
        except OSError:
            continue


def _write_whole(path: str, text: str) -> None:
    """Write a report or baseline whole or not at all: into a new file beside it, renamed over
    it once complete (a signal or a full disk leaves the old file or none, never a part).
    A FIFO or device (``/dev/stderr``) is written as it is."""
    import contextlib
    import stat
    import tempfile

    target = os.path.realpath(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        if status is not None and not stat.S_ISREG(status.st_mode):
            with open(target, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
            return
        descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".winportlint-", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        if status is not None:
            mode = stat.S_IMODE(status.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror}") from None
        raise


def _cache(plugins, checks, catalog, settings, config_path: str | None):
    """The result cache of this run: keyed by the code, plugins, checks, catalog, settings and configuration."""
    import winportlint.plugins
    import winportlint.rules_catalog

    from . import cache

    run_key = cache.digest(
        cache.code_identity([sys.modules[__package__], winportlint.plugins, winportlint.rules_catalog]),
        *plugins.identity(),
        *(f"{c.id} {type(c).__module__}.{type(c).__qualname__} {c.severity.value}" for c in checks),
        repr(catalog), repr(sorted(settings.items())),
        cache.file_digest(config_path) if config_path else "no configuration")
    try:
        key = cache.secret()
    except cache.NoKey as exc:
        _say(f"winportlint: warning: {exc}; running without the result cache")
        return None
    result_cache = cache.Cache(cache.default_directory(), run_key, key)
    result_cache.prune()
    return result_cache


def _baseline(baseline: str, findings: list) -> tuple[list, int]:
    """The findings not in ``baseline``, and how many were."""
    from .baseline import BaselineError, new_findings

    try:
        return new_findings(baseline, findings)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _diff_base(ref: str, paths: Sequence[str]):
    """The revision ``--diff-base`` names (see :mod:`.diff_base`); a usage error when git cannot read it."""
    from .diff_base import DiffBaseError, resolve

    try:
        return resolve(ref, paths)
    except DiffBaseError as exc:
        raise UsageError(str(exc)) from None


def _compare_with_base(base, findings: list, args, run: _Lint) -> tuple[list, list]:
    """The findings the files at ``base`` do not have, and those they have: the same paths are
    linted in the revision's copy with the same checks, settings and exclusions (variable files
    of the repository read as they are there), without the cache."""
    from . import engine
    from .diff_base import DiffBaseError, revision, split

    try:
        with revision(base) as tree:
            config, settings = run.config, run.settings
            scenarios = settings["scenarios"]
            settings_at = {**settings, "var_files": [tree.at(path) for path in settings["var_files"]],
                           "scenarios": tuple(map(tree.at, scenarios)) if isinstance(scenarios, tuple) else scenarios}
            at_base = engine.run([tree.at(path) for path in args.paths], run.plugins.formats, run.checks, run.catalog,
                                 settings_at,
                                 excluded=lambda path: config.excluded(tree.back(path)), jobs=args.jobs)
            return split(findings, tree, at_base.findings)
    except DiffBaseError as exc:
        raise UsageError(str(exc)) from None


def _settings(args, config) -> dict[str, object]:
    """Options for format plugins, checked here so that a typo is a usage error (naming the
    option, or the configuration file and key, it is in)."""
    variables = {}
    for assignment in args.var or ():
        name, equals, value = assignment.partition("=")
        if not equals or not name.strip().isidentifier():
            raise UsageError(f"--var needs NAME=VALUE, not {excerpt(assignment)}")
        variables[name.strip()] = value
    from .textfile import check_status

    var_files = list(args.var_file or ())
    named = [(f"--var-file {path}", path) for path in var_files]
    if isinstance(config.var_files, tuple):
        named += [(f"{config.where}: var_files: {path}", path) for path in config.var_files]
    for origin, path in named:  # the evaluator reads them: a FIFO or device would stop it
        try:
            check_status(os.stat(path))
        except FileNotFoundError:
            raise UsageError(f"{origin}: no such file") from None
        except OSError as exc:
            raise UsageError(f"{origin}: {exc.strerror}") from None
    return {"var_files": var_files, "vars": variables}


def _rules(markdown: bool) -> int:
    from .plugin_manager import load_plugins

    plugins = load_plugins()
    if markdown:
        _write(rules_markdown(plugins.checks))
        return EXIT_CLEAN
    for check in sorted(plugins.checks, key=lambda c: c.id):
        default = "" if check.enabled_by_default else "  (off by default)"
        _write(f"{check.id:<8} {check.severity.value:<9} {check.name}{default}\n         {check.summary}\n")
    for warning in plugins.warnings:
        _say(f"warning: {warning}")
    return EXIT_CLEAN


def rules_markdown(checks) -> str:
    """The rule documentation, generated from each check's metadata."""
    parts = ["# winportlint rules\n\nGenerated by `winportlint rules --markdown` from the checks' metadata; "
             "do not edit by hand.\n"]
    for check in sorted(checks, key=lambda c: c.id):
        default = "yes" if check.enabled_by_default else "no (enable with `--select " + check.id + "`)"
        parts.append(f"\n## {check.id}\n\n**{check.name}**: {check.summary}\n\n"
                     f"- Severity: {check.severity.value}\n- Enabled by default: {default}\n\n{check.explanation}\n")
    return "".join(parts)


def _explain(rule_id: str) -> int:
    """A check's documentation, found by its id (any case) or its name."""
    from .checks import documentation
    from .plugin_manager import load_plugins

    for check in load_plugins().checks:
        if rule_id.strip().upper() == check.id or rule_id.strip().lower() == check.name:
            _write(documentation(check))
            return EXIT_CLEAN
    raise UsageError(f"no check with id or name {excerpt(rule_id)} (see 'winportlint rules' for both)")


def _lsp() -> int:
    """The language server; a usage error naming the extra when its libraries are not installed."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        raise UsageError("the language server needs the lsp extra: pip install 'winportlint[lsp]'") from None
    from .lsp.server import serve

    return serve()


def _catalog(args) -> int:
    from .catalog import format_catalog_table
    from .model import Direction

    if args.catalog_command == "import":
        return _catalog_import(args.page, args.output)
    catalog = _load_catalog(args.catalog, args.os)
    if args.direction:
        catalog = catalog.select(direction=Direction.INGRESS if args.direction == "in" else Direction.EGRESS)
    width = None
    if sys.stdout.isatty():  # piped, the table keeps every character for the reader at the other end
        import shutil

        width = shutil.get_terminal_size().columns
    _write(format_catalog_table(catalog, width))
    return EXIT_CLEAN


def _catalog_import(page: str, output: str | None) -> int:
    from pathlib import Path

    from .catalog import builtin_file, write_snapshot
    from .catalog_compiler import CatalogCompileError, compile_page
    from .textfile import NotText, read_text

    catalog_dir = Path(builtin_file("windows-ami.yaml")).parent
    try:
        text = read_text(page)
        compiled = compile_page(text, catalog_dir / "windows-ami.errata.yaml", page_name=Path(page).name)
    except OSError as exc:
        raise UsageError(f"cannot read {page}: {exc.strerror or exc}") from None
    except NotText as exc:
        raise UsageError(f"cannot read {page}: {exc}") from None
    except CatalogCompileError as exc:
        raise UsageError(str(exc)) from None
    if output is None:  # never into the installed package: it belongs to the package manager
        _write(compiled)
        return EXIT_CLEAN
    _refuse_overwriting("--output", output, [page])
    _write_whole(output, compiled)
    _write(f"wrote {printable(output)}\n")
    builtin = catalog_dir / "windows-ami.yaml"
    if builtin.exists() and os.path.samefile(output, builtin):  # this checkout's catalog: keep its snapshot fresh
        _write(f"wrote {printable(str(write_snapshot()))}\n")
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
