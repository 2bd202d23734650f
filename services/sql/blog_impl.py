"""The blog domain over the shared `pages` table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import Query, execute_alone
from models import Page
from services.contracts.dtos import PageDTO

# What can be a slug (the column is 128 wide); control characters, a NUL above all, cannot, and
# PostgreSQL would refuse the query rather than find nothing.
SLUG_PATTERN = re.compile(r"[^\x00-\x1f\x7f/]{1,128}")


# A page's columns as the cart sees it, read alone when the request has no transaction open.
PAGE_COLUMNS = (Page.id, Page.slug, Page.title)
LIVE_PAGE_BY_SLUG = Query(
    select(*PAGE_COLUMNS).where(Page.slug == bindparam("slug"), Page.deleted_at.is_(None))
)
# The ids as one array: the same statement whatever their number.
LIVE_PAGES_BY_IDS = Query(
    select(*PAGE_COLUMNS).where(
        Page.id == any_(bindparam("ids", type_=ARRAY(BigInteger))), Page.deleted_at.is_(None)
    )
)


def page_to_dto(page: Page) -> PageDTO:
    """A page row as the cart sees it."""
    return PageDTO(id=page.id, slug=page.slug, title=page.title)


def page_from_columns(row: Sequence[Any]) -> PageDTO:
    """A page from PAGE_COLUMNS' values, in their order."""
    return PageDTO(id=row[0], slug=row[1], title=row[2])


class SqlBlogService:
    """Pages (posts acting as shop pages); deleted pages do not exist for the cart."""

    async def page_by_slug(self, session: AsyncSession, slug: str) -> PageDTO | None:
        """The live page with this slug, or None."""
        if not SLUG_PATTERN.fullmatch(slug):
            return None
        row = (await execute_alone(session, LIVE_PAGE_BY_SLUG, {"slug": slug})).first()
        return page_from_columns(row) if row is not None else None

    async def pages_by_ids(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, PageDTO]:
        """The live pages among these ids, by id, in one query."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await execute_alone(session, LIVE_PAGES_BY_IDS, {"ids": wanted})
        return {row[0]: page_from_columns(row) for row in rows}

    async def list_pages(self, session: AsyncSession) -> list[PageDTO]:
        """Every live page, by title."""
        rows = await session.scalars(
            select(Page).where(Page.deleted_at.is_(None)).order_by(Page.title, Page.id)
        )
        return [page_to_dto(page) for page in rows]
