"""Stub files: what the student starts from. Valid Python that scores 0."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from grader.course import CourseDir
from grader.schema import Case, Exercise, Task

VARIANT_HEADER = "# Variant for student: "
"""Starts the line of a rendered stub that names whose variant its questions are."""


def variant_named(source: str) -> str | None:
    """The student whose variant a file's header names, or None for the common questions."""
    for line in source.splitlines():
        if line.startswith(VARIANT_HEADER):
            return line.removeprefix(VARIANT_HEADER).strip() or None
    return None


def variant_mismatch(exercise: Exercise, ex_id: str, path: Path, source: str, student: str | None) -> str | None:
    """Why grading `source` as `student` would judge other questions than the file asks, or
    None. Only quizzes whose questions are drawn per student can mismatch."""
    if not any(t.kind == "answer" and t.cases[0].variant for t in exercise.tasks):
        return None
    named = variant_named(source)
    if named == student:
        return None
    if named is None:
        return (f"{path} holds the common questions, not {student}'s variant, so right answers would be marked "
                f"wrong: rename it (your answers stay in it) and run `grade render --student {student}` to get "
                f"your own questions, or grade this file without --student")
    if student is None:
        return (f"{path} holds the questions of {named}'s variant (see its line '{VARIANT_HEADER}{named}'): "
                f"grade it with `grade {ex_id} --student {named}`")
    return (f"{path} holds the questions of {named}'s variant, not {student}'s: grade it with "
            f"`grade {ex_id} --student {named}`, or rename it and run `grade render --student {student}` "
            f"for {student}'s questions")


def _docstring(text: str, indent: str) -> str:
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = body.splitlines()
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    inner = "\n".join((indent + line) if line.strip() else "" for line in lines)
    return f'{indent}"""{inner.lstrip()}\n{indent}"""\n'


