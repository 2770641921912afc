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


def test_emoji_glued_to_words_or_cut_by_the_tokenizer_are_still_one_token(nlp):
    for text, emoji_token, neighbour in [("❤️love it", "❤️", "love"),
                                         ("so good👍🏽thanks", "👍🏽", "thanks"),
                                         ("❤️#ootd", "❤️", "#ootd"),
                                         ("a1️⃣", "1️⃣", "a")]:
        doc = nlp(text)
        tokens = [t.text for t in doc]
        assert doc.text == text
        assert emoji_token in tokens and neighbour in tokens, tokens
        assert [t.text for t in doc if t._.commentqa_is_emoji] == [emoji_token]
    assert [t.text for t in nlp("❤️#ootd") if t._.commentqa_is_hashtag] == ["#ootd"]


def test_unmerged_hashtags_mark_both_tokens():
    import commentqa.spacy_components  # noqa: F401

    pipeline = spacy.blank("en")
    pipeline.add_pipe("commentqa_social", config={"merge_spans": False})
    doc = pipeline("love this #ootd")
    assert [(t.text, t._.commentqa_is_hashtag) for t in doc][-2:] == [("#", True),
                                                                      ("ootd", True)]


def test_doc_extensions_pickle_for_worker_processes():
    import pickle

    from spacy.tokens import Doc

    import commentqa.spacy_components  # noqa: F401

    for prefix in ("commentqa", "cq2"):
        spacy.blank("en").add_pipe("commentqa_cues", config={"prefix": prefix})
        pickle.loads(pickle.dumps(Doc.get_extension(f"{prefix}_signals")))


SPAWN_SCRIPT = """
import json, multiprocessing, spacy
if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    nlp = spacy.blank("en")
    nlp.add_pipe("commentqa_emoji")
    nlp.add_pipe("commentqa_classifier")
    docs = list(nlp.pipe(["where is this dress from?", "🔥🔥🔥"] * 2, n_process=2,
                         batch_size=1))
    print(json.dumps([max(d.cats, key=d.cats.get) for d in docs]))
"""


def test_nlp_pipe_with_spawned_processes(tmp_path):
    """macOS and Windows start worker processes by spawning: spaCy then pickles the
    extensions every installed package registered."""
    script = tmp_path / "spawn.py"
    script.write_text(SPAWN_SCRIPT, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == ["question", "reaction"] * 2


def test_classifier_model_path_is_checked_and_resolved_when_added(tmp_path, monkeypatch):
    import shutil

    import commentqa.spacy_components  # noqa: F401
    from commentqa.persistence import ModelLoadError, default_model_path

    with pytest.raises(ModelLoadError):
        spacy.blank("en").add_pipe("commentqa_classifier",
                                   config={"model": str(tmp_path / "nowhere")})
    shutil.copytree(default_model_path(), tmp_path / "a" / "m")
    monkeypatch.chdir(tmp_path / "a")
    pipeline = spacy.blank("en")
    component = pipeline.add_pipe("commentqa_classifier", config={"model": "m"})
    assert component.model_path == str(tmp_path / "a" / "m")
    monkeypatch.chdir(tmp_path)  # a relative path meant the folder where it was given
    cats = pipeline("where is this from?").cats
    assert max(cats, key=cats.get) == "question"
