# hubs-bot: one image for both processes (web: `hubs-bot serve`, clock: `hubs-bot clock`).
# Two stages: the first builds wheels (hubs-bot's own carries the seed playbooks and the
# default config inside the package), the second installs them non-editable, so the image
# holds no source tree and no build tools.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY seeds seeds
COPY config config
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUBS_DATA_DIR=/data \
    PORT=3000

# git (and ssh for git@ URLs): HUBS_CORPUS_GIT runs the git command (README: dependencies)
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 hubs && mkdir /data && chown hubs /data
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels hubs-bot && rm -rf /wheels
COPY manifest.yml /app/manifest.yml
WORKDIR /app

USER hubs
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"
CMD ["hubs-bot", "serve"]
