# Rasa Open Source 3.6.21 (the official image) serving our trained model.
#
# Build context: the repository root (docker-compose.yml sets `context: ..`). The model must
# exist before the build: run `make model` (writes models/aqparat.tar.gz), then
# `docker compose build`. The image's Python and Rasa (3.10, 3.6.21) are those that trained it.
# Only the files named here reach the build: see rasa.Dockerfile.dockerignore.
FROM rasa/rasa:3.6.21

# jsonschema as pinned in requirements/rasa.txt (3.2.0): the image's 4.17 re-validates the schema
# of every action-server and NLG response against its metaschema, about 14 ms per custom action
# (README, "Load"). The version is read from that file, so the two cannot drift apart.
USER root
COPY requirements/rasa.txt /tmp/rasa-requirements.txt
RUN pip install --no-cache-dir --no-deps "$(grep '^jsonschema==' /tmp/rasa-requirements.txt)" \
    && rm /tmp/rasa-requirements.txt

WORKDIR /app
COPY --chown=1001:0 config.yml domain.yml credentials.yml ./
COPY --chown=1001:0 deploy/endpoints.yml ./endpoints.yml
COPY --chown=1001:0 models/aqparat.tar.gz ./models/aqparat.tar.gz
# Our pipeline components (config.yml names them nlu.*) and tracker store (endpoints.yml names
# nlu.sessions): Rasa imports them from its working directory. Without nlu/sessions.py Rasa would
# fall back to an in-memory tracker store with only a warning.
COPY --chown=1001:0 nlu/__init__.py nlu/featurizer.py nlu/intent_classifier.py nlu/sessions.py ./nlu/
# Retention for the tracker store (the compose `retention` service): it needs Rasa's own reading
# of endpoints.yml, SQLAlchemy and psycopg2, all of which this image has.
COPY --chown=1001:0 stack/tracker_retention.py ./tracker_retention.py

# No telemetry; quiet TensorFlow and SQLAlchemy. LOG_LEVEL_LIBRARIES stays at ERROR: below
# WARNING, Sanic's access log would print request URLs, and Rasa's API takes its token in the URL.
ENV RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    LOG_LEVEL_LIBRARIES=ERROR

# The image's own non-root user (uid 1001).
USER 1001
EXPOSE 5005

# The HTTP API is on and protected by AQPARAT_RASA_TOKEN (required: the container refuses to start
# without it). No --cors: no browser ever talks to Rasa. Rasa listens on the container's own
# interfaces; docker-compose.yml publishes no port, so only the compose network reaches it.
ENTRYPOINT ["/bin/bash", "-c", "exec rasa run --enable-api --auth-token \"${AQPARAT_RASA_TOKEN:?AQPARAT_RASA_TOKEN is required}\" --port 5005 --model models/aqparat.tar.gz --endpoints endpoints.yml --credentials credentials.yml \"$@\"", "rasa-run"]
CMD []
