"""The staff's order search as a query string: what it holds, read and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from lib.error_codes import ErrorCode
from lib.errors import BadRequest
from lib.localtime import zone
from models import ORDER_STATUSES

MAX_SEARCH = 100
MAX_PAGE = 10_000
# The queues a staff member works through, as filters of the order list.
FLAGS = {
    "needs_refund": "Needs a refund",
    "mismatch": "Payment mismatch",
    "waiting": "Waiting for payment",
    "overdue": "Waiting past its hold",
}


@dataclass(frozen=True)
class StaffOrderQuery:
    search: str = ""
    status: str = ""
    page_slug: str = ""
    date_from: date | None = None
    date_to: date | None = None
    flag: str = ""
    page: int = 1

    @property
    def is_filtered(self) -> bool:
        return self != StaffOrderQuery(page=self.page)

    def params(self, **changes: object) -> str:
        """This query (with `changes`) as a query string, empty values left out."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        values = {
            "q": query.search,
            "status": query.status,
            "page_slug": query.page_slug,
            "from": query.date_from.isoformat() if query.date_from else "",
            "to": query.date_to.isoformat() if query.date_to else "",
            "flag": query.flag,
            "page": str(query.page) if query.page > 1 else "",
        }
        return urlencode({key: value for key, value in values.items() if value})

    def created_between(self, zone_name: str) -> tuple[datetime | None, datetime | None]:
        """The range of creation times, from the first day's start to the last day's end,
        in the coop's zone."""
        local = zone(zone_name)
        start = datetime.combine(self.date_from, time(), local) if self.date_from else None
        end = (
            datetime.combine(self.date_to + timedelta(days=1), time(), local)
            if self.date_to
            else None
        )
        return start, end


def parse_staff_order_query(args: Mapping[str, str]) -> StaffOrderQuery:
    """Read the query string; a value that cannot be one is a 400 naming it."""
    search = args.get("q", "").strip()
    if len(search) > MAX_SEARCH:
        raise BadRequest(ErrorCode.INVALID_SEARCH, maximum=MAX_SEARCH)
    status = args.get("status", "").strip()
    if status and status not in ORDER_STATUSES:
        raise BadRequest(ErrorCode.INVALID_STATUS, status=status)
    flag = args.get("flag", "").strip()
    if flag and flag not in FLAGS:
        raise BadRequest(ErrorCode.INVALID_FILTER, flag=flag)
    date_from = parse_day(args.get("from", ""), "from")
    date_to = parse_day(args.get("to", ""), "to")
    if date_from and date_to and date_to < date_from:
        raise BadRequest(ErrorCode.INVALID_DATE_RANGE)
    return StaffOrderQuery(
        search=search,
        status=status,
        page_slug=args.get("page_slug", "").strip()[:255],
        date_from=date_from,
        date_to=date_to,
        flag=flag,
        page=parse_page(args.get("page", "")),
    )


def parse_day(raw: str, name: str) -> date | None:
    """A day as YYYY-MM-DD (what a date input sends); empty is none."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_day(name)
    except ValueError:
        return _bad_day(name)


def _bad_day(name: str) -> date:
    raise BadRequest(ErrorCode.INVALID_DATE, name=name)


def parse_page(raw: str) -> int:
    raw = raw.strip()
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_PAGE:
        raise BadRequest(ErrorCode.INVALID_PAGE, maximum=MAX_PAGE)
    return int(raw)
