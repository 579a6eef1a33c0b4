"""GitLab's offset pagination: `page`/`per_page` in, `x-*` and `Link` headers out.

python-gitlab follows the `Link: <...>; rel="next"` header for `get_all=True` and
`iterator=True`, and reads `x-total`/`x-total-pages` for `len()`; GitLab leaves the totals out
above 10,000 rows, and so does the sandbox.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.sandbox.params import Params

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_COUNTED_ROWS = 10_000


def _page_url(request: Request, page: int, per_page: int) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "per_page")]
    query += [("page", str(page)), ("per_page", str(per_page))]
    return f"{request.url.replace(query=None)}?{urlencode(query)}"


def paginate(
    request: Request, params: Params, rows: Sequence[Any], render: Callable[[Any], Any]
) -> JSONResponse:
    """One page of `rows`, each passed through `render`, with the headers GitLab sends."""
    page = max(params.int("page", 1) or 1, 1)
    wanted = params.int("per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE
    per_page = min(max(wanted, 1), MAX_PER_PAGE)
    total = len(rows)
    total_pages = max((total + per_page - 1) // per_page, 1)
    start = (page - 1) * per_page
    headers = {"x-page": str(page), "x-per-page": str(per_page)}
    headers["x-next-page"] = str(page + 1) if start + per_page < total else ""
    headers["x-prev-page"] = str(page - 1) if page > 1 else ""
    links = []
    if headers["x-prev-page"]:
        links.append(f'<{_page_url(request, page - 1, per_page)}>; rel="prev"')
    if headers["x-next-page"]:
        links.append(f'<{_page_url(request, page + 1, per_page)}>; rel="next"')
    links.append(f'<{_page_url(request, 1, per_page)}>; rel="first"')
    if total <= MAX_COUNTED_ROWS:
        headers["x-total"] = str(total)
        headers["x-total-pages"] = str(total_pages)
        links.append(f'<{_page_url(request, total_pages, per_page)}>; rel="last"')
    headers["link"] = ", ".join(links)
    return JSONResponse([render(row) for row in rows[start : start + per_page]], headers=headers)
