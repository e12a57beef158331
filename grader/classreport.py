"""`OUT/report.html`: a class at a glance, for the instructor.

One self-contained page (inline CSS, SVG and a small script; no network, so it
works from a file or a course website) built from the same reports as
summary.csv and junit.xml: the score distribution, each exercise's and task's
pass rate, each task's most common failures grouped by rule and feedback, what
needs a look (timeouts, crashes, grader errors, missing and late submissions,
review flags), and a sortable, filterable table of students with each one's tasks.
Lateness appears only where the reports were graded against a deadline
(course.yaml's `deadline`); without one the page is as it was.

Everything a student produced (names, feedback, output, flagged code) is
untrusted: it is HTML-escaped with its control and bidi characters made
visible, and the page's Content-Security-Policy runs only its own script.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from grader.results import ExerciseReport, Report, duration_text, exercises_of, has_deadline
from grader.scan import Flag

KNOWN_STATUSES = ("passed", "failed", "error", "timeout", "grader_error")
ATTENTION = {"timeout": "Timeouts", "error": "Errors (the code raised or crashed)", "grader_error": "Grader errors"}
"""Statuses listed under "needs a look"; any status not in KNOWN_STATUSES is listed too."""
MAX_OUTPUT_CHARS = 2000
"""What a student's code printed is cut to this in the page (the JSON report has it all)."""
MAX_GROUPS = 8
"""Failure groups shown per task (the rest are counted)."""
BINS = 10


# ---------------------------------------------------------------- the model of the page

@dataclass
class FailureGroup:
    """Students whose task failed the same way: same status, rule and feedback (numbers aside)."""

    status: str
    rule: str
    message: str
    students: list[str] = field(default_factory=list)
    variants: set[str] = field(default_factory=set)


@dataclass
class TaskSummary:
    name: str
    max_score: float
    graded: int = 0
    passed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    groups: dict[tuple[str, str, str], FailureGroup] = field(default_factory=dict)

    def common_failures(self) -> list[FailureGroup]:
        return sorted(self.groups.values(), key=lambda g: (-len(g.students), g.rule, g.message))


@dataclass
class ExerciseSummary:
    exercise: str
    title: str
    max_score: float
    scores: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    tasks: dict[str, TaskSummary] = field(default_factory=dict)


@dataclass(frozen=True)
class Incident:
    student: str
    exercise: str
    task: str
    status: str


@dataclass
class ClassView:
    """Everything the page shows, computed once from the reports."""

    title: str
    reports: dict[str, Report]
    exercises: dict[str, ExerciseSummary]
    incidents: list[Incident]
    flags: dict[str, list[tuple[str, Flag]]]
    """Per student: (exercise, flag)."""
    late: list[tuple[str, ExerciseReport]] = field(default_factory=list)
    """(student, report) of every exercise handed in after its deadline."""
    dated: bool = False
    """Some exercise was graded against a deadline: the page shows lateness (else nothing of it)."""

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises.values())

    def total(self, student: str) -> float:
        return sum(ex.score for ex in exercises_of(self.reports[student]))


_RULE = re.compile(r"\[([^\]\n]{1,80})\]\s*")
_WHERE = re.compile(r"on [\w:.-]+(?:, case \d+)?(?: \(.*?\))?: ")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def failure_key(status: str, feedback: str) -> tuple[str, str, str]:
    """(rule, message, key) of a task's feedback: the rule in its `[brackets]` (else the status),
    the first line without the device and case it happened on, and that line with its numbers
    blanked, so that "expected 75, got 150" and "expected 48, got 96" fall in one group."""
    first = feedback.strip().splitlines()[0] if feedback.strip() else ""
    rule = status
    m = _RULE.match(first)
    if m:
        rule, first = m[1], first[m.end():]
        w = _WHERE.match(first)
        if w:
            first = first[w.end():]
    first = first[:300]
    return rule, first, _NUMBER.sub("#", first)


