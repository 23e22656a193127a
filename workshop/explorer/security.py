"""What keeps another web page from using the explorer: a per-server token, Origin and Host checks, headers.

Why each, for a server on 127.0.0.1 that can answer callbacks and approve expenses:

- The token (random, made when the server starts, never written anywhere but
  into the explorer's own forms) must come back with every POST: a form on
  another site cannot know it, since a cross-origin page cannot read ours.
- Origin (or Referer, when a browser sends no Origin) must be the explorer's
  own: a second lock on the same door, for a token that leaked into a log.
- Host must name the loopback (or, in the compose stack, the explorer's own
  service name, which only the other containers resolve): a DNS-rebinding page
  (evil.example resolving to 127.0.0.1) reaches our port with its own host
  name, and is refused before anything is read.
- The Content-Security-Policy allows only the explorer's own script and style,
  so even text that escaped escaping could not run; escaping itself is the
  templates' (Jinja2's autoescape), and the tests check both.
"""

from __future__ import annotations

import hmac
import secrets
import urllib.parse
from collections.abc import Mapping

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
TOKEN_FIELD = "token"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    """A request the explorer will not serve; the message says why (shown on the error page)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def check_host(headers: Mapping[str, str], also: frozenset[str] = frozenset()) -> None:
    """Refuse a Host that is not the loopback (nor `also`: the compose service name other containers use)."""
    host = headers.get("host", "")
    if _host_name(host).lower() not in LOOPBACK_NAMES | also:
        raise Refused(421, f"The explorer answers only on the loopback address, not for Host {host!r}.")


def check_post(headers: Mapping[str, str], form: Mapping[str, str], token: str) -> None:
    """Raise Refused unless this POST comes from one of the explorer's own pages."""
    host = headers.get("host", "")
    own = {f"http://{host}", f"https://{host}"}
    origin = headers.get("origin")
    if origin is not None:
        if origin not in own:
            raise Refused(403, f"Refused: this request comes from another site ({origin}), not from the explorer's own page.")
    elif referer := headers.get("referer"):
        parsed = urllib.parse.urlsplit(referer)
        if f"{parsed.scheme}://{parsed.netloc}" not in own:
            raise Refused(403, "Refused: this request comes from another site, not from the explorer's own page.")
    sent = form.get(TOKEN_FIELD, "")
    if not sent or not hmac.compare_digest(sent.encode(), token.encode()):
        raise Refused(403, "Refused: the form's token is missing or wrong (reload the page: the explorer makes a new one when it restarts).")
