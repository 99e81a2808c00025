# hubs-bot: one image for both processes (web: `hubs-bot serve`, clock: `hubs-bot clock`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUBS_DATA_DIR=/data \
    PORT=3000

RUN useradd --create-home --uid 10001 hubs && mkdir /data && chown hubs /data
WORKDIR /app

# dependencies first, so a code change does not reinstall them
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
RUN pip install .  && pip uninstall -y hubs-bot

COPY bot bot
COPY seeds seeds
COPY config config
COPY manifest.yml ./
# editable: the bundled seeds/ and config/ are found next to the package
RUN pip install --no-deps -e .

USER hubs
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"
CMD ["hubs-bot", "serve"]
