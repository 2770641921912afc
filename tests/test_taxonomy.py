"""The shipped model on the taxonomy's own clear-cut examples (training/GUIDELINES.md)."""

from __future__ import annotations

import numpy as np
import pytest

import commentqa

EXAMPLES = {
    "reaction": ["🔥🔥🔥", "😍😍", "wow", "so pretty", "queen 👑", "congrats!!", "@ana 😂",
                 "why are you so pretty??", "love it", "cringe"],
    "question": ["where is this dress from?", "price pls", "link please 🙏", "shade?",
                 "does it work on oily skin?", "what camera do you use?", "recipe please",
                 "berapa harga?", "is it on android?", "omg so pretty 😍 where did you get it?"],
    "conversation": [
        "I've used this serum for 2 weeks and my acne is gone",
        "the blue one suits you better",
        "battery died after a day for me",
        "went to this place last week, the ramen is worth the queue",
        "@maria we should try this for your bday",
    ],
    "spam": ["check out my channel", "follow me i follow back", "DM us to collab 💕",
             "promote it on @viralpages", "I made $5000 in a week with @trader_x, DM her",
             "sub to me and i sub back"],
}
CASES = [(text, label) for label, texts in EXAMPLES.items() for text in texts]
# Brands' and creators' replies with content are conversation (GUIDELINES.md), but "DM us"
# is also what spam says: the border the model card names as a known limit. v1.2.0 read the
# first as spam by 0.58 to 0.41, v1.3.0 by 0.81 to 0.18; most others are conversation.
BRAND_REPLIES = [
    "Hi, please DM us your order number so we can help",
    "So sorry to hear this Maya! Could you DM us your order number? We'll sort it out today",
    "Thanks for flagging, our team will reach out by DM to arrange a replacement",
    "Hey! The restock is on Friday 9am, set a reminder 💕",
    "We're sorry your parcel is late 😔 send us a DM with your email and we'll check",
    "Hi there, that shade is being reformulated, it comes back in March",
    "Please DM us so we can fix this for you",
    "Thank you for the honest review! We've passed your feedback to our product team",
    "Hola! Envíanos un DM con tu número de pedido y lo revisamos",
    "Oi! Manda uma DM pra gente com o número do pedido que resolvemos",
]


def test_labels_contract(model):
    assert model.labels == ("reaction", "question", "conversation", "spam")
    assert model.labels == commentqa.LABELS


@pytest.mark.parametrize(("text", "label"), CASES)
def test_clear_examples(model, text, label):
    assert model.predict([text]) == [label]


def test_brand_replies_are_mostly_conversation_and_never_confidently_spam(model):
    proba = model.predict_proba(BRAND_REPLIES)
    labels = list(model.labels)
    assert (proba.argmax(axis=1) == labels.index("conversation")).sum() >= 6
    assert proba[:, labels.index("spam")].max() < 0.9


@pytest.mark.parametrize("emoji", ["😍😍", "❤️", "🔥🔥🔥", "😂", "🙏🏽", "✨"])
def test_an_appended_emoji_leaves_substance_alone(model, emoji):
    """Emoji add no substance (GUIDELINES.md): a question, a conversation or spam keeps
    its label with one appended (v1.1.1 turned "the blue one suits you better 🔥🔥🔥" into
    spam and many conversations into reactions; v1.2.0 trains on emoji variants)."""
    cases = [(t, y) for t, y in CASES if y != "reaction"]
    texts, labels = zip(*cases)
    assert model.predict([f"{t} {emoji}" for t in texts]) == list(labels)


def test_mostly_right_on_all_examples(model):
    texts, labels = zip(*CASES)
    assert np.mean(np.asarray(model.predict(list(texts))) == np.asarray(labels)) >= 0.9


def test_predict_proba_shape_order_and_duplicates(model):
    texts = ["wow", "where is it from?", "wow", "", "check my page"]
    proba = model.predict_proba(texts)
    assert proba.shape == (5, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[0], proba[2])
    assert model.predict_proba([]).shape == (0, 4)


def test_classify_returns_label_scores_and_signals(model):
    pred = model.classify("link pls 😍")
    assert pred.label == "question"
    assert set(pred.scores) == set(model.labels)
    assert pred.scores["question"] == max(pred.scores.values())
    assert pred.signals["request_word"] == 1.0


def test_explain_names_features_that_pushed_the_decision(model):
    reasons = model.explain("check out my channel please")
    assert reasons and all(weight > 0 for _, weight in reasons)
    assert any("channel" in name or "spam" in name for name, _ in reasons)


def test_single_string_is_rejected_for_batch_calls(model):
    with pytest.raises(TypeError, match="list of texts"):
        model.predict_proba("wow")


def test_a_frame_is_refused_rather_than_read_as_its_column_names(model):
    import pandas as pd

    frame = pd.DataFrame({"text": ["link pls"]})
    with pytest.raises(TypeError, match=r"2-D DataFrame; pass one column, e.g. frame\['text'\]"):
        model.predict(frame)
    assert model.predict(frame["text"]) == model.predict(["link pls"])
