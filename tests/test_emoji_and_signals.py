"""Text signals: emoji edge cases, mentions, cues, odd and huge inputs."""

from __future__ import annotations

import emoji
import pytest

from commentqa.emojis import emoji_token, find_emoji
from commentqa.normalize import normalize
from commentqa.signals import SIGNAL_NAMES, analyze, extract_signals

TRICKY = [
    "👩‍💻",                       # ZWJ sequence
    "👨‍👩‍👧‍👦 family",              # long ZWJ sequence
    "👏🏽👏🏿",                     # skin tones
    "🇧🇷🇲🇾🇺🇸",                   # flags (regional indicator pairs)
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",                       # subdivision flag (tag sequence)
    "❤️❤️‍🔥♥",                    # variation selector, ZWJ heart on fire, text heart
    "1️⃣ first",                   # keycap
    "wow🔥so good",                # glued to words
    "“quoted” – dash … ellipsis",  # general punctuation, no emoji
    "© 2024 ® ™",                  # symbols that are emoji in the emoji package
    "नमस्ते 🙏 bahut sundar",       # Devanagari
    "مرحبا 😍 جميل",               # Arabic
    "很好看！😂",                  # CJK with full-width punctuation
    "",
    "   \n\t ",
]


@pytest.mark.parametrize("text", TRICKY)
def test_find_emoji_agrees_with_emoji_package(text):
    expected = [e["emoji"] for e in emoji.emoji_list(text)]
    assert [e for e in find_emoji(text) if not e[0].isascii()] == [
        e for e in expected if not e[0].isascii()
    ]


def test_zwj_skin_tone_and_flag_are_one_emoji_each():
    assert find_emoji("👩🏽‍💻🇧🇷👏🏿") == ["👩🏽‍💻", "🇧🇷", "👏🏿"]
    assert extract_signals("👩🏽‍💻🇧🇷👏🏿")["log_emoji"] == pytest.approx(1.3862944)  # log1p(3)


def test_emoji_tokens_are_stable_and_drop_skin_tone():
    assert emoji_token("👍") == emoji_token("👍🏾") == "emj_thumbs_up"
    assert normalize("🇧🇷") == "emj_brazil"


@pytest.mark.parametrize("text", ["", " ", "\n\t  \u3000"])
def test_empty_and_whitespace_text(text):
    norm, values = analyze(text)
    assert norm == ""
    assert len(values) == len(SIGNAL_NAMES)
    signals = dict(zip(SIGNAL_NAMES, values))
    assert signals["log_words"] == 0 and signals["emoji_only"] == 0


def test_one_megabyte_text_is_handled():
    text = ("so good 😍 where is this from? @ana #ootd https://x.co/a " * 20_000)[:1_000_000]
    _, values = analyze(text)
    assert len(text) == 1_000_000
    signals = dict(zip(SIGNAL_NAMES, values))
    assert signals["question_mark"] == 1.0 and signals["log_urls"] > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Где купить? 🔥", {"question_mark": 1.0, "log_words": pytest.approx(1.0986, 1e-3)}),
        ("これどこで買えますか？", {"question_mark": 1.0}),
        ("¿Dónde lo compraste?", {"question_word": 1.0, "starts_with_question_word": 1.0}),
        ("berapa harga sis", {"question_word": 1.0, "info_noun": 1.0}),
        ("link pls", {"request_word": 1.0, "info_noun": 1.0, "question_mark": 0.0}),
        ("Link bitte", {"request_word": 1.0, "info_noun": 1.0}),
        ("@ana @bo", {"mention_only": 1.0, "starts_with_mention": 1.0}),
        ("😍😍😍", {"emoji_only": 1.0, "emoji_share": 1.0}),
        ("soooo prettyyy", {"elongated": 1.0}),
        ("THIS IS AMAZING", {"caps_share": 1.0}),
        ("OK", {"caps_share": 0.0}),
        ("I made $5000 a week, dm me", {"money": 1.0, "spam_phrase": 1.0}),
        ("harga RM45 je", {"money": 1.0}),
        ("#ootd #fashion", {"log_hashtags": pytest.approx(1.0986, 1e-3), "log_words": 0.0}),
        ("see www.shop-now.com", {"log_urls": pytest.approx(0.6931, 1e-3)}),
        ("year 2000", {"elongated": 0.0}),
    ],
)
def test_signal_values(text, expected):
    signals = extract_signals(text)
    for name, value in expected.items():
        assert signals[name] == value, name


def test_normalize_placeholders_and_html():
    assert normalize("Love it&#39;s color<br />@ana.b https://bit.ly/x #OOTD 25€") == (
        "love it's color xmentionx xurlx xhashtagx ootd 0€"
    )


def test_non_latin_text_keeps_its_letters():
    assert normalize("बहुत सुंदर 😍") == "बहुत सुंदर emj_smiling_face_with_heart_eyes"
