"""Starts and watches the running system: action server and Rasa (and, with issue 4, the bot)."""