def _flags_of(ex: ExerciseReport) -> list[Flag]:
    """Review flags of the tampering scan (grader/scan.py) that the report carries."""
    return list(ex.flags)


def build_view(reports: Mapping[str, Report], order: Iterable[str] = (), title: str = "") -> ClassView:
    """The page's numbers: exercises in `order` (then any other graded one), each student's
    missing exercises among those the class was graded on."""
    course_order = list(order)
    seen: dict[str, ExerciseReport] = {}
    for report in reports.values():
        for ex in exercises_of(report):
            seen.setdefault(ex.exercise, ex)
    ids = [e for e in course_order if e in seen] + sorted(set(seen) - set(course_order))
    exercises = {e: ExerciseSummary(e, seen[e].title, 0.0) for e in ids}
    incidents: list[Incident] = []
    flags: dict[str, list[tuple[str, Flag]]] = {}
    late: list[tuple[str, ExerciseReport]] = []
    for student, report in reports.items():
        by_ex = {ex.exercise: ex for ex in exercises_of(report)}
        for e, summary in exercises.items():
            graded = by_ex.get(e)
            if graded is None:
                summary.missing.append(student)
                continue
            summary.scores[student] = graded.score
            summary.max_score = max(summary.max_score, graded.max_score)
            if graded.late:
                summary.late.append(student)
                late.append((student, graded))
            for f in _flags_of(graded):
                flags.setdefault(student, []).append((e, f))
            for t in graded.tasks:
                task = summary.tasks.setdefault(t.name, TaskSummary(t.name, t.max_score))
                task.graded += 1
                task.passed += t.status == "passed"
                task.statuses[t.status] = task.statuses.get(t.status, 0) + 1
                if t.status == "passed":
                    continue
                rule, message, key = failure_key(t.status, t.feedback)
                group = task.groups.setdefault((t.status, rule, key), FailureGroup(t.status, rule, message))
                group.students.append(student)
                group.variants.add(message)
                if t.status in ATTENTION or t.status not in KNOWN_STATUSES:
                    incidents.append(Incident(student, e, t.name, t.status))
    return ClassView(title, dict(reports), exercises, incidents, flags, late, has_deadline(reports.values()))


# ---------------------------------------------------------------- rendering

_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(text: object) -> str:
    """Untrusted text with its control, zero-width and bidi characters shown as escapes
    (they could hide or reorder what the instructor reads)."""
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(text))


def esc(text: object) -> str:
    """Untrusted text as inert HTML."""
    return html.escape(visible(text), quote=True)


