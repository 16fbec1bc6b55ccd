# The GraphTwin server. Built by docker-compose.yml; on its own:
#   docker build -t graphtwin . && docker run -p 8000:8000 graphtwin serve --host 0.0.0.0 --open
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs, so that editing tests or docs does not rebuild this layer.
COPY pyproject.toml README.md ./
COPY ontology ./ontology
COPY graph ./graph
COPY queries ./queries
COPY importers ./importers
COPY server ./server
RUN pip install . \
    && useradd --system --create-home --home-dir /var/lib/graphtwin graphtwin

USER graphtwin
WORKDIR /var/lib/graphtwin
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"]
ENTRYPOINT ["graphtwin"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
