"""Rasa's training data (the YAML files) and our own Rasa pipeline components (the modules).

The modules run inside Rasa's environment (Python 3.10); ``config.yml`` names them by their
import path, which Rasa resolves from its working directory, the repository root.
"""
