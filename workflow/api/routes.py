"""The JSON endpoints of the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from kb.store import KnowledgeStore
from kb.store import Principal as KbPrincipal
from workflow.api.deps import CurrentPrincipal, Service, WritingPrincipal, authenticator
from workflow.api.models import (
    ApproveRequest,
    CollectionView,
    ErrorBody,
    Me,
    PendingPhase,
    RejectRequest,
    RunAccepted,
    RunDetail,
    RunSummary,
    StartFromPaths,
    TriageRecorded,
    TriageRequest,
)
from workflow.api.run_inputs import Upload
from workflow.api.service import StartOptions
from workflow.api.unique_keys import UniqueKeysRoute
from workflow.domain.run import RunStatus
from workflow.domain.triage import TriageDecision

__all__ = ["EXPORT_CSP", "router"]

#: Content-Security-Policy of served exports: nothing runs, nothing loads, nothing frames it.
EXPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'self'; sandbox")

ExportFormat = Literal["json", "sarif", "junit", "markdown", "html", "mermaid", "otm",
                       "graph-json", "graphml"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in {
        400: "Bad request (invalid input or option).",
        401: "Not authenticated.",
        403: "Not allowed (path outside KTMB_SERVER_PATHS, cross-origin, CSRF).",
        404: "No such run (or not visible to you).",
        409: "The run is not in a state that allows the request.",
        413: "The request body is over its cap (uploads: KTMB_MAX_REQUEST_BYTES; JSON: 1 MiB).",
        422: "Malformed request or decision (the run stays where it was).",
        503: "The database is unavailable.",
    }.items()}

router = APIRouter(responses=_ERRORS, route_class=UniqueKeysRoute)


def _groups(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [] if text.strip().lower() == "none" else text.split(",")


@router.get("/health", tags=["service"], summary="Liveness (no authentication)")
async def health() -> dict[str, str]:
    """Whether the service answers."""
    return {"status": "ok"}


@router.get("/me", response_model=Me, tags=["service"], summary="Who you are")
async def me(request: Request, principal: CurrentPrincipal) -> Me:
    """The authenticated reviewer, their groups and their CSRF token."""
    return Me(user=principal.user, groups=list(principal.groups), via=principal.via,
              csrf_token=authenticator(request).csrf_token(principal))


@router.get("/runs", response_model=list[RunSummary], tags=["runs"],
            summary="List runs you may see")
def list_runs(svc: Service, principal: CurrentPrincipal,
              application: Annotated[str | None, Query(max_length=200)] = None,
              status: RunStatus | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[RunSummary]:
    """Runs visible to you, newest first, optionally of one application or status."""
    return svc.list_runs(principal, application=application, status=status, limit=limit)


@router.post("/runs", status_code=202, response_model=RunAccepted, tags=["runs"],
             summary="Start a run on uploaded manifests")
def start_upload(
    svc: Service, principal: WritingPrincipal,
    manifests: Annotated[list[UploadFile], File(
        description="Manifest files (YAML or JSON; multi-document, List, Helm output).")],
    architecture: Annotated[list[UploadFile] | None, File(
        description="Architecture or security-review notes (Markdown or text).")] = None,
    profile: Annotated[UploadFile | None, File(
        description="The application profile (ktmb.yaml).")] = None,
    suppressions: Annotated[UploadFile | None, File(
        description="The suppressions file (ktmb-suppressions.yaml).")] = None,
    baseline: Annotated[str | None, Form(max_length=200, description=(
        "A completed run to compare with, or 'none' (default: the application's latest "
        "completed run)."))] = None,
    application: Annotated[str | None, Form(max_length=200)] = None,
    approval: Annotated[str, Form(max_length=500, description=(
        "Phases that need approval: none, each, or a comma-separated list."))] = "none",
    llm: Annotated[Literal["off", "ollama", "llamacpp"], Form()] = "off",
    model: Annotated[str | None, Form(max_length=500)] = None,
    cloud: Annotated[str | None, Form(max_length=50)] = None,
    classification: Annotated[str | None, Form(max_length=100)] = None,
    owner_groups: Annotated[str | None, Form(max_length=5000, description=(
        "Comma-separated groups that may see the run (default: all of yours; 'none': "
        "every reviewer)."))] = None,
) -> RunAccepted:
    """Upload manifests and start a run; the phases run in the background (poll the status)."""
    options = StartOptions(
        application=application or None, approval=approval, llm=llm, model=model or None,
        cloud=cloud or None, classification=classification or None,
        owner_groups=_groups(owner_groups), baseline=baseline or None)
    return svc.start_upload(
        principal, [Upload(f.filename, f.file) for f in manifests],
        [Upload(f.filename, f.file) for f in architecture or []], options,
        profile=Upload(profile.filename, profile.file) if profile else None,
        suppressions=Upload(suppressions.filename, suppressions.file) if suppressions else None)


@router.post("/runs/from-path", status_code=202, response_model=RunAccepted, tags=["runs"],
             summary="Start a run on server-side manifests")
def start_from_path(svc: Service, principal: WritingPrincipal,
                    body: StartFromPaths) -> RunAccepted:
    """Start a run on files inside ``KTMB_SERVER_PATHS`` (any other path: 403)."""
    options = StartOptions(application=body.application, approval=body.approval, llm=body.llm,
                         model=body.model, cloud=body.cloud, classification=body.classification,
                         owner_groups=body.owner_groups, baseline=body.baseline)
    return svc.start_paths(principal, body.paths, body.architecture, options,
                           profile=body.profile, suppressions=body.suppressions)


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["runs"],
            summary="Status of a run, phase by phase")
def run_status(run_id: str, svc: Service, principal: CurrentPrincipal) -> RunDetail:
    """Where the run stands: status, phases, approvals."""
    return svc.status(run_id, principal)


@router.get("/runs/{run_id}/pending", response_model=PendingPhase, tags=["review"],
            summary="The phase waiting for approval, with its findings")
def pending(run_id: str, svc: Service, principal: CurrentPrincipal) -> PendingPhase:
    """The pending phase's findings with evidence and citations (409 when none is pending)."""
    return svc.pending(run_id, principal)


