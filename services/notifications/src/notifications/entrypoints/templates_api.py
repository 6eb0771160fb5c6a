"""/v1/templates: sandboxed message templates per language, refused when they reach outside their variables."""

from __future__ import annotations

from typing import Any

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, cut, id_key
from conveyor_kit.problems import Problem, not_found
from fastapi import APIRouter
from pydantic import BaseModel, Field

from notifications.adapters import templates_repo
from notifications.domain.templates import TemplateRefused, check_variants, render
from notifications.entrypoints.deps import CtxDep
from notifications.entrypoints.templates_models import MessageTemplate, RenderedTemplate

router = APIRouter(prefix="/v1/templates", tags=["templates"], responses=problem_responses(403, 404))


class Variant(BaseModel):
    subject: str = Field(min_length=1, max_length=2000)
    text: str = Field(min_length=1, max_length=100_000)
    html: str | None = Field(default=None, max_length=200_000)


class MessageTemplateBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    variables: list[str] = Field(default_factory=list, max_length=200)
    variants: dict[str, Variant] = Field(min_length=1)


class TemplatePreview(BaseModel):
    language: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)


def _refused(error: TemplateRefused) -> Problem:
    return Problem(422, "Template refused", str(error), slug="template-refused")


@router.put("/{template_id}", response_model=MessageTemplate)
async def save_template(template_id: str, body: MessageTemplateBody, ctx: CtxDep) -> dict[str, Any]:
    """Create or replace a template; one that uses names it was not given, or calls anything, is refused."""
    ctx.require_admin()
    variants = {lang: v.model_dump() for lang, v in body.variants.items()}
    try:
        check_variants(variants, set(body.variables))
    except TemplateRefused as error:
        raise _refused(error) from None
    async with ctx.pool.acquire() as conn:
        return await templates_repo.save(
            conn, ctx.tenant_id, template_id, body.name, body.variables, variants, ctx.now()
        )


@router.get("", response_model=Page[MessageTemplate])
async def list_templates(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The tenant's templates, by id."""
    async with ctx.pool.acquire() as conn:
        rows = await templates_repo.page(conn, ctx.tenant_id, after=id_key(cursor), limit=limit + 1)
    items, next_cursor = cut(rows, limit, lambda t: [t["id"]])
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{template_id}", response_model=MessageTemplate)
async def get_template(template_id: str, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        found = await templates_repo.load(conn, ctx.tenant_id, template_id)
    if found is None:
        raise not_found(f"template {template_id}")
    return found


@router.post("/{template_id}/preview", response_model=RenderedTemplate)
async def preview(template_id: str, body: TemplatePreview, ctx: CtxDep) -> dict[str, Any]:
    """Render the template with sample variables, in a language (falls back to English)."""
    async with ctx.pool.acquire() as conn:
        found = await templates_repo.load(conn, ctx.tenant_id, template_id)
    if found is None:
        raise not_found(f"template {template_id}")
    try:
        rendered = render(found["variants"], body.language, body.variables)
    except TemplateRefused as error:
        raise _refused(error) from None
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
