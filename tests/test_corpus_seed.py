"""The bundled seed playbook parses into the sections, items and links a reader sees."""

from __future__ import annotations

from bot.corpus import Corpus


def test_seed_has_six_sections_in_file_order(seed_corpus: Corpus) -> None:
    assert seed_corpus.problems == ()
    (playbook,) = seed_corpus.playbooks
    assert playbook.title == "Regional Innovation Hubs"
    assert playbook.slug == "regional-innovation-hubs"
    assert [s.heading for s in playbook.sections] == [
        "Contributors",
        "Key things to know",
        "When to use",
        "Case study",
        "Potential pitfalls",
        "Further readings",
    ]
    assert [s.line for s in playbook.sections] == [12, 18, 29, 43, 55, 65]


def test_front_matter_is_tolerant(seed_corpus: Corpus) -> None:
    playbook = seed_corpus.playbooks[0]
    assert playbook.oneliner == "Local foci of technological creativity"
    assert playbook.authors[0].name == "Kelvin Yu"  # the stray trailing comma is dropped
    assert playbook.authors[0].link == "https://twitter.com/kelvinotcelsius"
    assert playbook.stage == ("Catalytic", "Growth")
    assert playbook.domain == ("Academia", "Industry", "Philanthropy", "Policy")
    assert playbook.type == ("Capacity building", "Execution", "Funding")


def test_bullets_keep_their_children(seed_corpus: Corpus) -> None:
    key_things = seed_corpus.playbooks[0].section("Key things to know")
    assert key_things is not None
    assert [item.kind for item in key_things.items] == ["bullet"] * 4
    first = key_things.items[0]
    assert first.text.startswith("Regional innovation hubs are clusters")
    assert "Research Triangle in North Carolina" in first.text  # a nested bullet
    assert first.line == 20


def test_lead_line_titles_the_pitfall_topic(seed_corpus: Corpus) -> None:
    pitfalls = seed_corpus.playbooks[0].section("potential-pitfalls")
    assert pitfalls is not None
    (topic,) = pitfalls.items
    assert topic.kind == "topic"
    assert topic.title == "Efforts to create a “Silicon X” across the world"
    assert "comparative advantage" in topic.text
    assert [link.text for link in topic.links] == ["Yozma Program"]


def test_prose_section_items_are_paragraphs(seed_corpus: Corpus) -> None:
    case_study = seed_corpus.playbooks[0].section("Case study")
    assert case_study is not None
    assert [item.kind for item in case_study.items] == ["paragraph"] * 5
    assert not case_study.has_substructure
    # corpus text is kept as written: "R&D" stays one literal ampersand (escaping is the
    # renderer's job, once), not "R&amp;D"
    assert "AI R&D and" in case_study.markdown
    assert "&amp;" not in case_study.markdown and "&lt;" not in case_study.markdown


def test_further_readings_has_the_six_links(seed_corpus: Corpus) -> None:
    readings = seed_corpus.playbooks[0].section("Further readings")
    assert readings is not None
    assert len(readings.links) == 6
    assert readings.links[3].text == "Why Startup Hubs Work | Paul Graham"
    assert readings.links[3].url == "http://www.paulgraham.com/hubs.html"
    assert [link.line for link in readings.links] == [67, 68, 69, 70, 71, 72]


def test_special_characters_are_kept_as_text(seed_corpus: Corpus) -> None:
    case_study = seed_corpus.playbooks[0].section("Case study")
    contributors = seed_corpus.playbooks[0].section("Contributors")
    assert case_study is not None and contributors is not None
    assert "<3 years old" in case_study.text
    assert "R&D" in contributors.text
    assert "Kelvin Yu" in contributors.text  # link text survives in plain text


def test_section_keys_are_stable_ids(seed_corpus: Corpus) -> None:
    keys = [s.key for s in seed_corpus.sections]
    assert keys[4] == "regional-innovation-hubs#potential-pitfalls"
    assert seed_corpus.section(keys[4]) is seed_corpus.sections[4]