@router.post("/runs/{run_id}/approve", status_code=202, response_model=RunAccepted,
             tags=["review"], summary="Approve the pending phase, optionally with edits")
def approve(run_id: str, body: ApproveRequest, svc: Service,
            principal: WritingPrincipal) -> RunAccepted:
    """Approve (and edit) the pending phase; the run continues in the background.

    Edits are validated like ``ktmb approve --edits``: a malformed decision answers 422 and the
    run stays where it was.
    """
    return svc.approve(run_id, principal, comment=body.comment, edits=body.edits)


@router.post("/runs/{run_id}/reject", status_code=202, response_model=RunAccepted,
             tags=["review"], summary="Reject the pending phase")
def reject(run_id: str, body: RejectRequest, svc: Service,
           principal: WritingPrincipal) -> RunAccepted:
    """Reject the pending phase: the run stops as rejected (rerun it with the CLI)."""
    return svc.reject(run_id, principal, reason=body.reason)


@router.post("/runs/{run_id}/triage", response_model=TriageRecorded, tags=["review"],
             summary="Triage a run's findings for the application's next runs")
def triage(run_id: str, body: TriageRequest, svc: Service,
           principal: WritingPrincipal) -> TriageRecorded:
    """Store decisions on the run's findings for the application's next runs.

    False positive, accepted risk (with owner, reason and expiry), mitigated, severity, note:
    later runs of the application re-apply them while each finding's evidence is unchanged.
    """
    recorded = svc.record_triage(run_id, principal, body.edits)
    return TriageRecorded(run_id=run_id, application=svc.runs.info(run_id).application,
                          recorded=recorded)


@router.get("/applications/{application}/triage", response_model=list[TriageDecision],
            tags=["review"], summary="An application's stored triage decisions")
def triage_of(application: str, svc: Service,
              principal: CurrentPrincipal) -> list[TriageDecision]:
    """The decisions in force, one per finding (404 unless you may see a run of it)."""
    return svc.triage_of(application, principal)


@router.get("/runs/{run_id}/export", tags=["exports"], summary="Export the threat model",
            response_class=Response,
            responses={200: {"content": {"application/json": {}, "application/sarif+json": {},
                                         "text/markdown": {}, "text/html": {},
                                         "text/plain": {}},
                             "description": "The document."}})
def export_run(run_id: str, svc: Service, principal: CurrentPrincipal,
               fmt: Annotated[ExportFormat, Query(alias="format")] = "json",
               download: bool = False) -> Response:
    """The run's threat model as JSON, SARIF 2.1.0, Markdown, HTML, Mermaid or OTM.

    An unfinished run exports as a partial model, marked as such.
    """
    doc = svc.export(run_id, principal, fmt)
    disposition = "attachment" if download else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{doc.filename}"'}
    if fmt == "html":
        headers["Content-Security-Policy"] = EXPORT_CSP
    return Response(content=doc.text, media_type=doc.media_type, headers=headers)


@router.get("/diff", tags=["exports"], summary="Diff two runs' threat models")
def diff(svc: Service, principal: CurrentPrincipal,
         old: Annotated[str, Query(max_length=200, description="The earlier run.")],
         new: Annotated[str, Query(max_length=200, description="The later run.")],
         ) -> dict[str, Any]:
    """New, changed, unchanged and resolved findings between two runs (by fingerprint)."""
    return svc.diff(old, new, principal)


@router.get("/kb/collections", response_model=list[CollectionView], tags=["knowledge base"],
            summary="Knowledge-base collections you may read")
def collections(svc: Service, principal: CurrentPrincipal) -> list[CollectionView]:
    """The collections your groups may read (row-level security acts as you)."""
    store = KnowledgeStore(svc.runs.db)
    found = store.list_collections(KbPrincipal.of(principal.user, principal.groups))
    return [CollectionView(name=c.name, embedding_model=c.embedding_model,
                           dimension=c.dimension, public=c.public,
                           read_groups=list(c.read_groups)) for c in found]
