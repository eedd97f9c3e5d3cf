"""What the school check says, marked for translation: the re-asks when an answer cannot be read,
and the pieces the verdict is worded from.

Kept in one module, apart from the logic, so a translator or a reviewer of the wording finds
every sentence of the check in one place (babel.cfg extracts ``actions/**.py``).
"""

from __future__ import annotations

from knowledge.identifiers import BinProblem
from texts.catalogs import N_

REGION_UNKNOWN = N_("I could not find a region or city called “{text}”. Please choose one from the list.")
REGION_WORDLESS = N_("Please type the name of the region or city, or choose one from the list.")
YES_NO_UNCLEAR = N_("Please answer “yes”, “no” or “I don't know”.")
BIN_PROBLEMS = {
    BinProblem.NOT_DIGITS: N_("A BIN consists of 12 digits only. Please check it, or press “Skip”."),
    BinProblem.LENGTH: N_("A BIN has 12 digits; this one has {count}. Please check it, or press “Skip”."),
    BinProblem.CHECK_DIGIT: N_(
        "This BIN's last (check) digit does not match the others, so there is probably a typo. "
        "Please check it against the school's documents, or press “Skip”."
    ),
}

VERDICTS = {
    "fits": N_("From your answers, the school is in the group the satellite programme targets."),
    "unlikely": N_("From your answers, the school is probably not a priority for the satellite programme."),
    "outside": N_("From your answers, the school is outside the group the satellite programme targets."),
    "unknown": N_(
        "From these answers I cannot tell whether the school is in the group the programme targets."
    ),
}
REASONS = {
    ("rural", True): N_("it is in a rural or remote settlement"),
    ("rural", False): N_("it is not in a rural or remote settlement"),
    ("fibre", True): N_("it has fixed (fibre-optic) internet"),
    ("fibre", False): N_("it has no fixed (fibre-optic) internet"),
    ("mobile", True): N_("it has usable mobile internet"),
    ("mobile", False): N_("it has no usable mobile internet"),
}
WHY = N_("Why: {reasons}.")
NEXT_STEPS = {
    "fits": N_(
        "Next step: I do not have the list of schools chosen for satellite internet or for fibre. "
        "Ask the ministry responsible (press “Official information”) whether your school is on it."
    ),
    "unlikely": N_(
        "Satellite connections are meant for places with neither fixed nor usable mobile internet. "
        "If the mobile signal at the school is too weak to use, run the check again and answer “No” "
        "to that question."
    ),
    "outside": N_(
        "Satellite connections are meant for rural and remote schools with neither fixed nor mobile "
        "internet; other schools are to get fibre. If one of your answers was not right, you can run "
        "the check again."
    ),
    "unknown": N_(
        "I need to know whether the school is rural and whether it has fixed and mobile internet. "
        "You can run the check again when you know."
    ),
}
CAVEAT = N_(
    "Please note: my sources describe what the programme targets and how far it has got, not "
    "published selection criteria, so this is guidance, not a decision about your school."
)
BASED_ON = N_("Based on: {facts}.")
FACT_CITED = N_("{label} ({publisher}, {date})")
REGISTRY_FOUND = N_("The school register ({source}, as of {as_of}): {name} ({region}) — {status}.")
REGISTRY_STATUS = {"connected": N_("already connected"), "planned": N_("planned for connection")}
REGISTRY_MISSING = N_(
    "The BIN {bin} is not in the school register I have. Please check the number; a school "
    "missing from the register may still be connected later."
)
REGISTRY_NONE = N_("I do not have a register of connected schools yet, so I cannot look up the BIN.")
OFFICIAL = N_("Official information")
CHECK_AGAIN = N_("Check another school")
STOPPED = N_("I have stopped the school check. You can start it again at any time.")
