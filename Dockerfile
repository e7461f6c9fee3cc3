# The portal's image: web (gunicorn), worker and beat (Celery) run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH="/opt/venv/bin:$PATH"

# WeasyPrint's libraries (with HarfBuzz's subsetter, 6 times faster) and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app
# The same lock file as `make run` and `make test`, without the test tools.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput --verbosity 0

RUN useradd --create-home --uid 1000 portal \
    && mkdir -p /data/private && chown -R portal /data /app
USER portal

EXPOSE 8000
CMD ["gunicorn", "cnas.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
