"""API tokens that expire and can be revoked (SPEC §14).

DRF's token, with a lifetime: a token older than TOKEN_TTL_HOURS is refused
(and deleted), a login after that issues a new one, and logging out, a
password change or deactivating the user deletes it at once.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.TOKEN_TTL_HOURS)


def expires_at(token: Token) -> dt.datetime:
    return token.created + token_ttl()


def is_expired(token: Token, *, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) >= expires_at(token)


def issue_token(user) -> Token:
    """The user's live token, or a new one when there is none or it expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and is_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def revoke_tokens(user) -> int:
    return Token.objects.filter(user=user).delete()[0]


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        # DRF's own lookup, with the user's clinic in the same query: every
        # API view scopes its rows by it.
        token = Token.objects.select_related("user__clinic").filter(key=key).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        user = token.user
        if is_expired(token):
            token.delete()
            raise AuthenticationFailed("Token has expired; log in again at /api/v1/auth/token/.")
        return user, token


def revoke_on_password_change(sender, instance, created, **kwargs) -> None:
    """post_save of the user model: AbstractBaseUser keeps the new raw
    password in `_password` until its save has finished, so a password set
    by any path (admin, command, password change page) is seen here. A
    deactivated user's token goes too."""
    if created:
        return
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        revoke_tokens(instance)


def revoke_on_logout(sender, request, user, **kwargs) -> None:
    """Logging out of the pages ends the API token too: one logout ends every door."""
    if user is not None:
        revoke_tokens(user)
