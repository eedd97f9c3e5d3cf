"""Rasa's ``utter_*`` responses: names in domain.yml, texts here (as msgids), translations in locales/.

The NLG endpoint (actions/nlg.py) renders these in the conversation's language, so stories and
rules keep Rasa's conventions while every word a user reads comes from the gettext catalogs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from actions.resources import process_resources
from texts.catalogs import N_
from texts.localized import Texts


@dataclass(frozen=True)
class Button:
    title: str  # a msgid
    payload: str  # a Rasa intent payload ("/affirm") or, with translate_payload, a msgid


@dataclass(frozen=True)
class Reply:
    text: str  # a msgid
    buttons: tuple[Button, ...] = ()
    dynamic_buttons: Callable[[Texts], list[dict[str, str]]] | None = field(default=None, compare=False)

    def render(self, texts: Texts) -> dict[str, object]:
        message: dict[str, object] = {"text": texts(self.text)}
        buttons = self.dynamic_buttons(texts) if self.dynamic_buttons is not None else []
        buttons += [{"title": texts(b.title), "payload": b.payload} for b in self.buttons]
        if buttons:
            message["buttons"] = buttons
        return message


def _region_buttons(texts: Texts) -> list[dict[str, str]]:
    """One button per region and city, named in the reply language; the payload is the name itself,
    which the form matches like a typed answer."""
    return [
        {"title": region.name(texts.lang), "payload": region.name(texts.lang)}
        for region in process_resources().regions.regions.regions
    ]


YES_NO = (
    Button(N_("Yes"), "/affirm"),
    Button(N_("No"), "/deny"),
    Button(N_("I don't know"), "/dont_know"),
)
STOP = Button(N_("Stop the check"), "/stop")

LANGUAGE_BUTTONS = (
    Button(N_("Қазақша"), '/change_language{"language": "kk"}'),
    Button(N_("Русский"), '/change_language{"language": "ru"}'),
    Button(N_("English"), '/change_language{"language": "en"}'),
)

RESPONSES: dict[str, Reply] = {
    "utter_greet": Reply(
        N_(
            "Hello! I answer questions about satellite internet in Kazakhstan: whether Starlink "
            "works here, whether it is legal, what it costs, and the programme that connects rural "
            "schools. Every answer names its source and the date it was true. Ask your question, "
            "or check whether a school fits the programme."
        ),
        (
            Button(N_("Check a school"), "/check_school"),
            Button(N_("What can you do?"), "/bot_capabilities"),
            *LANGUAGE_BUTTONS,
        ),
    ),
    # Said by Rasa's built-in action_restart (the /reset command); see BUILT_IN_RESPONSES.
    "utter_restart": Reply(
        N_("Done: we are starting over. Ask me anything about satellite internet in Kazakhstan."),
        (Button(N_("Check a school"), "/check_school"), Button(N_("What can you do?"), "/bot_capabilities")),
    ),
    # Said by Rasa's action_default_fallback when no rule covers a turn (config.yml has no
    # TEDPolicy); the conversation stays as it was, so the user can simply try again.
    "utter_default": Reply(
        N_("Sorry, I lost the thread there. Please ask again in other words, or send /help."),
        (Button(N_("What can you do?"), "/bot_capabilities"),),
    ),
    "utter_goodbye": Reply(N_("Goodbye! Come back if you have more questions.")),
    "utter_you_are_welcome": Reply(N_("You're welcome! Ask me anything else about satellite internet.")),
    "utter_capabilities": Reply(
        N_(
            "I can:\n"
            "• answer questions about satellite internet and Starlink in Kazakhstan: availability, "
            "legal status, licences and frequencies, prices, who is involved;\n"
            "• check whether a school fits the group the rural-school satellite programme targets;\n"
            "• list what changed lately, newest first (/news);\n"
            "• tell you where to find official information.\n"
            "I speak Kazakh, Russian and English: write in any of them, or say which one you prefer."
        ),
        (Button(N_("Check a school"), "/check_school"), Button(N_("Change language"), "/change_language")),
    ),
    "utter_iamabot": Reply(
        N_(
            "I am a bot, not a person. I answer only from published sources, and I name the source "
            "and its date with every answer. For official information, ask me who is responsible."
        )
    ),
    "utter_anything_else": Reply(N_("Is there anything else you would like to know?")),
}

# Responses that Rasa's own actions ask the NLG for; declaring them in domain.yml would only make
# `rasa data validate` warn that no story uses them.
BUILT_IN_RESPONSES = frozenset({"utter_restart", "utter_default"})

# The school form's questions, asked by actions/school/form.py (action_ask_<slot>).
ASKS: dict[str, Reply] = {
    "school_region": Reply(
        N_("Which region or city is the school in? Choose below or type the name."),
        (STOP,),
        dynamic_buttons=_region_buttons,
    ),
    "school_rural": Reply(
        N_("Is the school in a village or another rural or remote settlement?"), (*YES_NO, STOP)
    ),
    "school_fibre": Reply(
        N_("Does the school have fixed internet over a cable (fibre-optic)?"), (*YES_NO, STOP)
    ),
    "school_mobile": Reply(
        N_("Is there mobile internet at the school that is good enough to use?"), (*YES_NO, STOP)
    ),
    "school_bin": Reply(
        N_(
            "If you know the school's BIN (business identification number, 12 digits), type it and "
            "I will look the school up. Otherwise press “Skip”."
        ),
        (Button(N_("Skip"), "/dont_know"), STOP),
    ),
}
