# Two images from one file (BuildKit):
#   docker build --target rasa -t intake-rasa:local .   Rasa server, model trained at build time
#   docker build --target app  -t intake-app:local  .   bot (default CMD), action server, migrations
# compose.yaml builds both. Each environment installs its lock file only: requirements/rasa.lock
# (Python 3.10) and requirements/app.lock (Python 3.11). Nothing is installed with apt.
# Base images are pinned by tag; bump the patch tags here together with CI.

# ---------------------------------------------------------------- Rasa (Python 3.10)
FROM python:3.10.16-slim-bookworm AS rasa-builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements/rasa.lock /tmp/rasa.lock
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/rasa.lock

# Shared by the training stage and the final image: runtime venv, user, project files.
FROM python:3.10.16-slim-bookworm AS rasa-base
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/rasa \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    RASA_CACHE_DIRECTORY=/home/rasa/.rasa/cache
# Fixed uid/gid 10001. HOME is the only writable place Rasa needs (.config/rasa, the .rasa/
# cache); /app stays root-owned and read-only for the server.
RUN groupadd --system --gid 10001 rasa \
    && useradd --system --no-log-init --uid 10001 --gid rasa \
       --create-home --home-dir /home/rasa --shell /usr/sbin/nologin rasa
COPY --from=rasa-builder /opt/venv /opt/venv
WORKDIR /app
COPY domain.yml config.yml endpoints.yml credentials.yml ./
COPY nlu/ ./nlu/
# Code that runs inside Rasa: the NLU tokenizer (config.yml), needed to train, and the
# encrypted tracker store (endpoints.yml).
COPY rasa_plugins/ ./rasa_plugins/

# Training runs in its own stage so the .rasa/ training cache never reaches the final image.
FROM rasa-base AS rasa-train
RUN rasa train --domain domain.yml --config config.yml --data nlu \
        --fixed-model-name intake --out models

FROM rasa-base AS rasa
COPY --from=rasa-train /app/models /app/models
# The cipher the encrypted tracker store (rasa_plugins/) shares with the app.
COPY storage/__init__.py storage/fieldcipher.py ./storage/
ENV PYTHONPATH=/app
USER 10001:10001
EXPOSE 5005
# Model loading (TensorFlow) takes a while: generous start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5005/', timeout=4)"]
CMD ["rasa", "run", "--enable-api", "--port", "5005", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--model", "models"]

# ---------------------------------------------------------------- App (Python 3.11)
FROM python:3.11.11-slim-bookworm AS app-builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements/app.lock /tmp/app.lock
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/app.lock

FROM python:3.11.11-slim-bookworm AS app
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    HOME=/home/app \
    DATA_DIR=/data \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080 \
    ACTION_SERVER_PORT=5055
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app \
       --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app:app /data
COPY --from=app-builder /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY core/ ./core/
COPY bot/ ./bot/
COPY actions/ ./actions/
COPY storage/ ./storage/
USER 10001:10001
VOLUME ["/data"]
# 8080: the bot's web app (Telegram webhook, coach pages, /healthz), behind a TLS proxy;
# 5055: the action server.
EXPOSE 8080 5055
# Checks the bot's /healthz on WEB_PORT. compose.yaml overrides it for the action server
# (python -m actions) and disables it for the one-shot migration (python -m storage upgrade).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEB_PORT', '8080'), timeout=4)"]
CMD ["python", "-m", "bot"]
