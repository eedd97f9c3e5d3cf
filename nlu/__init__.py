"""Rasa's training data (the YAML files) and our own Rasa components (the modules): the
pipeline components and the tracker store.

The modules run inside Rasa's environment (Python 3.10); ``config.yml`` and the endpoints files
name them by their import path, which Rasa resolves from its working directory, the repository
root.
"""