def _pts(x: float) -> str:
    return f"{x:g}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _median(values: list[float]) -> float:
    s = sorted(values)
    return (s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2 if s else 0.0


def _time(when: datetime | None) -> str:
    """A report's time as the instructor reads it, in the timezone it carries (the deadline's)."""
    return esc(when.isoformat(sep=" ")) if when is not None else "-"


def _status_class(status: str) -> str:
    return status if status in KNOWN_STATUSES else "other"


def histogram_bins(fractions: list[float]) -> list[int]:
    """Counts per tenth of the maximum (0-10%, ..., 90-<100%) and a last bin for full marks."""
    bins = [0] * (BINS + 1)
    for f in fractions:
        bins[BINS if f >= 1.0 else max(0, min(BINS - 1, int(f * BINS)))] += 1
    return bins


def _histogram_svg(bins: list[int], caption: str) -> str:
    width, height, pad, bar = 560, 180, 24, 44
    top = max(bins) or 1
    labels = [f"{10 * i}–{10 * i + 9}%" for i in range(BINS)] + ["100%"]
    parts = [f'<svg class="hist" viewBox="0 0 {width} {height + 2 * pad}" role="img" aria-label="{esc(caption)}">']
    for i, (n, label) in enumerate(zip(bins, labels, strict=True)):
        x = 8 + i * (bar + 6)
        h = round(height * n / top)
        y = pad + height - h
        parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{h}" class="{"full" if i == BINS else "bar"}">'
                     f'<title>{label}: {n} students</title></rect>')
        parts.append(f'<text x="{x + bar / 2}" y="{y - 4}" class="count">{n}</text>')
        parts.append(f'<text x="{x + bar / 2}" y="{pad + height + 16}" class="label">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _rate_bar(passed: int, graded: int) -> str:
    width = 120
    w = round(width * passed / graded) if graded else 0
    return (f'<svg class="rate" viewBox="0 0 {width} 12" width="{width}" height="12" aria-hidden="true">'
            f'<rect width="{width}" height="12" class="track"/><rect width="{w}" height="12" class="bar"/></svg>')


def _status_counts(statuses: Mapping[str, int]) -> str:
    return " ".join(f'<span class="st {_status_class(s)}">{esc(s)} {n}</span>'
                    for s, n in sorted(statuses.items(), key=lambda kv: (KNOWN_STATUSES + (kv[0],)).index(kv[0])))


def _names(students: list[str]) -> str:
    links = ", ".join(f'<a href="#student-{esc(s)}">{esc(s)}</a>' for s in students)
    return f"<details><summary>{len(students)} student{'s' if len(students) != 1 else ''}</summary>{links}</details>"


def _overview(view: ClassView) -> str:
    students = list(view.reports)
    top = view.max_score
    totals = [view.total(s) for s in students]
    full = sum(t >= top for t in totals) if top else 0
    counts = {s: sum(i.status == s for i in view.incidents) for s in ATTENTION}
    other = sum(i.status not in KNOWN_STATUSES for i in view.incidents)
    missing = sum(len(e.missing) for e in view.exercises.values())
    flagged = sum(len(f) for f in view.flags.values())
    cards = [("students", str(len(students))), ("mean", f"{sum(totals) / len(totals):.3g} / {_pts(top)}"
                                                  if totals else "-"),
             ("median", f"{_pts(_median(totals))} / {_pts(top)}"), ("full marks", str(full)),
             ("timeouts", str(counts["timeout"])), ("errors", str(counts["error"])),
             ("grader errors", str(counts["grader_error"] + other)), ("missing", str(missing)),
             *([("late", str(len(view.late)))] if view.dated else []), ("review flags", str(flagged))]
    items = "".join(f'<div class="card" data-card="{k}"><div class="v">{esc(v)}</div><div class="k">{k}</div></div>'
                    for k, v in cards)
    bins = histogram_bins([t / top if top else 0.0 for t in totals])
    caption = f"Total scores of {len(students)} students, as a share of {_pts(top)} points"
    return (f'<section id="overview"><h2>Overview</h2><div class="cards">{items}</div>'
            f"<figure>{_histogram_svg(bins, caption)}<figcaption>{esc(caption)}; missing exercises count 0."
            "</figcaption></figure></section>")


def _exercises(view: ClassView) -> str:
    rows = []
    for e in view.exercises.values():
        scores = list(e.scores.values())
        full = sum(s >= e.max_score for s in scores)
        mean = f"{sum(scores) / len(scores):.3g} / {_pts(e.max_score)}" if scores else "-"
        late = f"<td>{len(e.late)}</td>" if view.dated else ""
        rows.append(f'<tr data-exercise="{esc(e.exercise)}"><th scope="row">{esc(e.exercise)}</th>'
                    f"<td>{esc(e.title)}</td><td>{len(scores)}</td><td>{len(e.missing)}</td>{late}<td>{mean}</td>"
                    f"<td>{_pts(_median(scores))}</td><td>{full} ({_pct(full, len(scores))})</td></tr>")
    late_head = "<th>late</th>" if view.dated else ""
    table = ("<table><thead><tr><th>exercise</th><th>title</th><th>submissions</th><th>missing</th>"
             f"{late_head}<th>mean</th><th>median</th><th>full marks</th></tr></thead><tbody>{''.join(rows)}</tbody>"
             "</table>")
    tasks = []
    for e in view.exercises.values():
        for t in e.tasks.values():
            tasks.append(f'<tr data-task="{esc(e.exercise)}.{esc(t.name)}"><td>{esc(e.exercise)}</td>'
                         f"<th scope=\"row\">{esc(t.name)}</th><td>{_pts(t.max_score)}</td>"
                         f'<td class="num">{t.passed}/{t.graded}</td>'
                         f'<td class="num rate-pct">{_pct(t.passed, t.graded)}</td>'
                         f"<td>{_rate_bar(t.passed, t.graded)}</td><td>{_status_counts(t.statuses)}</td></tr>")
    task_table = ("<table><thead><tr><th>exercise</th><th>task</th><th>points</th><th>passed</th><th>pass rate</th>"
                  f"<th></th><th>statuses</th></tr></thead><tbody>{''.join(tasks)}</tbody></table>")
    return (f'<section id="exercises"><h2>Exercises</h2>{table}<h3>Tasks</h3>{task_table}</section>')


def _failures(view: ClassView) -> str:
    blocks = []
    for e in view.exercises.values():
        for t in e.tasks.values():
            groups = t.common_failures()
            if not groups:
                continue
            items = []
            for g in groups[:MAX_GROUPS]:
                varies = ' <span class="note">(numbers vary)</span>' if len(g.variants) > 1 else ""
                message = esc(g.message) if g.message else f"<i>{esc(g.status)}, no feedback</i>"
                items.append(f'<li class="group" data-count="{len(g.students)}">'
                             f'<span class="n">{len(g.students)}</span>'
                             f' <span class="st {_status_class(g.status)}">{esc(g.status)}</span>'
                             + (f' <span class="rule">{esc(g.rule)}</span>' if g.rule != g.status else "")
                             + f' <span class="msg">{message}</span>{varies}'
                             f"{_names(g.students)}</li>")
            rest = len(groups) - MAX_GROUPS
            more = f'<li class="note">and {rest} other kinds of failure</li>' if rest > 0 else ""
            failed = t.graded - t.passed
            blocks.append(f'<div class="task-failures" data-task="{esc(e.exercise)}.{esc(t.name)}">'
                          f"<h3>{esc(e.exercise)} · {esc(t.name)} <span class=\"note\">{failed} of {t.graded} "
                          f"not passed</span></h3><ol>{''.join(items)}{more}</ol></div>")
    body = "".join(blocks) or "<p>Every graded task passed.</p>"
    return f'<section id="failures"><h2>Most common failures</h2>{body}</section>'


def _attention(view: ClassView) -> str:
    parts = []
    kinds = list(ATTENTION) + sorted({i.status for i in view.incidents} - set(KNOWN_STATUSES))
    for status in kinds:
        found: dict[tuple[str, str], list[str]] = {}
        for i in view.incidents:
            if i.status == status:
                found.setdefault((i.exercise, i.task), []).append(i.student)
        if not found:
            continue
        name = ATTENTION.get(status, f"Status “{status}”")
        rows = "".join(f"<tr><td>{esc(ex)}</td><td>{esc(task)}</td><td>{_names(names)}</td></tr>"
                       for (ex, task), names in sorted(found.items(), key=lambda kv: -len(kv[1])))
        parts.append(f'<details class="attention" data-status="{esc(status)}" open><summary>{esc(name)}: '
                     f"{sum(len(n) for n in found.values())}</summary><table><thead><tr><th>exercise</th>"
                     f"<th>task</th><th>students</th></tr></thead><tbody>{rows}</tbody></table></details>")
    missing = [(e.exercise, e.missing) for e in view.exercises.values() if e.missing]
    if missing:
        rows = "".join(f"<tr><td>{esc(ex)}</td><td>{_names(names)}</td></tr>" for ex, names in missing)
        parts.append(f'<details class="attention" data-status="missing" open><summary>Missing submissions: '
                     f"{sum(len(n) for _, n in missing)}</summary><table><thead><tr><th>exercise</th>"
                     f"<th>students without a submission</th></tr></thead><tbody>{rows}</tbody></table></details>")
    if view.late:
        rows = "".join(f'<tr data-student="{esc(s)}"><td><a href="#student-{esc(s)}">{esc(s)}</a></td>'
                       f"<td>{esc(ex.exercise)}</td><td>{_time(ex.submitted_at)}</td><td>{_time(ex.deadline)}</td>"
                       f'<td class="num late-by">{duration_text(ex.late_by_s or 0.0)}</td></tr>'
                       for s, ex in sorted(view.late, key=lambda item: (-(item[1].late_by_s or 0.0), item[0])))
        parts.append(f'<details class="attention" data-status="late" open><summary>Late submissions: '
                     f"{len(view.late)}</summary><table><thead><tr><th>student</th><th>exercise</th>"
                     "<th>handed in</th><th>deadline</th><th>late by</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table></details>")
    if view.flags:
        rows = "".join(f'<tr><td><a href="#student-{esc(s)}">{esc(s)}</a></td><td>{esc(ex)}</td><td>{esc(f.rule)}</td>'
                       f"<td>{f.line}</td><td><code>{esc(f.snippet)}</code></td></tr>"
                       for s, items in view.flags.items() for ex, f in items)
        parts.append(f'<details class="attention" data-status="flags" open><summary>Review flags: '
                     f"{sum(len(v) for v in view.flags.values())}</summary><table><thead><tr><th>student</th>"
                     f"<th>exercise</th><th>rule</th><th>line</th><th>code</th></tr></thead><tbody>{rows}</tbody>"
                     "</table></details>")
    what = "missing or late submissions" if view.dated else "missing submissions"
    body = "".join(parts) or f"<p>Nothing: no timeouts, crashes, grader errors, {what} or flags.</p>"
    return f'<section id="attention"><h2>Needs a look</h2>{body}</section>'


def _tags(view: ClassView, student: str) -> list[str]:
    report = view.reports[student]
    statuses = {t.status for ex in exercises_of(report) for t in ex.tasks}
    tags = ["full" if view.total(student) >= view.max_score else "notfull"]
    tags += sorted(s for s in statuses if s in ATTENTION)
    tags += ["other"] if statuses - set(KNOWN_STATUSES) else []
    tags += ["missing"] if any(student in e.missing for e in view.exercises.values()) else []
    tags += ["late"] if any(student in e.late for e in view.exercises.values()) else []
    tags += ["flagged"] if student in view.flags else []
    return tags


def _dates(ex: ExerciseReport) -> list[object] | None:
    """[handed in, deadline, late by] of an exercise graded against a deadline, for the drill-down."""
    if ex.late_by_s is None or ex.submitted_at is None or ex.deadline is None:
        return None
    return [ex.submitted_at.isoformat(sep=" "), ex.deadline.isoformat(sep=" "),
            duration_text(ex.late_by_s) if ex.late else ""]


def _student_details(view: ClassView) -> str:
    """Each student's exercises and tasks as JSON for the drill-down, which the script turns into
    text nodes (never markup); feedback repeated across the class is stored once."""
    texts: dict[str, int] = {}

    def text(value: str) -> int:
        return texts.setdefault(visible(value), len(texts))

    students = {}
    for student, report in view.reports.items():
        rows = []
        for ex in exercises_of(report):
            output = ex.output if len(ex.output) <= MAX_OUTPUT_CHARS else (
                ex.output[:MAX_OUTPUT_CHARS] + f"\n[… {len(ex.output) - MAX_OUTPUT_CHARS} more characters in "
                                               f"{student}.json]")
            rows.append([ex.exercise, ex.score, ex.max_score, ex.isolation, round(ex.seconds, 1), text(output),
                         [[t.name, t.score, t.max_score, t.status, text(t.feedback),
                           " ".join(d if s == "passed" else f"{d}✘" for d, s in t.devices.items())] for t in ex.tasks],
                         [[f.rule, f.line, text(f.snippet)] for f in _flags_of(ex)]])
            dates = _dates(ex)
            if dates is not None:
                rows[-1].append(dates)
        students[visible(student)] = rows
    data = {"exercises": [visible(e) for e in view.exercises], "texts": list(texts), "students": students}
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    blob = blob.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script id="details" type="application/json">{blob}</script>'


def _students(view: ClassView) -> str:
    top = view.max_score
    heads = ['<th aria-sort="ascending"><button type="button" data-key="name" data-type="text">student</button></th>',
             '<th><button type="button" data-key="total" data-type="num">total</button></th>']
    heads += [f'<th><button type="button" data-key="ex{i}" data-type="num">{esc(e)}</button></th>'
              for i, e in enumerate(view.exercises)]
    heads += ['<th><button type="button" data-key="issues" data-type="num">issues</button></th>']
    bodies = []
    for student in view.reports:
        report = view.reports[student]
        by_ex = {ex.exercise: ex for ex in exercises_of(report)}
        total = view.total(student)
        keys = {"name": student, "total": _pts(total)}
        cells = [f'<th scope="row"><button type="button" class="who" aria-expanded="false">{esc(student)}'
                 "</button></th>",
                 f'<td class="num">{_pts(total)} <span class="note">{_pct(total, top)}</span></td>']
        for i, e in enumerate(view.exercises.values()):
            ex = by_ex.get(e.exercise)
            keys[f"ex{i}"] = _pts(ex.score) if ex else "-1"
            late = (f' <span class="st late" title="handed in after the deadline">late '
                    f"{duration_text(ex.late_by_s or 0)}</span>") if ex and ex.late else ""
            cells.append(f'<td class="num">{_pts(ex.score)}/{_pts(ex.max_score)}{late}</td>' if ex else
                         '<td class="num"><span class="st missing">missing</span></td>')
        statuses: dict[str, int] = {}
        for ex in by_ex.values():
            for t in ex.tasks:
                if t.status != "passed":
                    statuses[t.status] = statuses.get(t.status, 0) + 1
        n_late = sum(ex.late for ex in by_ex.values())
        if n_late:
            statuses["late"] = n_late
        n_flags = len(view.flags.get(student, []))
        if n_flags:
            statuses["flags"] = n_flags
        keys["issues"] = str(sum(v for k, v in statuses.items() if k != "failed") * 1000 + statuses.get("failed", 0))
        cells.append(f"<td>{_status_counts(statuses)}</td>")
        data = " ".join(f'data-k-{k}="{esc(v)}"' for k, v in keys.items())
        bodies.append(f'<tbody id="student-{esc(student)}" data-tags="{" ".join(_tags(view, student))}" {data}>'
                      f'<tr class="row">{"".join(cells)}</tr><tr class="detail" hidden><td colspan="{len(heads)}">'
                      "</td></tr></tbody>")
    late_option = (("late", "with a late submission"),) if view.dated else ()
    options = "".join(f'<option value="{v}">{label}</option>' for v, label in (
        ("all", "all students"), ("notfull", "not full marks"), ("full", "full marks"), ("timeout", "with a timeout"),
        ("error", "with a crash or error"), ("grader_error", "with a grader error"), ("other", "with another status"),
        ("missing", "with a missing submission"), *late_option, ("flagged", "with review flags")))
    return ('<section id="students"><h2>Students</h2><div class="controls"><label>Find <input id="filter" '
            'type="search" placeholder="student name" autocomplete="off"></label> <label>Show <select id="show">'
            f'{options}</select></label> <span id="shown" role="status">{len(bodies)} of {len(bodies)} students '
            'shown</span></div><p class="note">Click a column to sort, a name to see that student\'s tasks and '
            f'feedback.</p><table id="student-table"><thead><tr>{"".join(heads)}</tr></thead>{"".join(bodies)}'
            "</table></section>")


STYLE = """
:root{--ok:#2f7d32;--bad:#b26a00;--err:#c62828;--time:#8e24aa;--mute:#666;--line:#ddd}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:0 16px 48px;color:#222}
h1{margin:16px 0 4px}h2{border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;width:100%}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4}td.num{text-align:right;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:90px}
.card .v{font-size:20px;font-weight:600}.card .k{color:var(--mute)}
svg.hist{width:100%;max-width:620px}svg.hist rect.bar{fill:#4878a8}svg.hist rect.full{fill:var(--ok)}
svg.hist text{font-size:11px;text-anchor:middle;fill:#333}
svg.rate rect.track{fill:#eee}svg.rate rect.bar{fill:var(--ok)}
.st{border-radius:3px;padding:0 4px;font-size:12px;white-space:nowrap;border:1px solid currentColor}
.st.passed{color:var(--ok)}.st.failed{color:var(--bad)}.st.error,.st.grader_error,.st.other{color:var(--err)}
.st.timeout{color:var(--time)}.st.missing,.st.flags{color:var(--mute)}.st.late{color:var(--bad)}
.note{color:var(--mute);font-weight:normal;font-size:12px}.rule{font-weight:600}
li.group{margin:6px 0}li.group .n{font-weight:700;font-size:16px}li.group details{display:inline-block;margin-left:6px}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px}pre.out{background:#f7f7f7;padding:6px}
.controls{display:flex;gap:16px;align-items:center;flex-wrap:wrap}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
button.who{font:inherit;background:none;border:0;padding:0;color:#1a55a0;cursor:pointer;text-decoration:underline}
tr.detail>td{background:#fafafa;padding:8px 16px}
tbody:target tr.row{outline:2px solid #1a55a0}
"""

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("details").textContent);
  var table = document.getElementById("student-table");
  var filter = document.getElementById("filter"), show = document.getElementById("show");
  var shown = document.getElementById("shown");
  var bodies = Array.prototype.slice.call(table.tBodies);
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function row(cells, head) {
    var tr = el("tr");
    cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : el(head ? "th" : "td", c)); });
    return tr;
  }
  function status(s) {
    return el("span", s, "st " + (["passed", "failed", "error", "timeout", "grader_error"].indexOf(s) >= 0 ? s
                                                                                                   : "other"));
  }
  function detail(name) {
    var box = document.createDocumentFragment(), got = {};
    (data.students[name] || []).forEach(function (ex) { got[ex[0]] = ex; });
    data.exercises.forEach(function (id) {
      var ex = got[id], h = el("h4", id + ": ");
      box.appendChild(h);
      if (!ex) { h.appendChild(el("span", "missing", "st missing")); return; }
      h.appendChild(document.createTextNode(ex[1] + "/" + ex[2] + " points "));
      h.appendChild(el("span", "(" + ex[3] + ", " + ex[4] + " s)", "note"));
      if (ex[8]) {
        var late = ex[8][2];
        if (late) {
          h.appendChild(document.createTextNode(" "));
          h.appendChild(el("span", "late " + late, "st late"));
        }
        box.appendChild(el("p", "handed in " + ex[8][0] + ", deadline " + ex[8][1] + ": " +
                                (late ? late + " late (no points taken off)" : "on time"), "note dates"));
      }
      var t = el("table"), head = el("thead"), body = el("tbody");
      head.appendChild(row(["task", "points", "status", "devices", "feedback"], true));
      ex[6].forEach(function (task) {
        var fb = el("td");
        fb.appendChild(el("pre", data.texts[task[4]], "fb"));
        var tr = row([task[0], task[1] + "/" + task[2], el("td"), task[5], fb]);
        tr.className = "task";
        tr.children[1].className = "num";
        tr.children[2].appendChild(status(task[3]));
        body.appendChild(tr);
      });
      t.appendChild(head);
      t.appendChild(body);
      box.appendChild(t);
      if (ex[7].length) {
        var ul = el("ul", null, "flags");
        ex[7].forEach(function (f) {
          var li = el("li", f[0] + (f[1] === null ? "" : " (line " + f[1] + ")") + ": ");
          li.appendChild(el("code", data.texts[f[2]]));
          ul.appendChild(li);
        });
        box.appendChild(el("p", "Review flags:"));
        box.appendChild(ul);
      }
      if (data.texts[ex[5]].trim()) {
        var d = el("details");
        d.appendChild(el("summary", "what the code printed"));
        d.appendChild(el("pre", data.texts[ex[5]], "out"));
        box.appendChild(d);
      }
    });
    return box;
  }
  function apply() {
    var q = filter.value.trim().toLowerCase(), tag = show.value, n = 0;
    bodies.forEach(function (tb) {
      var ok = (!q || tb.getAttribute("data-k-name").toLowerCase().indexOf(q) >= 0) &&
               (tag === "all" || tb.getAttribute("data-tags").split(" ").indexOf(tag) >= 0);
      tb.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " of " + bodies.length + " students shown";
  }
  function open(tb, yes) {
    var tr = tb.querySelector("tr.detail"), cell = tr.firstElementChild;
    if (yes && !cell.hasChildNodes()) { cell.appendChild(detail(tb.getAttribute("data-k-name"))); }
    tr.hidden = !yes;
    tb.querySelector("button.who").setAttribute("aria-expanded", yes ? "true" : "false");
  }
  table.querySelectorAll("thead button").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode, key = "data-k-" + button.getAttribute("data-key");
      var numeric = button.getAttribute("data-type") === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      if (!th.hasAttribute("aria-sort") && numeric) { dir = -1; }
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      bodies.sort(function (a, b) {
        var x = a.getAttribute(key), y = b.getAttribute(key);
        var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return dir * c || a.getAttribute("data-k-name").localeCompare(b.getAttribute("data-k-name"));
      });
      bodies.forEach(function (tb) { table.appendChild(tb); });
    });
  });
  bodies.forEach(function (tb) {
    var button = tb.querySelector("button.who");
    button.addEventListener("click", function () {
      open(tb, button.getAttribute("aria-expanded") !== "true");
    });
  });
  function follow() {
    var id = decodeURIComponent(location.hash.slice(1));
    var tb = id && document.getElementById(id);
    if (tb && tb.parentNode === table) {
      filter.value = "";
      show.value = "all";
      apply();
      open(tb, true);
      tb.scrollIntoView();
    }
  }
  filter.addEventListener("input", apply);
  show.addEventListener("change", apply);
  window.addEventListener("hashchange", follow);
  apply();
  follow();
}());
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def class_report_html(reports: Mapping[str, Report], order: Iterable[str] = (), title: str = "") -> str:
    """The page for `OUT/report.html` (reports by student, in the order the table starts in)."""
    view = build_view(reports, order, title)
    csp = (f"default-src 'none'; script-src {_csp_hash(SCRIPT)}; style-src {_csp_hash(STYLE)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    heading = f"{esc(title)}: class report" if title else "Class report"
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{csp}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{heading}</title>'
            f'<style>{STYLE}</style></head><body><h1>{heading}</h1>'
            f'<p class="note">{len(view.reports)} students, {len(view.exercises)} exercises, written by grade batch '
            "(rebuild with <code>grade report OUT/</code>).</p>"
            '<nav><a href="#overview">overview</a> · <a href="#exercises">exercises</a> · <a href="#failures">'
            'common failures</a> · <a href="#attention">needs a look</a> · <a href="#students">students</a></nav>'
            f"{_overview(view)}{_exercises(view)}{_failures(view)}{_attention(view)}{_students(view)}"
            f"{_student_details(view)}"
            f"<script>{SCRIPT}</script></body></html>\n")

