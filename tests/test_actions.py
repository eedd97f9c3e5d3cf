"""The custom actions against the real knowledge base and model, in each language."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer, answer_with_fact, looks_like_follow_up
from actions.conversation import ActionChangeLanguage, ActionFeedback, ActionOfficialInfo, requested_language
from actions.resources import ActionResources
from actions.school.answers import yes_no
from actions.school.form import ActionStopSchoolCheck
from actions.school.validation import ValidateSchoolForm
from actions.school.verdict import ActionSchoolVerdict
from knowledge.service import LiveKnowledge
from tests.dialogue import tracker
from texts.localized import Texts

KAZAKH = set("әғқңөұүһі")


@pytest.fixture
def shared(service: LiveKnowledge, tmp_path: Path) -> ActionResources:
    settings = service.settings.model_copy(
        update={"log_dir": tmp_path / "log", "schools_file": tmp_path / "schools.json", "log_salt": "test"}
    )
    shared = ActionResources(settings)
    shared.__dict__["knowledge"] = service  # the session's index, not a second build
    return shared


def run(action: object, t: object) -> tuple[list[dict], list[object]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})  # type: ignore[attr-defined]
    return dispatcher.messages, events


def slots_of(events: list[object]) -> dict[str, object]:
    return {e["name"]: e["value"] for e in events if isinstance(e, dict) and e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("question", "lang", "words"),
    [
        ("Starlink Қазақстанда ресми сатыла ма?", "kk", ("Дереккөз", "Дерек күні", "2025 ж.")),
        (
            "Почему Starlink официально не продаётся в Казахстане?",
            "ru",
            ("Источник", "По состоянию на", "2025 г."),
        ),
        ("Why is Starlink not officially sold in Kazakhstan?", "en", ("Source", "True as of", "2025")),
    ],
)
def test_a_question_about_now_is_answered_from_the_newest_fact_with_source_link_and_date(
    shared: ActionResources, question: str, lang: str, words: tuple[str, ...]
) -> None:
    messages, events = run(ActionAnswer(shared), tracker(question))
    text = messages[0]["text"].replace("\u202f", " ")
    assert all(w in text for w in words)
    assert ".." not in text
    assert slots_of(events)["last_fact"] == "starlink-official-launch"
    lines = text.split("\n")
    source = next(i for i, line in enumerate(lines) if line.startswith(words[0]))
    assert "Vlast.kz" in lines[source]
    assert (
        lines[source + 1] == "https://vlast.kz/english/66048-the-week-in-kazakhstan-teaching-the-teacher.html"
    )
    assert "⚠" not in text  # reviewed: the notice is for facts past their review date only
    # the 2023 situation, if shown at all, comes after the current state and says it changed
    if "2023" in text:
        assert text.index("2025") < text.index("2023")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[:2] == ["/feedback_helpful", "/feedback_not_helpful"]


BANNED, LAUNCHED = "private-use-illegal-2023", "starlink-official-launch"
SCHOOLS_2024, SCHOOLS_NOW = "schools-connected-2024-04", "schools-connected-2025-10"


@pytest.mark.parametrize(
    ("question", "lang", "lead", "now"),
    [
        ("в ноябре 2023 года частное использование старлинка было незаконным?", "ru", BANNED, LAUNCHED),
        ("2024 жылдың сәуірінде қанша мектепке старлинк қосылған еді", "kk", SCHOOLS_2024, SCHOOLS_NOW),
        ("how many schools had starlink in april 2024", "en", SCHOOLS_2024, SCHOOLS_NOW),
    ],
)
def test_a_question_about_the_past_gets_the_dated_history_then_what_is_true_now(
    shared: ActionResources, question: str, lang: str, lead: str, now: str
) -> None:
    messages, events = run(ActionAnswer(shared), tracker(question))
    text = messages[0]["text"]
    kb = shared.knowledge.kb
    assert slots_of(events)["last_fact"] == lead
    history, current = kb.facts[lead].render(lang), kb.facts[now].render(lang)
    assert text.index(history) < text.index(current)
    texts = Texts(lang)
    assert (
        texts(
            "This was the situation as of {as_of}; it has changed since.",
            as_of=texts.date(kb.facts[lead].as_of),
        )
        in text
    )
    assert texts("Now (as of {as_of}):", as_of=texts.date(kb.facts[now].as_of)) in text


def test_a_superseded_fact_is_never_presented_as_the_current_state(shared: ActionResources) -> None:
    """Whatever a button or a question finds, a history fact comes with the newest fact of its
    chain, and only the newest one is said to be "true as of"."""
    kb = shared.knowledge.kb
    for fact in (f for f in kb.facts.values() if not kb.is_current(f)):
        payload = f'/ask_question{{"fact_id": "{fact.id}"}}'
        chosen = [{"entity": "fact_id", "value": fact.id}]
        messages, _ = run(ActionAnswer(shared), tracker(payload, entities=chosen, earlier=["hello there"]))
        text = messages[0]["text"]
        newest = kb.newest(fact)
        assert newest.render("en") in text, fact.id
        texts = Texts("en")
        assert texts("True as of {as_of}.", as_of=texts.date(newest.as_of)) in text
        assert (
            texts("True as of {as_of}.", as_of=texts.date(fact.as_of)) not in text
            or fact.as_of == newest.as_of
        )
        assert "has changed since" in text


def test_answer_formats_money_for_the_locale(shared: ActionResources) -> None:
    chosen = [{"entity": "fact_id", "value": "interconnect-point-monthly-fee"}]
    payload = '/ask_question{"fact_id": "interconnect-point-monthly-fee"}'
    ru, _ = run(ActionAnswer(shared), tracker(payload, entities=chosen, earlier=["сколько стоит старлинк"]))
    en, _ = run(ActionAnswer(shared), tracker(payload, entities=chosen, earlier=["how much does it cost"]))
    assert "200\xa0$" in ru[0]["text"]
    assert "$200" in en[0]["text"]


def test_unknown_question_is_declined_and_logged_without_the_user_id(shared: ActionResources) -> None:
    messages, events = run(ActionAnswer(shared), tracker("сколько стоит билет на поезд до Караганды"))
    text = messages[0]["text"]
    assert "Starlink" in text  # offers the topics it knows
    assert ";" in text
    entries = shared.log.unanswered()
    assert [e.text for e in entries] == ["сколько стоит билет на поезд до Караганды"]
    assert entries[0].lang == "ru"
    raw = "".join(p.read_text(encoding="utf-8") for p in (shared.settings.log_dir).glob("*.jsonl"))
    assert "telegram-user-1" not in raw
    assert slots_of(events) == {"last_fact": None}


def test_every_decision_is_logged_for_the_statistics_but_buttons_and_non_questions_are_not(
    shared: ActionResources,
) -> None:
    run(ActionAnswer(shared), tracker("Starlink Қазақстанда ресми сатыла ма?"))
    run(ActionAnswer(shared), tracker("сколько стоит билет на поезд до Караганды"))
    chosen = [{"entity": "fact_id", "value": "schools-2000-expansion"}]
    run(ActionAnswer(shared), tracker('/ask_question{"fact_id": "schools-2000-expansion"}', entities=chosen))
    run(ActionAnswer(shared), tracker("???"))
    logged = [(e.lang, e.outcome, e.fact_id) for e in shared.log.questions()]
    assert logged == [("kk", "answer", "starlink-official-launch"), ("ru", "unknown", None)]
    assert "Starlink" not in shared.log.questions_path.read_text(encoding="utf-8")  # no question text


def test_follow_up_uses_the_previous_question(shared: ActionResources) -> None:
    _, events = run(ActionAnswer(shared), tracker("Starlink Қазақстанда заңды ма?"))
    previous = slots_of(events)["last_question"]
    follow, events = run(
        ActionAnswer(shared),
        tracker("ал бағасы қанша?", slots={"last_question": previous}, earlier=[previous]),
    )
    assert slots_of(events)["last_fact"] in {"interconnect-point-monthly-fee", "household-price-2025"}
    assert any(ch in KAZAKH for ch in follow[0]["text"])


@pytest.mark.parametrize(
    ("first", "follow_up", "expected"),
    [
        # alone, the follow-up takes the per-school fee; the subject is Starlink for homes
        ("Почему Starlink официально не продаётся в Казахстане?", "а сколько стоит в месяц?",
         "household-price-2025"),
        # alone, "schools" takes the fibre plan; the subject is the price
        ("how much does starlink cost per month?", "and for schools?", "interconnect-point-monthly-fee"),
    ],
)  # fmt: skip
def test_follow_up_asks_something_new_about_the_previous_subject(
    shared: ActionResources, first: str, follow_up: str, expected: str
) -> None:
    _, events = run(ActionAnswer(shared), tracker(first))
    before = slots_of(events)
    slots = {"last_question": before["last_question"], "last_fact": before["last_fact"]}
    _, events = run(ActionAnswer(shared), tracker(follow_up, slots=slots, earlier=[first]))
    assert slots_of(events)["last_fact"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("and for schools?", True), ("а сколько это стоит?", True), ("ал бағасы қанша?", True),
     ("is starlink legal in kazakhstan", False), ("what is the price of starlink", False)],
)  # fmt: skip
def test_follow_up_detection(text: str, expected: bool) -> None:
    assert looks_like_follow_up(text) is expected


def test_clarify_button_answers_the_chosen_fact(shared: ActionResources) -> None:
    entities = [{"entity": "fact_id", "value": "schools-2000-expansion"}]
    payload = '/ask_question{"fact_id": "schools-2000-expansion"}'
    messages, events = run(
        ActionAnswer(shared), tracker(payload, entities=entities, earlier=["сколько школ"])
    )
    text = messages[0]["text"].replace("\xa0", " ")
    assert "2 000" in text  # the chosen 2023 plan leads, as history…
    assert "1 700" in text  # …followed by the newest count
    assert text.index("2 000") < text.index("1 700")
    assert slots_of(events)["last_fact"] == "schools-2000-expansion"


def test_message_without_words_gets_a_polite_prompt(shared: ActionResources) -> None:
    messages, _ = run(ActionAnswer(shared), tracker("???", earlier=["сәлем қалайсың"]))
    assert messages[0]["text"] == Texts("kk")("Please type your question in words, and I will look it up.")


def test_feedback_is_stored_with_the_fact(shared: ActionResources) -> None:
    t = tracker("не помогло", "feedback_not_helpful", slots={"last_fact": "x-fact", "last_question": "q"})
    messages, _ = run(ActionFeedback(shared), t)
    [entry] = shared.log.feedback()
    assert (entry.fact_id, entry.helpful, entry.lang) == ("x-fact", False, "ru")
    assert "Жаль" in messages[0]["text"]


def test_official_information_names_the_ministry_without_contacts(shared: ActionResources) -> None:
    messages, _ = run(ActionOfficialInfo(shared), tracker("who do I contact officially", "ask_human"))
    text = messages[0]["text"]
    assert "Ministry of Digital Development" in text
    assert "+7" not in text
    assert "@" not in text


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("switch to kazakh", [{"entity": "language", "value": "kk"}], "kk"),
        ("на русском пожалуйста", [], "ru"),
        ("ағылшынша жазшы", [], "en"),
    ],
)
def test_change_language_sets_the_slot_and_confirms_in_the_new_language(
    shared: ActionResources, text: str, entities: list[dict[str, str]], expected: str
) -> None:
    messages, events = run(ActionChangeLanguage(shared), tracker(text, "change_language", entities=entities))
    assert slots_of(events) == {"language": expected}
    assert messages[0]["text"] == Texts(expected)("Done: I will answer in English from now on.")


def test_change_language_without_a_language_offers_buttons(shared: ActionResources) -> None:
    messages, events = run(ActionChangeLanguage(shared), tracker("change language", "change_language"))
    assert events == []
    assert messages[0]["buttons"][0]["payload"] == '/change_language{"language": "kk"}'


def test_requested_language() -> None:
    assert requested_language("орысша жаз") == "ru"
    assert requested_language("english or russian") is None
    assert requested_language("hello") is None


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [("жоқ", "nlu_fallback", "no"), ("нет", None, "no"), ("no", None, "no"), ("иә", None, "yes"),
     ("да есть", None, "yes"), ("не знаю", None, "unknown"), ("білмеймін", None, "unknown"),
     ("у нас оптика", "affirm", "yes"), ("оптика бар ма екен", "ask_question", None)],
)  # fmt: skip
def test_yes_no(text: str, intent: str | None, expected: str | None) -> None:
    assert yes_no(text, intent) == expected


def test_form_reads_a_region_with_a_typo_and_refuses_an_unknown_one(shared: ActionResources) -> None:
    form = ValidateSchoolForm(shared)
    dispatcher = CollectingDispatcher()
    t = tracker(
        "Карагандинская обл",
        "nlu_fallback",
        slots={"requested_slot": "school_region"},
        active_loop="school_form",
    )
    assert asyncio.run(form.extract_school_region(dispatcher, t, {})) == {
        "school_region": "Карагандинская обл"
    }
    assert form.validate_school_region("Карагандинская обл", dispatcher, t, {}) == {
        "school_region": "karaganda"
    }
    assert form.validate_school_region("Мордор", dispatcher, t, {}) == {"school_region": None}
    assert "Мордор" in dispatcher.messages[-1]["text"]


def test_form_steps_aside_for_a_knowledge_question(shared: ActionResources) -> None:
    form = ValidateSchoolForm(shared)
    t = tracker(
        "а сколько стоит старлинк в месяц",
        "ask_question",
        slots={"requested_slot": "school_fibre"},
        active_loop="school_form",
    )
    assert asyncio.run(form.extract_school_fibre(CollectingDispatcher(), t, {})) == {}


@pytest.mark.parametrize(
    ("typed", "intent", "slot", "taken"),
    [
        # Place names and markup the intent model happened to read as questions or off-topic:
        # the knowledge base has no answer for them, so they are (unrecognised) answers.
        ("Шиелі ауданы", "out_of_scope", "school_region", True),
        ("Мордор <b>x</b>", "ask_question", "school_region", True),
        ("Мордор", "nlu_fallback", "school_region", True),
        ("погода", "out_of_scope", "school_fibre", True),
        ("Нарния", "affirm", "school_region", True),  # not a detour intent at all
        # Questions: a question mark, more than a few words, or words the knowledge base answers.
        ("Мордор?", "ask_question", "school_region", False),
        ("а сколько стоит старлинк в месяц", "ask_question", "school_region", False),
        ("Starlink заңды ма", "ask_question", "school_region", False),
        ("Starlink законен", "out_of_scope", "school_rural", False),
        ("почему не продают старлинк", "nlu_fallback", "school_region", False),
        ("почему не продают", "nlu_fallback", "school_region", True),  # no subject: not one we know
        # Commands are detours however short.
        ("стоп", "stop", "school_region", False),
        ("орысша", "change_language", "school_mobile", False),
    ],
)
def test_a_short_message_the_knowledge_base_cannot_answer_is_an_answer_to_the_form(
    shared: ActionResources, typed: str, intent: str, slot: str, taken: bool
) -> None:
    """Before: whether "Мордор <b>x</b>" at the region question got "I could not find that
    region" or "I have no reliable answer to that question" depended on how DIET trained."""
    form = ValidateSchoolForm(shared)
    t = tracker(typed, intent, slots={"requested_slot": slot}, active_loop="school_form")
    extract = getattr(form, f"extract_{slot}")
    assert asyncio.run(extract(CollectingDispatcher(), t, {})) == ({slot: typed} if taken else {})


