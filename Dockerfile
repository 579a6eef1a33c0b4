# Vorhölle: the GitLab bot, as a small non-root image.
#   docker build -t vorhoelle .
#   docker run -p 8080:8080 -e VORHOELLE_GITLAB_URL=https://gitlab.example.org \
#     -e VORHOELLE_PROJECT=group/jobs -e VORHOELLE_GITLAB_TOKEN_FILE=/run/secrets/gitlab_token ... vorhoelle
# Settings: see `docker run vorhoelle config show`; secrets as VORHOELLE_<NAME> or VORHOELLE_<NAME>_FILE.

# The base, pinned by digest so that a rebuild starts from the same bytes. The tag it stands for:
#   python:3.11-slim
# (refresh: `docker buildx imagetools inspect python:3.11-slim`, take the index digest).
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# --- build: install the bot and the channels the image ships (Slack, e-mail) into a venv --------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/vorhoelle
WORKDIR /src
# The runtime dependencies at the versions in requirements.lock (refresh: see the README), then
# the bot itself without resolving anything again.
COPY requirements.lock ./
RUN /opt/vorhoelle/bin/pip install --no-deps -r requirements.lock
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY templates ./templates
COPY config ./config
# googleapiclient ships the discovery documents of every Google API (~110 MB); the bot builds
# only the Gmail client, offline, from gmail.v1.json.
RUN /opt/vorhoelle/bin/pip install --no-deps . \
 && /opt/vorhoelle/bin/pip check \
 && /opt/vorhoelle/bin/pip uninstall --yes pip setuptools wheel \
 && find /opt/vorhoelle -path '*/googleapiclient/discovery_cache/documents/*.json' ! -name 'gmail.v1.json' -delete \
 && /opt/vorhoelle/bin/python -m compileall -q -j 0 /opt/vorhoelle
# Bytecode is compiled here, once: the running container never writes it (non-root, and
# PYTHONDONTWRITEBYTECODE), so without it every start would compile every module again.

# --- run: the venv on a clean base, as an unprivileged user ----------------------------------------
FROM ${PYTHON_IMAGE}
RUN useradd --system --create-home --home-dir /data --uid 10001 vorhoelle
COPY --from=build /opt/vorhoelle /opt/vorhoelle
ENV PATH=/opt/vorhoelle/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VORHOELLE_SERVER__HOST=0.0.0.0 \
    VORHOELLE_SERVER__PORT=8080 \
    VORHOELLE_LOGGING__FORMAT=json
USER vorhoelle
WORKDIR /data
EXPOSE 8080
# Asks /health/live where serve listens: PORT when the platform sets it, else server.port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-m", "bot.web.probe"]
ENTRYPOINT ["vorhoelle"]
CMD ["serve"]
