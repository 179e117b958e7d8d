# One image for every process of socialsync:
#   docker run IMAGE            -> the web receiver (CMD web) on port 8080
#   docker run IMAGE worker     -> the job worker
# Redis and MongoDB are external: set SOCIALSYNC_REDIS_URL and SOCIALSYNC_MONGODB_URL
# (see docker-compose.yml and docs/running.md). No `embedded`/`dev` extras in here.

# --- build the project's wheel ------------------------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime -----------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOCIALSYNC_WEB_HOST=0.0.0.0 \
    SOCIALSYNC_WEB_PORT=8080

# Dependencies first, at the versions pinned in constraints.txt, in a layer of their own so that
# a code change does not reinstall them.
COPY pyproject.toml constraints.txt /tmp/deps/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/deps/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/deps/requirements.txt \
 && pip install -c /tmp/deps/constraints.txt -r /tmp/deps/requirements.txt \
 && rm -rf /tmp/deps

COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels

RUN useradd --system --user-group --uid 10001 --home-dir /app --create-home \
        --shell /usr/sbin/nologin socialsync
USER socialsync
WORKDIR /app

EXPOSE 8080
ENTRYPOINT ["socialsync"]
CMD ["web"]
