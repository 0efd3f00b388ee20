"""The web UI: server-rendered pages (Jinja2, autoescaped) and one small script, no build step.

Every value that comes from a manifest, a notes file or a reviewer is escaped by the template
engine; the one piece of markup inserted as is, the architecture diagram, is an SVG that
:func:`workflow.exports.html.architecture_svg` builds with every text escaped. Pages are served
with a Content-Security-Policy that allows only this app's own script and styles. Form posts
carry the session's CSRF token and are refused from other origins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from workflow import __version__
from workflow.api.auth import SESSION_COOKIE, Principal
from workflow.api.deps import (
    authenticate,
    authenticator,
    check_origin,
    optional_principal,
    service,
)
from workflow.api.run_inputs import Upload
from workflow.api.service import StartOptions, parse_edits
from workflow.domain.errors import DecisionError, KtmbError, RunStateError
from workflow.domain.run import RunStatus
from workflow.domain.threat_model import PHASES, FindingStatus, Severity, ThreatModel
from workflow.exports.attack_svg import filter_paths, graph_svg, path_svg
from workflow.exports.html import architecture_svg

__all__ = ["mount_ui", "render_error"]

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_env = Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   trim_blocks=True, lstrip_blocks=True)


def _render(request: Request, template: str, status: int = 200,
            principal: Principal | None = None, **context: Any) -> HTMLResponse:
    csrf = authenticator(request).csrf_token(principal) if principal else ""
    html = _env.get_template(template).render(
        principal=principal, csrf=csrf, version=__version__, path=request.url.path,
        phases=[p.value for p in PHASES], severities=[s.value for s in Severity],
        statuses=[s.value for s in FindingStatus],
        today=datetime.now(UTC).date().isoformat(), **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def render_error(request: Request, status: int, kind: str, detail: str) -> Response:
    """An error page (what the JSON API answers as ``{error, detail}``)."""
    try:
        principal = optional_principal(request)
    except Exception:
        principal = None
    return _render(request, "error.html", status=status, principal=principal, kind=kind,
                   detail=detail, status_code=status)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?next={quote(request.url.path)}", status_code=303)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/ui") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


def _check_form(request: Request, principal: Principal, form: FormData) -> None:
    """Origin and CSRF checks of a form post.

    Raises:
        HTTPException: 403 when either fails.
    """
    check_origin(request)
    value = form.get("csrf")
    if not authenticator(request).csrf_ok(principal, [value if isinstance(value, str) else None]):
        raise HTTPException(status_code=403, detail="the form is stale or forged (CSRF token); "
                                                    "reload the page and try again")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _edits_from_form(form: FormData) -> list[dict[str, Any]]:
    """The per-finding edit controls as the ``edits`` list of a PhaseEdits.

    An acceptance's owner, reason and expiry have their own fields; a removal's note is its
    reason when no reason is given.
    """
    edits = []
    index = 0
    while f"f{index}_id" in form:
        fid = _text(form, f"f{index}_id")
        edit: dict[str, Any] = {"id": fid}
        remove = bool(_text(form, f"f{index}_remove"))
        if remove:
            edit["remove"] = True
        for field in ("severity", "status", "owner", "reason", "expires", "note"):
            value = _text(form, f"f{index}_{field}")
            if not value:
                continue
            if remove and field == "note" and "reason" not in edit:
                edit["reason"] = value  # a removal's note is its reason
            elif not (remove and field == "note"):
                edit[field] = value
        if len(edit) > 1:
            edits.append(edit)
        index += 1
    return edits


def _diagram(model: ThreatModel) -> Markup | None:
    if not model.architecture.components and not model.architecture.entry_points:
        return None
    return Markup(architecture_svg(model.architecture))  # noqa: S704 - escaped by the exporter


def _attack_view(model: ThreatModel, origin: str, target: str) -> dict[str, Any]:
    """The report's attack-path section: the drawings, filtered by origin and target."""
    kinds = {v.id: v.kind for v in model.attack_graph.vertices}
    paths = filter_paths(model, origin or None, target or None)
    return {  # the drawings escape every text themselves
        "attack_graph": Markup(graph_svg(model, origin or None, target or None)),  # noqa: S704
        "attack_paths": [(p, Markup(path_svg(p, kinds))) for p in paths],  # noqa: S704
        "path_origins": sorted({p.origin for p in model.attack_paths}),
        "path_from": origin, "path_to": target}


