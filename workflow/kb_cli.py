"""``ktmb kb``: ingest, list, search and remove knowledge-base documents.

Mounted by the main CLI as ``app.add_typer(kb_app, name="kb")``. Every command acts for a
principal: ``--user`` / ``--group`` (repeatable) or ``KTMB_USER`` / ``KTMB_GROUPS``. Errors are
raised as :mod:`workflow.domain.errors` types and written as one line, with their exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kb.search_mode import SearchMode
from workflow.command_env import handled
from workflow.console import say, warn
from workflow.domain.errors import ConfigError, NotFoundError, UserError
from workflow.domain.redaction import Redactor, load_or_create_key
from workflow.domain.settings import load_settings
from workflow.domain.threat_model import Phase

if TYPE_CHECKING:  # the database modules load when a command runs, not with the CLI
    from kb.retrieval import KnowledgeBase
    from kb.store import Principal

__all__ = ["kb_app"]

kb_app = typer.Typer(help="Knowledge base: ingest, list, search and remove documents.",
                     no_args_is_help=True)

UserOpt = Annotated[str | None, typer.Option(
    "--user", help="Act as this user (default: KTMB_USER).")]
GroupOpt = Annotated[list[str] | None, typer.Option(
    "--group", "-g", help="A group of the acting user; repeat for several (default: "
    "KTMB_GROUPS, comma-separated).")]


def _open(user: str | None, groups: list[str] | None) -> tuple[KnowledgeBase, Principal]:
    from kb.store import Principal
    from workflow.knowledge_base import open_knowledge_base

    settings = load_settings()
    principal = Principal.from_settings(settings, user=user, groups=groups)
    return open_knowledge_base(settings), principal


def _out(text: str) -> None:
    say(text, err=False)


def _readable(kb: KnowledgeBase, principal: Principal, collections: list[str] | None) -> None:
    """Refuse a collection the principal may not read (as if it did not exist).

    Raises:
        NotFoundError: a collection is not readable by the principal.
    """
    for name in collections or []:
        if kb.store.visible_collection(principal, name) is None:
            raise NotFoundError(f"no collection {name!r} is readable by you")


@kb_app.command("ingest")
@handled
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to ingest.")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="Target collection.")],
    user: UserOpt = None,
    group: GroupOpt = None,
) -> None:
    """Ingest Markdown, text, PDF, HTML or ktmb threat-model JSON files into a collection.

    You act for ``--group`` (or ``KTMB_GROUPS``); a new collection is readable by exactly those
    groups, an existing one must already be shared with one of them.
    """
    from kb.ingest import ingest_paths

    kb, principal = _open(user, group)
    kb.ensure_builtin()
    settings = load_settings()
    redactor = Redactor(key=load_or_create_key(settings.home, settings.redaction_key))
    report = ingest_paths(kb.store, principal, paths, collection=collection, redactor=redactor,
                          groups=principal.groups, embedder=kb.embedder,
                          embed_note=kb.embedder_note)
    if kb.embedder is None:
        warn(f"{kb.embedder_note}; chunks are stored without vectors and will be embedded on "
             "a later ingest", event="kb_stored_without_vectors")
    for item in report.files:
        if item.status == "error":
            say(f"error: {item.error}", event="kb_file_not_ingested", level="error",
                path=str(item.path))
        else:
            _out(f"{item.status:9} {item.path}  document={item.document} "
                 f"version={item.version} chunks={item.chunks}")
    ok = len(report.files) - len(report.failed)
    _out(f"{ok} of {len(report.files)} files ingested into {collection}")
    if report.failed:
        raise UserError(f"{len(report.failed)} of {len(report.files)} files could not be "
                        "ingested (see above)")


@kb_app.command("list")
@handled
def list_(
    collection: Annotated[str | None, typer.Option(
        "--collection", "-c", help="List this collection's documents.")] = None,
    user: UserOpt = None,
    group: GroupOpt = None,
) -> None:
    """List the collections you may read, or the documents of one collection."""
    kb, principal = _open(user, group)
    kb.ensure_builtin()
    if collection:
        for doc in kb.store.list_documents(principal, collection):
            _out(f"{doc.doc_key}  v{doc.version}  chunks={doc.chunks}  {doc.title}  "
                 f"({doc.source_path})")
        return
    for info in kb.store.list_collections(principal):
        readers = "everyone" if info.public else ",".join(info.read_groups)
        _out(f"{info.name}  readers={readers}  model={info.embedding_model}/{info.dimension}  "
             f"documents={info.documents}  chunks={info.chunks}"
             + (f"  unembedded={info.unembedded}" if info.unembedded else ""))


@kb_app.command("search")
@handled
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    collection: Annotated[list[str] | None, typer.Option(
        "--collection", "-c", help="Search only this collection; repeat for several.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Hits to show.")] = 5,
    mode: Annotated[SearchMode, typer.Option(
        "--mode", help="hybrid, vector or text.")] = SearchMode.HYBRID,
    phase: Annotated[Phase | None, typer.Option("--phase", help="Only passages for a phase.")]
    = None,
    framework: Annotated[str | None, typer.Option(
        "--framework", help="Only passages of a framework key (see kb/README.md).")] = None,
    user: UserOpt = None,
    group: GroupOpt = None,
) -> None:
    """Search the knowledge base; prints each hit's document, section, chunk id and text."""
    kb, principal = _open(user, group)
    _readable(kb, principal, collection)
    retriever = kb.retriever(principal, collections=collection)
    hits = retriever.search_mode(query, mode=mode, k=k, phase=phase, framework=framework)
    for note in retriever.notes:
        say(f"note: {note}", event="kb_search_note", note=note)
    if not hits:
        _out("no passages found")
        return
    for rank, hit in enumerate(hits, start=1):
        _out(f"[{rank}] {hit.collection}/{hit.document} v{hit.version} | {hit.section} | "
             f"chunk {hit.chunk_id} | score {hit.score:.4f}")
        _out(hit.text)
        _out("")


@kb_app.command("remove")
@handled
def remove(
    collection: Annotated[str, typer.Option("--collection", "-c", help="The collection.")],
    document: Annotated[str | None, typer.Option(
        "--document", "-d", help="Remove only this document (its key or source path).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm removing a whole collection.")]
    = False,
    user: UserOpt = None,
    group: GroupOpt = None,
) -> None:
    """Remove a document from a collection, or a whole collection (with ``--yes``)."""
    from kb.store import BUILTIN

    kb, principal = _open(user, group)
    if collection == BUILTIN:
        raise ConfigError("the built-in corpus cannot be removed")
    _readable(kb, principal, [collection])
    if kb.store.writable_collection(principal, collection) is None:
        raise NotFoundError(f"no collection {collection!r} is readable by you")
    with kb.store.writing(collection) as conn:
        if document is None:
            if not yes:
                raise ConfigError(f"removing the whole collection {collection!r} needs --yes")
            kb.store.delete_collection(conn, collection)
            _out(f"removed collection {collection}")
            return
        row = (kb.store.document_by_key(conn, collection, document)
               or kb.store.document_by_path(conn, collection, document)
               or kb.store.document_by_path(conn, collection, str(Path(document).resolve())))
        if row is None:
            raise NotFoundError(f"collection {collection!r} has no document {document!r}")
        kb.store.delete_document(conn, int(row["id"]))
        _out(f"removed document {row['doc_key']} from {collection}")
