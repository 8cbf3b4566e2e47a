# A slim, non-root image whose entrypoint is the watchdog daemon.
# CI cannot run Docker; .ci/dockerfile_steps.py replays this file's build-stage COPY and
# RUN steps in a fresh virtual environment so that they cannot rot.
FROM python:3.12-slim AS build
WORKDIR /src
# requirements.lock: the exact versions CI tested, so the image runs what was tested
COPY pyproject.toml README.md ml_watchdog_launcher.py requirements.lock ./
COPY watchdog ./watchdog
RUN python -m venv /opt/watchdog \
    && /opt/watchdog/bin/pip install --no-cache-dir -c requirements.lock \
       ".[postgres,snowflake,bigquery,redshift,airflow,s3,gcs]"

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 watchdog && mkdir -p /var/lib/watchdog /etc/watchdog \
    && chown watchdog /var/lib/watchdog
COPY --from=build /opt/watchdog /opt/watchdog
COPY config.yaml /etc/watchdog/config.yaml
COPY contracts /etc/watchdog/contracts
ENV PATH=/opt/watchdog/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WATCHDOG_STATE_URL=sqlite:////var/lib/watchdog/state.db \
    WATCHDOG_SQL_CACHE=/var/lib/watchdog/sql-cache
USER watchdog
WORKDIR /var/lib/watchdog
VOLUME ["/var/lib/watchdog"]
# healthy while this container's daemon writes its heartbeat into the state store
HEALTHCHECK --interval=1m --timeout=20s --start-period=2m \
    CMD ["watchdog", "health", "--config", "/etc/watchdog/config.yaml"]
ENTRYPOINT ["watchdog", "run", "--config", "/etc/watchdog/config.yaml"]
