"""The public log: C2SP ``checkpoint`` and ``tile/...`` at the root, JSON views under
``/api/v1/log``, and ``/health``.

Everything here is public (the log holds only commitments); a leaf's event is shown only to
callers who may read it. The C2SP paths serve exactly what ``battrace log checkpoint`` and
``battrace log tile`` print, so ``battrace verify --remote URL`` audits a served log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from battrace.api.answers import ERROR_RESPONSES, documented, json_answer
from battrace.api.auth import current_caller
from battrace.api.context import ApiContext, context_of
from battrace.api.matrix import route_doc
from battrace.api.schemas import (
    CheckpointJson,
    ConsistencyProof,
    Health,
    InclusionProof,
    Leaf,
    VerifierKey,
)
from battrace.domain.access import Caller
from battrace.services import log as log_service
from battrace.services.access import may_read_event
from battrace.store.rows import Checkpoint

router = APIRouter()
CallerDep = Annotated[Caller, Depends(current_caller)]
# leaf indexes and tree sizes are stored as 64-bit integers
MAX_INDEX = 2**62
IMMUTABLE = "public, max-age=31536000, immutable"


def current_checkpoint(ctx: ApiContext) -> Checkpoint:
    """The latest checkpoint; one is published first (on the writer) if the log has grown."""
    with ctx.access.reading() as store:
        latest = store.latest_checkpoint()
        if latest is not None and latest.size == store.log_size():
            return latest
    with ctx.access.writing() as store:
        return log_service.current_checkpoint(store, ctx.settings.log_key_file)


@router.get(
    "/health",
    responses=documented(200, Health, "The service and its database answer"),
    tags=["service"],
    **route_doc("health"),
)
def health(request: Request, caller: CallerDep) -> Response:
    with context_of(request).access.reading() as store:
        data = {
            "status": "ok",
            "dialect": store.dialect,
            "schema_version": store.schema_version(),
            "log_size": store.log_size(),
        }
    return json_answer(data)


@router.get(
    "/checkpoint",
    responses={
        200: {
            "description": "The signed note (C2SP tlog-checkpoint in a signed-note)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **ERROR_RESPONSES,
    },
    tags=["log"],
    **route_doc(
        "checkpoint_note",
        "The C2SP checkpoint, exactly as `battrace log checkpoint` prints it; published"
        " first when the log has grown since the last one.",
    ),
)
def checkpoint_note(request: Request, caller: CallerDep) -> Response:
    found = current_checkpoint(context_of(request))
    return Response(
        found.note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get(
    "/tile/{path:path}",
    responses={
        200: {
            "description": "Tile or entry bundle bytes (c2sp.org/tlog-tiles)",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        **ERROR_RESPONSES,
    },
    tags=["log"],
    **route_doc(
        "tile",
        "`tile/<L>/<N>` (hash tile of tile level L), `tile/entries/<N>` (entry bundle), with"
        " `.p/<W>` for a partial tile of width W; N is path-encoded (`x001/234`). Full tiles"
        " never change and may be cached forever.",
    ),
)
def tile(
    request: Request,
    caller: CallerDep,
    path: Annotated[str, Path(description="e.g. 0/x001/234, entries/000.p/7")],
) -> Response:
    with context_of(request).access.reading() as store:
        data = log_service.tile(store, "tile/" + path)
    cache = "no-cache" if ".p/" in path else IMMUTABLE
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get(
    "/api/v1/log/checkpoint",
    responses=documented(200, CheckpointJson, "The latest checkpoint"),
    tags=["log"],
    **route_doc("log_checkpoint", "Same as `battrace log checkpoint --json`."),
)
def log_checkpoint(request: Request, caller: CallerDep) -> Response:
    found = current_checkpoint(context_of(request))
    return json_answer({"size": found.size, "root": found.root.hex(), "note": found.note})


@router.get(
    "/api/v1/log/key",
    responses=documented(200, VerifierKey, "The verifier key"),
    tags=["log"],
    **route_doc("log_key", "Same as `battrace log key --json`."),
)
def log_key(request: Request, caller: CallerDep) -> Response:
    ctx = context_of(request)
    with ctx.access.reading() as store:
        key = log_service.log_verifier_key(store, ctx.settings.log_key_file)
    return json_answer({"verifier_key": key})


@router.get(
    "/api/v1/log/leaves/{index}",
    responses=documented(200, Leaf, "The leaf"),
    tags=["log"],
    **route_doc(
        "log_leaf",
        "`{index, leaf, event}` as `battrace log leaf --json`; `event` is null for callers"
        " who may not read it (the leaf itself is public).",
    ),
)
def log_leaf(
    request: Request,
    caller: CallerDep,
    index: Annotated[int, Path(ge=0, le=MAX_INDEX)],
) -> Response:
    with context_of(request).access.reading() as store:
        data = log_service.leaf(store, index)
        row = store.event(index + 1)
        if row is None or not may_read_event(store, caller, row):
            data["event"] = None
    return json_answer(data)


@router.get(
    "/api/v1/log/proofs/inclusion",
    responses=documented(200, InclusionProof, "The proof"),
    tags=["log"],
    **route_doc(
        "log_inclusion",
        "Inclusion proof of leaf `index` in the tree of `size` (default: the latest"
        " checkpoint), as `battrace log proof inclusion --json`.",
    ),
)
def log_inclusion(
    request: Request,
    caller: CallerDep,
    index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    size: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
) -> Response:
    with context_of(request).access.reading() as store:
        return json_answer(log_service.inclusion(store, index, size))


@router.get(
    "/api/v1/log/proofs/consistency",
    responses=documented(200, ConsistencyProof, "The proof"),
    tags=["log"],
    **route_doc(
        "log_consistency",
        "Consistency proof between two tree sizes, as `battrace log proof consistency --json`.",
    ),
)
def log_consistency(
    request: Request,
    caller: CallerDep,
    old_size: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    new_size: Annotated[int, Query(ge=0, le=MAX_INDEX)],
) -> Response:
    with context_of(request).access.reading() as store:
        return json_answer(log_service.consistency(store, old_size, new_size))


__all__ = ["current_checkpoint", "router"]
