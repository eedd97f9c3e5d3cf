"""The school check: a Rasa form (``school_form``) and its verdict.

The form asks region, rural, fibre, mobile and an optional BIN; the verdict comes from
``knowledge/eligibility.yml``. One module per job:

- ``answers``: the slots, and how a typed or clicked answer is read ("жоқ", "не знаю", a BIN);
- ``validation``: ``validate_school_form``, which decides what a message answers, or that it is
  something else the form should step aside for;
- ``form``: starting, stopping, and asking each question;
- ``verdict``: ``action_school_verdict``, worded from the matching rule and its facts;
- ``messages``: every sentence of the check, marked for translation.

rasa-sdk registers the actions by walking the ``actions`` package, subpackages included
(actions/server.py), so nothing needs importing here.
"""
