"""API tokens that expire and can be revoked (SPEC §14).

DRF's token, with a lifetime: a token older than TOKEN_TTL_HOURS is refused
(and deleted), a login after that issues a new one, and logging out, a
password change or deactivating the user deletes it at once.
"""

import datetime as dt
import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection
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
        token = find_token(key)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        user = token.user
        if is_expired(token):
            token.delete()
            raise AuthenticationFailed("Token has expired; log in again at /api/v1/auth/token/.")
        return user, token


def find_token(key: str) -> Token | None:
    """The token with its user and the user's clinic (every API view scopes
    its rows by it), in one query on every API request. The statement is
    written once per process (`_token_lookup`) rather than compiled by the
    ORM each time, which cost more than running it (docs/benchmarks.md);
    the rows become model instances as a queryset's would, converters and all."""
    sql, models = _token_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
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
    for model, alias in ((Token, "t"), (user_model, "u"), (clinic_model, "c")):
        fields = model._meta.concrete_fields
        columns += [f'{alias}."{field.column}"' for field in fields]
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, found))
        parts.append((model, [field.attname for field in fields], converters))
    # Names from the models' own metadata; the key is the one parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM \"{Token._meta.db_table}\" t "  # noqa: S608
        f'INNER JOIN "{user_model._meta.db_table}" u ON u."id" = t."user_id" '
        f'LEFT OUTER JOIN "{clinic_model._meta.db_table}" c ON c."id" = u."clinic_id" '
        'WHERE t."key" = %s'
    )
    return sql, parts


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