def _format_value(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return " and ".join(str(tuple(v)) for v in value)
    if isinstance(value, list):
        return str(tuple(value))
    return str(value)


def question_text(task: Task, args: dict[str, Any]) -> str:
    """An answer task's question with its (possibly per-student) arguments filled in."""
    try:
        return task.doc.format(**{k: _format_value(v) for k, v in args.items()})
    except (KeyError, IndexError, ValueError):
        return task.doc


def _examples(task: Task, dtypes: dict[int, list[Any]] | None = None) -> str:
    """Visible cases as a REPL shows them: tensors as tensor(...) reprs, tuples as tuples, so
    that a student can paste the call and compare."""
    lines = []
    annotations = _annotations(task)
    for i, case in enumerate(task.cases):
        if case.hidden or case.expected is None or case.available is not None:
            continue  # a case that pretends devices exist cannot be pasted on this machine
        args = ", ".join(f"{k}={_example_arg(v, annotations.get(k))}" for k, v in case.args.items())
        result = _example_result(case, annotations.get("return"), (dtypes or {}).get(i))
        lines.append(f">>> {task.name}({args})\n{result}")
    return ("\n\nExamples:\n" + "\n".join(lines)) if lines else ""


def _annotations(task: Task) -> dict[str, str]:
    """Each parameter's annotation (and the return's, as 'return') as written in the signature."""
    fn = ast.parse(f"def f{task.signature}:\n    pass\n").body[0]
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    found = {p.arg: ast.unparse(p.annotation) for p in a.posonlyargs + a.args + a.kwonlyargs if p.annotation}
    if fn.returns is not None:
        found["return"] = ast.unparse(fn.returns)
    return found


def _named_dtypes(case: Case) -> list[str]:
    """The dtypes a case's arguments name (a tensor's dtype, a dtype argument)."""
    names = []
    for spec in case.args.values():
        data = spec.model_dump(exclude_defaults=True) if isinstance(spec, BaseModel) else spec
        if isinstance(data, dict) and isinstance(data.get("dtype"), str):
            names.append(data["dtype"])
        elif isinstance(data, dict) and isinstance(data.get("numpy"), list):  # NumPy's defaults: 64-bit
            names.append("float64" if _has_float(data["numpy"]) else "int64")
    return names


def _has_float(data: Any) -> bool:
    if isinstance(data, list):
        return any(_has_float(v) for v in data)
    return isinstance(data, float)


def _example_result(case: Case, returns: str | None, dtypes: list[Any] | None = None) -> str:
    """The expected result as the REPL prints it: a tensor for `-> torch.Tensor`, a tuple of
    tensors for `-> tuple`. The dtype is the reference solution's (`dtypes`, one per tensor),
    or else the one the inputs name, where they name one of its kind."""
    import torch

    from grader.values import dtype_of

    def as_tensor(value: Any, dtype: Any) -> str:
        try:
            t = torch.tensor(value)
        except (TypeError, ValueError, RuntimeError):
            return repr(value)
        kinds = {n for n in _named_dtypes(case)
                 if dtype_of(n).is_floating_point == t.is_floating_point() and dtype_of(n) != torch.bool}
        if isinstance(dtype, torch.dtype):
            t = t.to(dtype)
        elif len(kinds) == 1 and t.dtype != torch.bool:
            t = t.to(dtype_of(kinds.pop()))
        return repr(t)

    expected = case.expected
    if returns in ("torch.Tensor", "Tensor"):
        return as_tensor(expected, (dtypes or [None])[0])
    if returns == "tuple" and isinstance(expected, list):
        known = dtypes if dtypes and len(dtypes) == len(expected) else [None] * len(expected)
        items = [as_tensor(v, d) for v, d in zip(expected, known, strict=True)]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return repr(expected)


def _example_arg(spec: Any, annotation: str | None = None) -> str:
    data = spec.model_dump(exclude_defaults=True) if hasattr(spec, "model_dump") else spec
    if isinstance(data, dict) and "tensor" in data:
        dtype = f", dtype=torch.{data['dtype']}" if data.get("dtype") else ""
        grad = ", requires_grad=True" if data.get("requires_grad") else ""
        return f"torch.tensor({data['tensor']}{dtype}{grad})"
    if isinstance(data, dict) and isinstance(data.get("numpy"), list):
        dtype = f", dtype=np.{data['dtype']}" if data.get("dtype") else ""
        return f"np.array({data['numpy']}{dtype})"
    if isinstance(data, dict) and "dtype" in data:
        return f"torch.{data['dtype']}"
    if isinstance(data, dict) and "device" in data:
        return "'cpu'"
    if annotation == "tuple" and isinstance(data, list):
        return repr(tuple(data))
    return repr(data)


def render_stub(exercise: Exercise, answer_args: dict[str, dict[str, Any]] | None = None,
                student: str | None = None, dtypes: dict[str, dict[int, list[Any]]] | None = None) -> str:
    """The stub's source. `answer_args` gives each answer task's concrete arguments (variants)."""
    parts = [_docstring(f"{exercise.title}\n\n{exercise.text}", "")]
    if student:
        parts.append(f"{VARIANT_HEADER}{student}\n")
    parts.append("\n".join(exercise.imports) + "\n")
    for task in exercise.tasks:
        if task.kind == "function":
            doc = task.doc.strip() + _examples(task, (dtypes or {}).get(task.name))
            parts.append(f"\n\ndef {task.name}{task.signature}:\n{_docstring(doc, '    ')}"
                         f"    raise NotImplementedError(\"{task.name}: write your code here\")\n")
        else:
            args = (answer_args or {}).get(task.name) or _plain_args(task)
            question = "\n".join(f"# {line}".rstrip() for line in question_text(task, args).splitlines())
            help_line = f"  # {task.answer_help}" if task.answer_help else ""
            parts.append(f"\n{question}\n{task.name} = {task.placeholder}{help_line}\n")
    return "".join(parts)


def _plain_args(task: Task) -> dict[str, Any]:
    case = task.cases[0]
    return {k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in case.args.items()}


def stub_for(course: CourseDir, ex_id: str, student: str | None = None) -> str:
    exercise = course.exercise(ex_id)
    answer_args = None
    if student is not None and any(t.kind == "answer" and t.cases[0].variant for t in exercise.tasks):
        from grader.grading import GradeOptions, plan

        answer_args = {p.task.name: p.cases[0] for p in plan(course, ex_id, exercise, GradeOptions(student=student))
                       if p.task.kind == "answer"}
    return render_stub(exercise, answer_args, student, _result_dtypes(course, ex_id, exercise))


def _result_dtypes(course: CourseDir, ex_id: str, exercise: Exercise) -> dict[str, dict[int, list[Any]]]:
    """The dtypes of the reference's results on the examples shown in the stub (by task and
    case), so that they print as the REPL does; empty where there is no reference to run."""
    import torch

    from grader.errors import GraderError
    from grader.grading import GradeOptions, load_solution, plan, references

    shown = {t.name for t in exercise.tasks
             if t.kind == "function" and any(not c.hidden and c.expected is not None for c in t.cases)}
    if not shown or not course.solution_file(ex_id).is_file():
        return {}
    found: dict[str, dict[int, list[Any]]] = {}
    try:
        solution = load_solution(course, ex_id)
        for p in plan(course, ex_id, exercise, GradeOptions(devices=("cpu",))):
            if p.task.name not in shown:
                continue
            refs = references(solution, p, ex_id)
            found[p.task.name] = {
                i: [v.dtype for v in (ref.expected if isinstance(ref.expected, tuple) else (ref.expected,))
                    if isinstance(v, torch.Tensor)]
                for i, (case, ref) in enumerate(zip(p.task.cases, refs, strict=True))
                if not case.hidden and case.expected is not None}
    except GraderError:
        return {}  # a broken reference is grade check's to report; the stub still renders
    return found


def ensure_stub(course: CourseDir, ex_id: str, student: str | None = None) -> tuple[Path, bool]:
    """Write workspace/<id>.py if it is missing; never overwrite a student's file."""
    path = course.stub_file(ex_id)
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(stub_for(course, ex_id, student))
    except FileExistsError:
        return path, False
    return path, True


def whose_questions(course: CourseDir, ex_id: str, path: Path) -> str:
    """What an existing file holds, as `grade render` reports a file it kept: "" for an exercise
    without drawn questions, else "the common questions" or "<student>'s questions"."""
    exercise = course.exercise(ex_id)
    if not any(t.kind == "answer" and t.cases[0].variant for t in exercise.tasks):
        return ""
    try:
        named = variant_named(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ""
    return f"{named}'s questions" if named else "the common questions"


def render_all(course: CourseDir, out: Path, student: str | None = None, overwrite: bool = False,
               kept: list[Path] | None = None) -> list[Path]:
    """Write every stub into `out`; existing files are left alone (listed in `kept`) unless `overwrite`."""
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for ex_id in course.exercise_ids:
        path = out / f"{ex_id}.py"
        if path.exists() and not overwrite:
            if kept is not None:
                kept.append(path)
            continue
        path.write_text(stub_for(course, ex_id, student), encoding="utf-8")
        written.append(path)
    return written
