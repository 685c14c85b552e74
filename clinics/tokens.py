"""API tokens that are stored hashed, expire and can be revoked (SPEC §14, §21).

Each login issues a new token: its key (40 random hex digits) is answered
once and kept nowhere; the row holds the key's first eight characters
(`prefix`, to find it) and its SHA-256 (`digest`, to check it). A token
older than TOKEN_TTL_HOURS is refused (and deleted); logging out, a password
change, deactivating the user or "log out everywhere" deletes the user's
tokens at once.
"""

import datetime as dt
import functools
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from core.addresses import client_address

from .models import ApiToken, SignIn

PREFIX_LENGTH = 8


def token_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.TOKEN_TTL_HOURS)


def expires_at(token: ApiToken) -> dt.datetime:
    return token.created + token_ttl()


def is_expired(token: ApiToken, *, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) >= expires_at(token)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user, *, request=None) -> ApiToken:
    """A new token for `user`; its key is on the returned instance (`.key`)
    and nowhere else. The user's expired tokens go."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, created__lte=now - token_ttl()).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        prefix=key[:PREFIX_LENGTH],
        digest=digest_of(key),
        created=now,
        address=client_address(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:200],
    )
    token.key = key
    return token


def revoke_tokens(user) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]


def end_sign_ins(user) -> int:
    """End every browser session of `user` that a sign-in recorded."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for sign_in in SignIn.objects.filter(user=user, ended__isnull=True):
        store(session_key=sign_in.session_key).delete()
        ended += 1
    SignIn.objects.filter(user=user, ended__isnull=True).update(ended=timezone.now())
    return ended


def record_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: a browser login (page or admin) is listed with its
    session; a token login is listed with its token, not here."""
    session = getattr(request, "session", None)
    if user is None or session is None or getattr(request, "regimen_token_login", False):
        return
    if not session.session_key:
        session.save()
    SignIn.objects.create(
        user=user,
        session_key=session.session_key,
        created=timezone.now(),
        address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )


def active_sign_ins(user) -> list[SignIn]:
    """The user's browser sign-ins whose session still lives."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    live = []
    for sign_in in SignIn.objects.filter(user=user, ended__isnull=True):
        if store.exists(sign_in.session_key):
            live.append(sign_in)
        else:
            SignIn.objects.filter(pk=sign_in.pk).update(ended=timezone.now())
    return live


def active_tokens(user) -> list[ApiToken]:
    now = timezone.now()
    return list(ApiToken.objects.filter(user=user, created__gt=now - token_ttl()))


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        token = find_token(key)
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        user = token.user
        if is_expired(token):
            token.delete()
            raise AuthenticationFailed(_("Token has expired; log in again at /api/v1/auth/token/."))
        return user, token


def find_token(key: str) -> ApiToken | None:
    """The token with its user and the user's clinic (every API view scopes
    its rows by it), in one query on every API request: found by the key's
    prefix, checked by its digest in constant time. The statement is
    written once per process (`_token_lookup`) rather than compiled by the
    ORM each time, which cost more than running it (docs/benchmarks.md);
    the rows become model instances as a queryset's would, converters and all."""
    if not isinstance(key, str) or len(key) < PREFIX_LENGTH or "\x00" in key:
        return None
    wanted = digest_of(key)
    sql, models = _token_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key[:PREFIX_LENGTH]])
        rows = cursor.fetchall()
    digest_index = [field.attname for field in ApiToken._meta.concrete_fields].index("digest")
    row = next((row for row in rows if hmac.compare_digest(row[digest_index], wanted)), None)
    if row is None:
        return None
    loaded, offset = [], 0
    for model, attnames, converters in models:
        values = list(row[offset : offset + len(attnames)])
        offset += len(attnames)
        for index, field_converters in converters:
            for convert in field_converters:
                values[index] = convert(values[index], None, connection)
        loaded.append(None if values[0] is None else model.from_db(DEFAULT_DB_ALIAS, attnames, values))
    token, user, clinic = loaded
    user.clinic = clinic
    token.user = user
    return token


@functools.cache
def _token_lookup():
    """The lookup's SQL (token, user, and the user's clinic if any, each
    model's concrete fields in order) and per model its field names and the
    converters of the fields that have any."""
    user_model = get_user_model()
    clinic_model = user_model._meta.get_field("clinic").related_model
    parts, columns = [], []
    for model, alias in ((ApiToken, "t"), (user_model, "u"), (clinic_model, "c")):
        fields = model._meta.concrete_fields
        columns += [f'{alias}."{field.column}"' for field in fields]
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, found))
        parts.append((model, [field.attname for field in fields], converters))
    # Names from the models' own metadata; the prefix is the one parameter.
    sql = (
        f'SELECT {", ".join(columns)} FROM "{ApiToken._meta.db_table}" t '  # noqa: S608
        f'INNER JOIN "{user_model._meta.db_table}" u ON u."id" = t."user_id" '
        f'LEFT OUTER JOIN "{clinic_model._meta.db_table}" c ON c."id" = u."clinic_id" '
        'WHERE t."prefix" = %s'
    )
    return sql, parts


def revoke_on_password_change(sender, instance, created, **kwargs) -> None:
    """post_save of the user model: AbstractBaseUser keeps the new raw
    password in `_password` until its save has finished, so a password set
    by any path (admin, command, password change page) is seen here. A
    deactivated user's tokens go too."""
    if created:
        return
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        revoke_tokens(instance)
        # Django ends the browser sessions itself (the session's auth hash no
        # longer matches); the list of sign-ins says so too.
        SignIn.objects.filter(user=instance, ended__isnull=True).update(ended=timezone.now())


def revoke_on_logout(sender, request, user, **kwargs) -> None:
    """Logging out of the pages ends the API tokens too: one logout ends every door."""
    if user is not None:
        revoke_tokens(user)
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            SignIn.objects.filter(user=user, session_key=session.session_key).update(ended=timezone.now())
