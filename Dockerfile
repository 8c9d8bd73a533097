# The portal's one image: web (gunicorn), workers and beat run it with different commands.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_MEDIA_ROOT=/data/media DJANGO_STATIC_ROOT=/app/staticfiles
WORKDIR /app
# libvirt-dev, pkg-config and gcc build libvirt-python; postgresql-client is pg_dump/pg_restore
# for `manage.py backup` and `restore` (Debian 12's is 15, the server's version)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvirt-dev pkg-config gcc postgresql-client \
 && rm -rf /var/lib/apt/lists/*
# Dependencies first, in their own layer: rebuilt only when pyproject.toml or the lock changes,
# not on every code change (pyproject declares no packages, so it installs without the code).
COPY pyproject.toml requirements.lock ./
RUN pip install -c requirements.lock ".[libvirt]"
COPY . .
# A user of its own (not root, not nobody) owns what the portal writes: uploads and beat's
# schedule live on the named volumes mounted at /data/media and /data/beat (docker-compose.yml),
# backups under /data/backups.
# compiled once here: `portal` cannot write __pycache__ under /app, so every process would
# otherwise compile the project's source at start
RUN DJANGO_SECRET_KEY=build python manage.py collectstatic --noinput \
 && python -m compileall -q /app \
 && useradd --system --uid 10001 --no-create-home --home-dir /app portal \
 && mkdir -p /data/media /data/beat /data/backups /app/var \
 && chown -R portal:portal /data /app/var
USER portal
VOLUME ["/data/media", "/data/beat"]
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "-b", "0.0.0.0:8000", "-w", "3"]
