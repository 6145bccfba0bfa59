"""The results page and its login: `/`, `/?token=...`, `POST /login`, `POST /logout`.

The page is static HTML + JS in api/static that calls the JSON API with the session
cookie. Opening `/?token=TOKEN` once (the link `highlights serve` prints) sets the cookie
and redirects to `/`, so the token does not linger in the address bar or history.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.auth import SESSION_COOKIE, SESSION_MAX_AGE
from api.context import ApiContext, get_context

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Media may come from a presigned S3/MinIO URL on another origin; scripts never do.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; "
        "media-src 'self' blob: http: https:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)
Ctx = Annotated[ApiContext, Depends(get_context)]


def login_page(message: str | None = None, status_code: int = 200) -> HTMLResponse:
    notice = f'<p class="login-error" role="alert">{html.escape(message)}</p>' if message else ""
    body = (STATIC_DIR / "login.html").read_text(encoding="utf-8").replace("<!--NOTICE-->", notice)
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)


def _logged_in(request: Request, ctx: ApiContext, target: str = "/") -> Response:
    response = RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        ctx.auth.session_value,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/", name="results_page")
def results_page(request: Request, ctx: Ctx) -> Response:
    token = request.query_params.get("token")
    if token is not None:
        if ctx.auth.disabled or not ctx.auth.token_matches(token):
            return (
                login_page("That token is not valid.", 401)
                if not ctx.auth.disabled
                else RedirectResponse("/", status_code=303)
            )
        return _logged_in(request, ctx, str(request.url_for("results_page")))
    if not ctx.auth.has_session(request):
        return login_page()
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.post("/login")
def login(request: Request, ctx: Ctx, token: Annotated[str, Form(max_length=512)] = "") -> Response:
    if ctx.auth.disabled:
        return RedirectResponse(str(request.url_for("results_page")), status_code=303)
    if not ctx.auth.token_matches(token.strip()):
        return login_page("That token is not valid.", 401)
    return _logged_in(request, ctx, str(request.url_for("results_page")))


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse(str(request.url_for("results_page")), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
