"""JUnit XML (``--format junit``), the test report that Jenkins, GitLab and Azure Pipelines show.

One ``<testsuites>`` holds one ``<testsuite name="winportlint">``. Each finding
is a failed ``<testcase classname="FILE" name="ID RESOURCE PORTS">`` whose
``<failure type="ID" message="MESSAGE">`` text is the text reporter's line
(``file:line:col: ID severity message``); each input error is a testcase with
an ``<error type="input-error">``. A run with neither is one passing testcase
named ``winportlint``, so that the CI server shows a pass rather than nothing.

Test names are unique within a file (CI servers track a test by class and
name): findings that would share one add their peer, then ``#2``, ``#3``...
File and resource names in them have what is not printable escaped, as in the
text format. The XML is ASCII (other characters as references, ``&#233;``):
the same document on any console as in a file.
"""

from __future__ import annotations

SUITE_NAME = "winportlint"


def _xml_text(value: object) -> str:
    """``value`` without the characters XML 1.0 cannot hold (they become U+FFFD)."""
    import re

    return re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "\ufffd", str(value))


def _unique(names: list[tuple[str, str]], extras: list[str]) -> list[str]:
    """Test names unique per class name: a name shared within a class gets its
    ``extras`` entry appended (when there is one), then ``#2``, ``#3`` in order."""
    from collections import Counter

    counts = Counter(names)
    widened = [(cls, f"{name} {extra}" if counts[(cls, name)] > 1 and extra else name)
               for (cls, name), extra in zip(names, extras)]
    counts = Counter(widened)
    seen: Counter = Counter()
    result = []
    for key in widened:
        seen[key] += 1
        result.append(key[1] if counts[key] == 1 or seen[key] == 1 else f"{key[1]} #{seen[key]}")
    return result


class JunitReporter:
    """Renders a run as one JUnit XML test suite."""

    name = "junit"

    def render(self, report) -> str:
        import xml.etree.ElementTree as ET

        from winportlint.excerpt import printable
        from winportlint.exposure import ports_text

        cases = []  # (classname, name, extra, child tag, type, message, text)
        for finding in report.findings:
            permission = finding.permission
            location = finding.location
            severity = str(getattr(finding.severity, "value", finding.severity))
            text = (f"{printable(location.file)}:{location.line}:{location.column}: {finding.rule_id} {severity} "
                    f"{finding.message}")
            cases.append((location.file, f"{finding.rule_id} {permission.resource} {ports_text(permission)}",
                          permission.peer.text, "failure", finding.rule_id, finding.message, text))
        for error in report.errors:
            place = f"{printable(error.file)}:{error.line}" if error.line else printable(error.file)
            cases.append((error.file, f"input error line {error.line}" if error.line else "input error", "",
                          "error", "input-error", error.message, f"{place}: error: {error.message}"))
        names = _unique([(case[0], case[1]) for case in cases], [case[2] for case in cases])

        counts = {"tests": str(max(len(cases), 1)), "failures": str(len(report.findings)),
                  "errors": str(len(report.errors))}
        root = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
        suite = ET.SubElement(root, "testsuite", {"name": SUITE_NAME, **counts})
        for (classname, _, _, tag, kind, message, text), name in zip(cases, names):
            case = ET.SubElement(suite, "testcase", {"classname": printable(classname), "name": printable(name)})
            child = ET.SubElement(case, tag, {"type": _xml_text(kind), "message": _xml_text(message)})
            # Element text is read back with CR LF and CR as LF: write it so.
            child.text = _xml_text(text.replace("\r\n", "\n").replace("\r", "\n"))
        if not cases:
            ET.SubElement(suite, "testcase", {"classname": SUITE_NAME, "name": SUITE_NAME})
        ET.indent(root)
        document = ET.tostring(root, encoding="us-ascii", xml_declaration=False).decode("ascii")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + document + "\n"


__all__ = ["JunitReporter"]