def mount_ui(app: FastAPI) -> None:  # noqa: C901 - one route per page, wired here
    """Add the web UI routes and static files to ``app``."""
    app.mount("/ui/static", StaticFiles(directory=str(WEB_DIR / "static")), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/ui/login", include_in_schema=False)
    def login_form(request: Request, next: str | None = None) -> Response:
        auth = authenticator(request)
        try:
            principal = optional_principal(request)
        except HTTPException:  # an ended session: this is where to start a new one
            principal = None
        return _render(request, "login.html", principal=principal,
                       next=_safe_next(next), header_mode=bool(auth.api.trusted_header_user),
                       token_mode=auth.tokens is not None, error=None)

    @app.post("/ui/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        check_origin(request)
        form = await request.form()
        token = _text(form, "token")
        target = _safe_next(_text(form, "next"))
        auth = authenticator(request)
        opened = await run_in_threadpool(auth.login, token) if token else None
        if opened is None:
            return _render(request, "login.html", status=401, principal=None, next=target,
                           header_mode=bool(auth.api.trusted_header_user),
                           token_mode=auth.tokens is not None,
                           error="That token is not valid.")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, opened[1], max_age=int(auth.api.session_hours * 3600), path="/",
            httponly=True, samesite="strict",
            secure=auth.api.cookie_secure or request.url.scheme == "https")
        return response

    @app.post("/ui/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        try:
            principal = await authenticate(request)
        except HTTPException:  # the session has already ended: only the cookie is left
            principal = None
        form = await request.form()
        if principal is not None:
            _check_form(request, principal, form)
            cookie = request.cookies.get(SESSION_COOKIE)
            if principal.via == "cookie" and cookie:
                await run_in_threadpool(authenticator(request).logout, cookie)
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.get("/ui/", include_in_schema=False)
    def runs_page(request: Request, application: str | None = None,
                  status: str | None = None) -> Response:
        principal = optional_principal(request)
        if principal is None:
            return _login_redirect(request)
        svc = service(request)
        wanted = RunStatus(status) if status in set(RunStatus) else None
        runs = svc.list_runs(principal, application=application or None, status=wanted,
                             limit=200)
        return _render(request, "runs.html", principal=principal, runs=runs,
                       application=application or "", wanted_status=wanted or "",
                       run_statuses=list(RunStatus))

    @app.post("/ui/runs", include_in_schema=False)
    async def start_run(request: Request) -> Response:
        principal = await authenticate(request)
        if principal is None:
            return _login_redirect(request)
        form = await request.form(max_files=500)
        _check_form(request, principal, form)
        manifests = [f for f in form.getlist("manifests")
                     if isinstance(f, UploadFile) and f.filename]
        notes = [f for f in form.getlist("architecture")
                 if isinstance(f, UploadFile) and f.filename]
        sides = {name: next((f for f in form.getlist(name)
                             if isinstance(f, UploadFile) and f.filename), None)
                 for name in ("profile", "suppressions")}
        options = StartOptions(application=_text(form, "application") or None,
                             approval=_text(form, "approval") or "none",
                             baseline=_text(form, "baseline") or None)
        accepted = await run_in_threadpool(
            service(request).start_upload, principal,
            [Upload(f.filename, f.file) for f in manifests],
            [Upload(f.filename, f.file) for f in notes], options,
            profile=Upload(p.filename, p.file) if (p := sides["profile"]) else None,
            suppressions=Upload(u.filename, u.file) if (u := sides["suppressions"]) else None)
        return RedirectResponse(f"/ui/runs/{quote(accepted.run_id)}", status_code=303)

    @app.get("/ui/runs/{run_id}", include_in_schema=False)
    def run_page(request: Request, run_id: str) -> Response:
        principal = optional_principal(request)
        if principal is None:
            return _login_redirect(request)
        return _run_page(request, principal, run_id)

    @app.post("/ui/runs/{run_id}/approve", include_in_schema=False)
    async def approve(request: Request, run_id: str) -> Response:
        principal = await authenticate(request)
        if principal is None:
            return _login_redirect(request)
        form = await request.form()
        _check_form(request, principal, form)
        try:
            edits = parse_edits(_edits_from_form(form) or None)
            await run_in_threadpool(service(request).approve, run_id, principal,
                                    comment=_text(form, "comment"), edits=edits)
        except (DecisionError, RunStateError) as exc:
            return await run_in_threadpool(_run_page, request, principal, run_id,
                                           str(exc), exc.http_status)
        return RedirectResponse(f"/ui/runs/{quote(run_id)}", status_code=303)

    @app.post("/ui/runs/{run_id}/reject", include_in_schema=False)
    async def reject(request: Request, run_id: str) -> Response:
        principal = await authenticate(request)
        if principal is None:
            return _login_redirect(request)
        form = await request.form()
        _check_form(request, principal, form)
        try:
            await run_in_threadpool(service(request).reject, run_id, principal,
                                    reason=_text(form, "reason"))
        except (DecisionError, RunStateError) as exc:
            return await run_in_threadpool(_run_page, request, principal, run_id,
                                           str(exc), exc.http_status)
        return RedirectResponse(f"/ui/runs/{quote(run_id)}", status_code=303)

    @app.get("/ui/runs/{run_id}/report", include_in_schema=False)
    def report_page(request: Request, run_id: str, triaged: int | None = None,
                    origin: Annotated[str, Query(alias="from", max_length=500)] = "",
                    target: Annotated[str, Query(alias="to", max_length=20)] = "") -> Response:
        principal = optional_principal(request)
        if principal is None:
            return _login_redirect(request)
        return _report_page(request, principal, run_id, triaged=triaged, origin=origin,
                            target=target)

    @app.post("/ui/runs/{run_id}/triage", include_in_schema=False)
    async def triage(request: Request, run_id: str) -> Response:
        principal = await authenticate(request)
        if principal is None:
            return _login_redirect(request)
        form = await request.form()
        _check_form(request, principal, form)
        try:
            edits = parse_edits(_edits_from_form(form))
            if edits is None:
                raise DecisionError("choose a status or severity, or write a note")
            count = await run_in_threadpool(service(request).record_triage, run_id, principal,
                                            edits)
        except DecisionError as exc:
            return await run_in_threadpool(_report_page, request, principal, run_id,
                                           str(exc), exc.http_status)
        return RedirectResponse(f"/ui/runs/{quote(run_id)}/report?triaged={count}",
                                status_code=303)

    @app.get("/ui/diff", include_in_schema=False)
    def diff_page(request: Request, old: str = "", new: str = "") -> Response:
        principal = optional_principal(request)
        if principal is None:
            return _login_redirect(request)
        svc = service(request)
        runs = svc.list_runs(principal, status=RunStatus.COMPLETED, limit=200)
        if new and not old:  # compare with what the run was compared with, or its predecessor
            model = svc.threat_model(new, principal)
            later = svc.status(new, principal)
            earlier = [r.run_id for r in runs if r.application == later.application
                       and r.created_at < later.created_at]
            old = model.baseline.run_id if model.baseline else (earlier[0] if earlier else "")
        result = svc.diff(old, new, principal) if old and new else None
        return _render(request, "diff.html", principal=principal, old=old, new=new,
                       result=result, runs=runs)


def _report_page(request: Request, principal: Principal, run_id: str,
                 error: str | None = None, status_code: int = 200,
                 triaged: int | None = None, origin: str = "", target: str = "") -> Response:
    svc = service(request)
    status = svc.status(run_id, principal)
    model = svc.threat_model(run_id, principal)
    by_phase = {p.value: [f for f in model.findings if f.phase == p] for p in PHASES}
    return _render(request, "report.html", status=status_code, principal=principal, run=status,
                   model=model, diagram=_diagram(model), by_phase=by_phase, error=error,
                   triaged=triaged, **_attack_view(model, origin, target))


def _run_page(request: Request, principal: Principal, run_id: str, error: str | None = None,
              status_code: int = 200) -> Response:
    svc = service(request)
    status = svc.status(run_id, principal)
    pending = None
    if status.status is RunStatus.AWAITING_APPROVAL and not status.busy:
        try:
            pending = svc.pending(run_id, principal)
        except KtmbError:
            pending = None
    return _render(request, "run.html", status=status_code, principal=principal, run=status,
                   pending=pending, error=error)
