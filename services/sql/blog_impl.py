"""The blog domain over the shared `pages` table."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Page
from services.contracts.dtos import PageDTO

# What can be a slug (the column is 128 wide); control characters, a NUL above all, cannot, and
# PostgreSQL would refuse the query rather than find nothing.
SLUG_PATTERN = re.compile(r"[^\x00-\x1f\x7f/]{1,128}")


def page_to_dto(page: Page) -> PageDTO:
    """A page row as the cart sees it."""
    return PageDTO(id=page.id, slug=page.slug, title=page.title)


class SqlBlogService:
    """Pages (posts acting as shop pages); deleted pages do not exist for the cart."""

    async def page_by_slug(self, session: AsyncSession, slug: str) -> PageDTO | None:
        """The live page with this slug, or None."""
        if not SLUG_PATTERN.fullmatch(slug):
            return None
        page = await session.scalar(
            select(Page).where(Page.slug == slug, Page.deleted_at.is_(None))
        )
        return page_to_dto(page) if page is not None else None

    async def pages_by_ids(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, PageDTO]:
        """The live pages among these ids, by id, in one query."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await session.scalars(
            select(Page).where(Page.id.in_(wanted), Page.deleted_at.is_(None))
        )
        return {page.id: page_to_dto(page) for page in rows}

    async def list_pages(self, session: AsyncSession) -> list[PageDTO]:
        """Every live page, by title."""
        rows = await session.scalars(
            select(Page).where(Page.deleted_at.is_(None)).order_by(Page.title, Page.id)
        )
        return [page_to_dto(page) for page in rows]
