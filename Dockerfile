# syntax=docker/dockerfile:1
# Two images from one file (docs/deployment.md):
#   docker build --target api -t pactmock-api .                       pactmock serve; the default target
#   docker build --target migration-runner -t pactmock-migrations .    alembic upgrade head; a psql bastion

# An exact tag, so a rebuild does not pick up a new Python or Debian by surprise. Bookworm, because its
# postgresql-client is major 15, the same major as the compose file's server.
FROM python:3.11.17-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# A fixed numeric id: Kubernetes' runAsNonRoot can only verify a numeric USER. The home directory is
# where psql keeps its history.
RUN groupadd --gid 10001 pactmock \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin pactmock

FROM base AS builder
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
# The runtime dependencies only: the test extras never reach an image.
RUN pip install --no-cache-dir .

FROM base AS migration-runner
# The metapackage of bookworm's postgresql-common 248: psql major 15, security updates still apply.
# Installed before the project is copied in, so a code change does not repeat it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client=15+248*" \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/pactmock
COPY alembic.ini ./
COPY migrations ./migrations
USER 10001:10001
CMD ["alembic", "upgrade", "head"]

FROM base AS api
# Without a DATABASE_URL (plain `docker run`) the api keeps an SQLite file where its user may write.
RUN install -d -o 10001 -g 10001 /var/lib/pactmock
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/pactmock
# The api needs the migrations too: `pactmock serve` refuses a database that is not at their head,
# and brings an embedded SQLite file there itself.
COPY alembic.ini ./
COPY migrations ./migrations
COPY pacts ./pacts
ENV FLASK_HOST=0.0.0.0 \
    FLASK_PORT=5000 \
    PACT_DIR=/srv/pactmock/pacts \
    DATABASE_URL=sqlite:////var/lib/pactmock/pactmock.sqlite3
EXPOSE 5000
USER 10001:10001
# No curl in a slim image; python is there. urlopen raises on a refused connection or any 4xx/5xx.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('FLASK_PORT', '5000') + '/_mock/health', timeout=4)"]
CMD ["pactmock", "serve"]
