"""DRF authentication, permission and throttling for channel API tokens.

Use on any view that a channel (a B2B portal, a connector) calls:

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [TokenRateThrottle]
    required_scopes = ("orders:write",)

`request.user` is then a `ChannelPrincipal`; filter every queryset by `request.user.channel`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken, Channel
from .services import TOKEN_PREFIX, api_token_touch, token_hash

DEFAULT_TOKEN_RATE = "600/min"
# Hashed when the prefix is unknown, so an unknown token costs the same work as a known one.
_DUMMY_HASH = token_hash("hub_000000000000_dummy")


@dataclass(frozen=True)
class ChannelPrincipal:
    """Who is calling: a channel, through one of its tokens."""

    channel: Channel
    token_id: int
    prefix: str
    scopes: frozenset[str]

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def has_scopes(self, required: tuple[str, ...] | list[str]) -> bool:
        return set(required) <= self.scopes

    def __str__(self) -> str:
        return f"channel:{self.channel.code}/token:{self.prefix}"


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[ChannelPrincipal, ApiToken] | None:
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        try:
            raw = auth[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("invalid token")
        parts = raw.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
            raise exceptions.AuthenticationFailed("invalid token")
        token = ApiToken.objects.select_related("channel").filter(prefix=parts[1]).first()
        expected = token.token_hash if token is not None else _DUMMY_HASH
        if not hmac.compare_digest(expected, token_hash(raw)) or token is None:
            raise exceptions.AuthenticationFailed("invalid token")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("token revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("token expired")
        api_token_touch(token=token, now=now)
        principal = ChannelPrincipal(
            channel=token.channel,
            token_id=token.pk,
            prefix=token.prefix,
            scopes=frozenset(token.scopes or ()),
        )
        return principal, token

    def authenticate_header(self, request: Any) -> str:
        # A WWW-Authenticate header makes DRF answer 401 (not 403) to unauthenticated calls.
        return self.keyword


class HasScope(BasePermission):
    """Grants access when the token holds every scope in the view's `required_scopes`."""

    message = "token lacks a required scope"

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ChannelPrincipal):
            return False
        required = tuple(getattr(view, "required_scopes", ()))
        if not required:
            # A view that forgot to declare scopes is closed, not open.
            return False
        if not principal.has_scopes(required):
            self.message = (
                f"token lacks scope(s): {', '.join(sorted(set(required) - principal.scopes))}"
            )
            return False
        return True


class TokenRateThrottle(SimpleRateThrottle):
    """Per-token rate on the shared cache (Redis, or the database cache), keyed on the prefix.

    The rate is the channel's `api_rate`, else settings.HUB_API_TOKEN_RATE, else 600/min.
    """

    scope = "api_token"

    def get_rate(self) -> str | None:
        # The real rate is chosen per request in allow_request; this only satisfies __init__.
        return str(getattr(settings, "HUB_API_TOKEN_RATE", DEFAULT_TOKEN_RATE))

    def allow_request(self, request: Any, view: Any) -> bool:
        principal = request.user
        if isinstance(principal, ChannelPrincipal) and principal.channel.api_rate:
            self.rate = principal.channel.api_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return bool(super().allow_request(request, view))

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        principal = request.user
        if not isinstance(principal, ChannelPrincipal):
            return None
        return f"throttle:{self.scope}:{principal.prefix}"
