"""SQL lives in ``.sql`` files of named queries, never inline in the Python of ktmb.

A static scan (AST, nothing imported) of every module under ``workflow/``, ``agents/`` and
``kb/``: no string literal that starts like a SQL statement is passed to ``execute`` (or
``executemany``, ``copy``, procrastinate's ``execute_query*``), and no such literal is kept
anywhere else in the code either (a module constant of SQL is inline SQL too). f-strings count as
literals. Identifiers that cannot be parameters are composed with ``psycopg.sql`` around a
template that comes from a ``.sql`` file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("workflow", "agents", "kb")
#: What a SQL statement starts with (upper case, as the project writes SQL).
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|WITH|DROP|TRUNCATE)\b")
EXECUTORS = frozenset({"execute", "executemany", "copy", "execute_query", "execute_query_one",
                       "execute_query_all", "execute_query_async", "execute_query_one_async",
                       "execute_query_all_async"})


def _literal_text(node: ast.expr) -> str | None:
    """The leading text of a string literal, f-string, concatenation or ``%``/``format`` of one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _literal_text(node.left)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return _literal_text(node.func.value)
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.add(id(body[0].value))
    return found


def inline_sql(source: str, name: str = "<source>") -> list[str]:
    """Where ``source`` holds inline SQL: ``name:line: what``."""
    tree = ast.parse(source, filename=name)
    problems: list[str] = []
    seen: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in EXECUTORS):
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "query")]
            for arg in args:
                text = _literal_text(arg)
                if text is not None and SQL_START.match(text):
                    problems.append(f"{name}:{arg.lineno}: SQL literal passed to "
                                    f"{node.func.attr}()")
                    seen.update(id(n) for n in ast.walk(arg))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if id(node) in seen or id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant | ast.JoinedStr):
            text = _literal_text(node)
            if text is not None and SQL_START.match(text):
                problems.append(f"{name}:{node.lineno}: SQL statement in a string literal")
                seen.update(id(n) for n in ast.walk(node))
    return problems


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def test_the_scan_covers_the_packages() -> None:
    """The scan sees the modules that used to hold inline SQL."""
    names = {p.relative_to(REPO).as_posix() for p in _modules()}
    assert {"workflow/db.py", "workflow/queue.py", "workflow/doctor.py", "workflow/run_store.py",
            "agents/llm_cache.py", "kb/store.py"} <= names


@pytest.mark.parametrize("source", [
    'conn.execute("SELECT 1")',
    'await conn.execute("SELECT pg_try_advisory_lock(%s)", (1,))',
    'cur.executemany("INSERT INTO t VALUES (%s)", rows)',
    'conn.execute("""\n  CREATE TABLE IF NOT EXISTS t (id int)""")',
    'conn.execute(f"DELETE FROM {table}")',
    'conn.execute("UPDATE t SET a = 1 " "WHERE b = 2")',
    'conn.execute("WITH x AS (SELECT 1) " + "SELECT * FROM x")',
    'conn.execute(query="ALTER TABLE t ADD COLUMN c int")',
    '_SQL = """\nSELECT r.run_id FROM runs r\n"""',
    'QUERIES = {"count": "SELECT count(*) FROM llm_cache"}',
])
def test_the_scan_finds_inline_sql(source: str) -> None:
    """Literals, f-strings, concatenations, keyword queries and SQL constants are all caught."""
    assert inline_sql(source)


@pytest.mark.parametrize("source", [
    'conn.execute(_Q["get_run"], {"run_id": run_id})',
    'def f():\n    """Select the runs and update nothing."""\n',
    'raise StoreError("cannot set up the job queue schema")',
    'log.info("Select a model")',
])
def test_the_scan_allows_named_queries_and_prose(source: str) -> None:
    """Named queries, docstrings and ordinary messages are not SQL."""
    assert [] == inline_sql(source)


def test_no_inline_sql_in_workflow_agents_and_kb() -> None:
    """Every statement comes from a ``.sql`` file (``workflow.domain.named_queries``)."""
    problems = [problem for path in _modules()
                for problem in inline_sql(path.read_text(encoding="utf-8"),
                                          path.relative_to(REPO).as_posix())]
    assert [] == problems
