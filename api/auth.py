"""Who may call the API: one bearer token, a page-session cookie, or a signed file URL.

- API clients send `Authorization: Bearer TOKEN` (HIGHLIGHTS_API_TOKEN).
- The results page logs in once (`/?token=TOKEN` or the login form) and gets an
  HttpOnly, SameSite=Lax cookie holding an HMAC of the token (never the token itself).
  Cookie-authenticated requests that change something must also carry the
  `X-Highlights-Request` header: a cross-site form cannot set it, so a page elsewhere
  cannot make a logged-in browser upload or delete (CSRF).
- File URLs handed out for local storage carry an expiry and an HMAC signature, like S3
  presigned URLs, so `<video src>` or curl can fetch them without a header.

With HIGHLIGHTS_API_AUTH=disabled every check passes (a laptop behind a firewall).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiConfigError, ApiError
from highlights.settings import Settings

SESSION_COOKIE = "highlights_session"
CSRF_HEADER = "X-Highlights-Request"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_MAX_AGE = 7 * 24 * 3600

# Documents the scheme in OpenAPI; the check itself is Auth.authorize (cookies count too).
bearer_scheme = HTTPBearer(auto_error=False, description="HIGHLIGHTS_API_TOKEN")


def generate_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Auth:
    token: str | None
    disabled: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Auth:
        if not settings.api_auth_disabled and not settings.api_token:
            raise ApiConfigError(
                "the API needs a token: set HIGHLIGHTS_API_TOKEN (for example to the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or set "
                "HIGHLIGHTS_API_AUTH=disabled to serve without authentication"
            )
        return cls(token=settings.api_token, disabled=settings.api_auth_disabled)

    def _mac(self, message: str) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), message.encode(), hashlib.sha256).hexdigest()

    def token_matches(self, candidate: str | None) -> bool:
        if self.disabled:
            return True
        if not candidate or self.token is None:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    @property
    def session_value(self) -> str:
        return self._mac("page-session")

    def has_session(self, request: Request) -> bool:
        if self.disabled:
            return True
        cookie = request.cookies.get(SESSION_COOKIE)
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.session_value.encode())

    def authorize(self, request: Request) -> None:
        """Raise 401 (no or wrong credentials) or 403 (cookie without the CSRF header)."""
        if self.disabled:
            return
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            if self.token_matches(credentials.strip()):
                return
            raise ApiError(
                401,
                "the bearer token is not valid",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if self.has_session(request):
            if request.method in SAFE_METHODS or request.headers.get(CSRF_HEADER):
                return
            raise ApiError(403, f"requests from the page must carry the {CSRF_HEADER} header")
        raise ApiError(
            401,
            "authentication required: send 'Authorization: Bearer TOKEN' (HIGHLIGHTS_API_TOKEN)",
            {"WWW-Authenticate": "Bearer"},
        )

    # -- signed file URLs ----------------------------------------------------------------

    def sign(self, key: str, expires_at: int) -> str:
        return self._mac(f"file:{key}:{expires_at}")

    def signature_valid(self, key: str, expires: str | None, signature: str | None) -> bool:
        if self.disabled:
            return True
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < time.time():
            return False
        return hmac.compare_digest(signature.encode(), self.sign(key, int(expires)).encode())


async def require_auth(
    request: Request,
    _credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
) -> None:
    """Dependency for every API route (the bearer parameter only documents the scheme)."""
    request.app.state.auth.authorize(request)
