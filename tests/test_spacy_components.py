"""spaCy components, through the entry point and directly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import spacy

ENTRY_POINT_SCRIPT = """
import json, sys
import spacy
nlp = spacy.blank("en")
for name in ("commentqa_emoji", "commentqa_social", "commentqa_cues", "commentqa_classifier"):
    nlp.add_pipe(name)
docs = list(nlp.pipe(["where is this dress from?", "🔥🔥🔥"]))
print(json.dumps({"cats": [d.cats for d in docs],
                  "emoji": [t._.commentqa_is_emoji for t in docs[1]]}))
"""


def test_factories_resolve_by_name_without_importing_commentqa(tmp_path):
    assert "import commentqa" not in ENTRY_POINT_SCRIPT
    # Run outside the source tree so only the installed package's entry points are used.
    out = subprocess.run([sys.executable, "-c", ENTRY_POINT_SCRIPT], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    result = json.loads(out.stdout)
    first, second = result["cats"]
    assert max(first, key=first.get) == "question"
    assert max(second, key=second.get) == "reaction"
    assert result["emoji"] == [True, True, True]


@pytest.fixture(scope="module")
def nlp():
    import commentqa.spacy_components  # noqa: F401  (registers the factories)

    pipeline = spacy.blank("xx")
    for name in ("commentqa_emoji", "commentqa_social", "commentqa_cues"):
        pipeline.add_pipe(name)
    return pipeline


def test_emoji_sequences_become_single_tokens(nlp):
    doc = nlp("wow👩🏽‍💻 🇧🇷🇲🇾 👏🏿👏🏿 ❤️")
    emoji_tokens = [t.text for t in doc if t._.commentqa_is_emoji]
    assert emoji_tokens == ["👩🏽‍💻", "🇧🇷", "🇲🇾", "👏🏿", "👏🏿", "❤️"]
    assert doc[1]._.commentqa_emoji_name == "woman_technologist_medium_skin_tone"
    assert doc.text == "wow👩🏽‍💻 🇧🇷🇲🇾 👏🏿👏🏿 ❤️"


def test_social_tokens(nlp):
    doc = nlp("@ana.b look #OOTD at www.shop-now.com/sale")
    marks = {t.text: (t._.commentqa_is_mention, t._.commentqa_is_hashtag, t._.commentqa_is_url)
             for t in doc}
    assert marks["@ana.b"] == (True, False, False)
    assert marks["#OOTD"] == (False, True, False)
    assert marks["www.shop-now.com/sale"] == (False, False, True)


def test_cue_tokens_in_several_languages(nlp):
    doc = nlp("BERAPA harga sis? link pls, sooo pretty ¿dónde?")
    cues = {t.text for t in doc if t._.commentqa_is_question_cue}
    assert {"BERAPA", "?", "dónde", "¿"} <= cues
    assert [t.text for t in doc if t._.commentqa_is_request_cue] == ["pls"]
    assert [t.text for t in doc if t._.commentqa_is_elongated] == ["sooo"]
    assert [t.text for t in doc if t._.commentqa_is_all_caps] == ["BERAPA"]


def test_doc_signals_getter_matches_library_signals(nlp):
    import commentqa

    text = "omg 😍😍 where is it from @ana"
    assert nlp(text)._.commentqa_signals == commentqa.extract_signals(text)


@pytest.mark.parametrize("text", ["", "   ", "a" * 100_000, "नमस्ते 🙏", "中文测试😂"])
def test_components_survive_odd_text(nlp, text):
    assert nlp(text).text == text


def test_attribute_prefix_is_configurable():
    import commentqa.spacy_components  # noqa: F401

    custom = spacy.blank("en")
    custom.add_pipe("commentqa_emoji", config={"prefix": "cq"})
    doc = custom("hi 🔥")
    assert doc[1]._.cq_is_emoji and doc[1]._.cq_emoji_name == "fire"


def test_a_prefix_renames_the_doc_signals_too():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("commentqa_emoji", config={"prefix": "cqx"})
    doc = nlp("so pretty 😍")
    assert doc._.cqx_signals == doc._.commentqa_signals
    assert any(t._.cqx_is_emoji for t in doc)