def test_the_form_steps_aside_when_the_knowledge_base_fails(
    shared: ActionResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """action_answer then tells the user answers are unavailable; the form does not crash."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(shared.knowledge, "decide", broken)
    form = ValidateSchoolForm(shared)
    t = tracker(
        "Мордор", "out_of_scope", slots={"requested_slot": "school_region"}, active_loop="school_form"
    )
    assert asyncio.run(form.extract_school_region(CollectingDispatcher(), t, {})) == {}


@pytest.mark.parametrize(
    ("typed", "expected", "message"),
    [
        ("123456789012", None, "контрольная"),
        ("12345", None, "здесь — 5"),
        ("12345678901a", None, "только из 12 цифр"),
    ],
)
def test_bin_validation_explains_the_problem(
    shared: ActionResources, typed: str, expected: object, message: str
) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(typed, "nlu_fallback", slots={"requested_slot": "school_bin"}, earlier=["проверить школу"])
    assert ValidateSchoolForm(shared).validate_school_bin(typed, dispatcher, t, {}) == {
        "school_bin": expected
    }
    assert message in dispatcher.messages[0]["text"].lower()


def test_valid_bin_is_normalised(shared: ActionResources) -> None:
    t = tracker("0000 0000 0000", "nlu_fallback")
    assert ValidateSchoolForm(shared).validate_school_bin(
        "0000 0000 0000", CollectingDispatcher(), t, {}
    ) == {"school_bin": "000000000000"}


@pytest.mark.parametrize(
    ("rural", "fibre", "mobile", "phrase"),
    [
        ("yes", "no", "no", "входит в группу, на которую нацелена"),
        ("no", "no", "no", "не входит в группу"),
        ("yes", "no", "yes", "не в приоритете"),
        ("unknown", "no", "no", "не могу определить"),
    ],
)
def test_verdict_follows_the_rules_file(
    shared: ActionResources, rural: str, fibre: str, mobile: str, phrase: str
) -> None:
    slots = {"school_rural": rural, "school_fibre": fibre, "school_mobile": mobile, "school_bin": "skipped"}
    messages, _ = run(
        ActionSchoolVerdict(shared), tracker("нет", "deny", slots=slots, earlier=["проверить школу"])
    )
    text = messages[0]["text"]
    assert phrase in text
    assert "ориентир, а не решение" in text  # the honest caveat
    assert re.search(
        r"202[56] г\.", text.replace("\u202f", " ")
    )  # each cited fact with its date: current ones
    assert "2023" not in text


def test_verdict_looks_up_the_bin_in_an_imported_registry(shared: ActionResources) -> None:
    from knowledge.schools import School, save_registry

    save_registry(
        [School(bin="000000000000", name="Test school No. 1", region="almaty-region", status="connected",
                source="test fixture", as_of="2024-05")],
        shared.settings.schools_file,
    )  # fmt: skip
    slots = {"school_rural": "yes", "school_fibre": "no", "school_mobile": "no"}
    english = ["check my school please"]
    found, _ = run(
        ActionSchoolVerdict(shared),
        tracker("no", "deny", slots={**slots, "school_bin": "000000000000"}, earlier=english),
    )
    assert "Test school No. 1 (Almaty Region) — already connected" in found[0]["text"]
    missing, _ = run(
        ActionSchoolVerdict(shared),
        tracker("no", "deny", slots={**slots, "school_bin": "000000000010"}, earlier=english),
    )
    assert "is not in the school register" in missing[0]["text"]


def test_stop_clears_the_form(shared: ActionResources) -> None:
    messages, events = run(ActionStopSchoolCheck(shared), tracker("стоп", "stop", active_loop="school_form"))
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert all(v is None for v in slots_of(events).values())
    assert "остановил" in messages[0]["text"]


def test_restart_clears_only_filled_answers_and_validation_ignores_cleared_slots(
    shared: ActionResources,
) -> None:
    from actions.school.form import ActionStartSchoolCheck

    t = tracker("check again", "check_school", slots={"school_region": "abai", "school_rural": "yes"})
    _, events = run(ActionStartSchoolCheck(), t)
    assert slots_of(events) == {"school_region": None, "school_rural": None, "requested_slot": None}
    dispatcher = CollectingDispatcher()
    form = ValidateSchoolForm(shared)
    assert form.validate_school_region(None, dispatcher, t, {}) == {"school_region": None}
    assert form.validate_school_bin(None, dispatcher, t, {}) == {"school_bin": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "head", "published"),
    [
        ("дереккөздерің қандай", "Менің деректерім", "2023 ж. 13 қазан"),
        ("откуда у тебя информация", "Мои сведения", "13 октября 2023 г."),
        ("where does your information come from", "My facts come from", "October 13, 2023"),
    ],
)
def test_sources_lists_each_source_with_its_date_in_the_users_language(
    shared: ActionResources, text: str, head: str, published: str
) -> None:
    from actions.conversation import ActionSources

    messages, events = run(ActionSources(shared), tracker(text, "ask_sources"))
    (message,) = messages
    reply = message["text"].replace("\u202f", " ")
    assert reply.startswith(head)
    assert "Kursiv" in reply
    assert published in reply
    lines = reply.split("\n")
    kursiv = next(i for i, line in enumerate(lines) if "Kursiv" in line and "Bagdat Musin" in line)
    assert lines[kursiv + 1].startswith("https://kz.kursiv.media/en/2023-10-13/")  # the link under its source
    dated = [line for line in lines if line.startswith("•")]
    assert len(dated) == len(shared.knowledge.kb.sources)  # every source is cited by some fact
    assert reply.index("2026") < reply.index("2023")  # newest first
    assert "⚠" not in reply  # the overdue note is one sentence, not a notice per fact
    assert events == []


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_close_runner_up_is_offered_as_a_button_under_the_answer(lang: str, service: LiveKnowledge) -> None:
    """Answer first: the other reading costs one tap, in the user's language, and asks for that fact."""
    kb = service.kb
    dispatcher = CollectingDispatcher()
    texts = Texts(lang)
    runner_up = kb.facts["official-information"]
    answer_with_fact(dispatcher, service.place(kb.facts["bot-scope"]), kb, texts, runner_up)
    [message] = dispatcher.messages
    offered = message["buttons"][-1]
    assert offered["title"] == texts("Or did you mean: {label}?", label=runner_up.label.get(lang))
    assert offered["title"] != f"Or did you mean: {runner_up.label.get(lang)}?" or lang == "en"
    assert offered["payload"] == '/ask_question{"fact_id": "official-information"}'
    dispatcher = CollectingDispatcher()
    answer_with_fact(dispatcher, service.place(kb.facts["bot-scope"]), kb, texts)
    assert all("official-information" not in b["payload"] for b in dispatcher.messages[0]["buttons"])
