FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libvirt-dev pkg-config gcc && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml requirements.lock ./
COPY . .
RUN pip install -c requirements.lock ".[libvirt]" && DJANGO_SECRET_KEY=build python manage.py collectstatic --noinput
USER nobody
EXPOSE 8000
