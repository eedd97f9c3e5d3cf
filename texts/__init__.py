"""The text layer under both the action server (``actions/``) and the bot (``bot/``).

The two run as separate processes, and the bot must not load rasa-sdk, so what they share about
text lives here, below both: which languages we speak (``languages``), the gettext catalogs in
``locales/`` (``catalogs``), one reply language with Babel's formats (``localized``) and the
cleaning of what a user typed (``clean``). The strings themselves stay marked where they are said
(``actions/``, ``bot/``); ``babel.cfg`` extracts them from there.

A leaf: nothing here imports the rest of the project, so ``knowledge`` may use it too. This file
imports nothing, so taking one module does not load the others.
"""
