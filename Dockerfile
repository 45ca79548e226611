# Dockhand bot image. Build: docker build -t dockhand .
FROM python:3.11-slim-bookworm

RUN groupadd --system dockhand && useradd --system --gid dockhand --home /app dockhand
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY jobs ./jobs
COPY config ./config
RUN pip install --no-cache-dir . && rm -rf /root/.cache
# The outbox's spool (DOCKHAND_SPOOL_DIR): a volume there starts owned by the bot's user.
RUN mkdir -p /var/lib/dockhand/spool && chown -R dockhand:dockhand /var/lib/dockhand

USER dockhand
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["dockhand"]
CMD ["serve", "--port", "3000"]
