"""spaCy components: emoji, social tokens, question/request cues and the classifier.

Registered as factories (and announced through the ``spacy_factories`` entry point, so
``nlp.add_pipe("commentqa_classifier")`` works without importing commentqa):

=======================  ==================================================================
factory                  sets
=======================  ==================================================================
``commentqa_emoji``      merges each emoji (ZWJ sequences, skin tones, flags) into one token;
                         ``token._.commentqa_is_emoji``, ``token._.commentqa_emoji_name``
``commentqa_social``     merges ``#`` + word; ``token._.commentqa_is_mention``,
                         ``token._.commentqa_is_hashtag``, ``token._.commentqa_is_url``
``commentqa_cues``       ``token._.commentqa_is_question_cue``, ``..._is_request_cue``,
                         ``..._is_elongated``, ``..._is_all_caps``
``commentqa_classifier`` ``doc.cats`` (label -> probability) from a commentqa model
=======================  ==================================================================

Every component takes ``prefix`` (default ``"commentqa"``) to rename its attributes.
``doc._.commentqa_signals`` (a getter) gives the comment-level signals the model uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import emoji
from spacy.language import Language
from spacy.tokens import Doc, Token

from .lexicon import QUESTION_WORDS, REQUEST_WORDS
from .normalize import MENTION, URL
from .signals import extract_signals, is_elongated

__all__ = [
    "make_classifier_component", "make_cues_component", "make_emoji_component",
    "make_social_component",
]

DEFAULT_PREFIX = "commentqa"
_QUESTION_MARKS = frozenset({"?", "？", "¿", "؟"})


def _register(prefix: str, names: Iterable[str], cls=Token) -> None:
    for name in names:
        attr = f"{prefix}_{name}"
        if not cls.has_extension(attr):
            cls.set_extension(attr, default=None if name.endswith("_name") else False)


def _doc_signals(doc: Doc) -> dict:
    """``doc._.<prefix>_signals``: a module-level function, so that spaCy can pickle the
    extensions for ``nlp.pipe(n_process=...)`` under the spawn and forkserver start methods."""
    return extract_signals(doc.text)


def _register_doc_getters(prefix: str) -> None:
    if not Doc.has_extension(f"{prefix}_signals"):
        Doc.set_extension(f"{prefix}_signals", getter=_doc_signals)


# Register the default attributes at import, so they exist before any pipeline runs.
_register(DEFAULT_PREFIX, ("is_emoji", "emoji_name", "is_mention", "is_hashtag", "is_url",
                           "is_question_cue", "is_request_cue", "is_elongated", "is_all_caps"))
_register_doc_getters(DEFAULT_PREFIX)


class EmojiComponent:
    """Merge every emoji into one token and mark it."""

    def __init__(self, name: str, *, merge_spans: bool, prefix: str):
        self.name, self.merge_spans, self.prefix = name, merge_spans, prefix
        _register(prefix, ("is_emoji", "emoji_name"))
        _register_doc_getters(prefix)

    def __call__(self, doc: Doc) -> Doc:
        if doc.text.isascii():
            return doc
        found = [(item["match_start"], item["match_end"]) for item in emoji.emoji_list(doc.text)]
        if self.merge_spans and found:
            _split_at(doc, {edge for pair in found for edge in pair})
        spans = []
        for start, end in found:
            span = doc.char_span(start, end)
            if span is not None:
                spans.append(span)
        if self.merge_spans:
            with doc.retokenize() as retok:
                for span in spans:
                    if len(span) > 1:
                        retok.merge(span)
            spans = [doc.char_span(s.start_char, s.end_char) for s in spans]
        for span in spans:
            for token in span:
                token._.set(f"{self.prefix}_is_emoji", True)
                token._.set(f"{self.prefix}_emoji_name", emoji.demojize(span.text).strip(":"))
        return doc


def _split_at(doc: Doc, edges: set[int]) -> None:
    """Split the tokens that an edge (a character offset) falls inside of: the tokenizer
    leaves an emoji glued to a word (``❤️love``) or cuts one (``❤`` + ``️#ootd``)."""
    cuts = []
    for token in doc:
        start = token.idx
        inside = sorted(e - start for e in edges if start < e < start + len(token.text))
        if inside:
            cuts.append((token, inside))
    if not cuts:
        return
    with doc.retokenize() as retok:
        for token, inside in cuts:
            text = token.text
            bounds = [0, *inside, len(text)]
            orths = [text[a:b] for a, b in itertools.pairwise(bounds)]
            retok.split(token, orths, heads=[(token, k) for k in range(len(orths))])


class SocialComponent:
    """Mark @mentions, #hashtags (merging ``#`` with its word) and URLs."""

    def __init__(self, name: str, *, merge_spans: bool, prefix: str):
        self.name, self.merge_spans, self.prefix = name, merge_spans, prefix
        _register(prefix, ("is_mention", "is_hashtag", "is_url"))
        _register_doc_getters(prefix)

    def __call__(self, doc: Doc) -> Doc:
        p = self.prefix
        if "#" in doc.text:
            tags = [token.i for token in doc[:-1]
                    if token.text == "#" and not token.whitespace_
                    and (doc[token.i + 1].is_alpha or doc[token.i + 1].like_num)]
            if self.merge_spans:
                with doc.retokenize() as retok:
                    for i in tags:
                        retok.merge(doc[i : i + 2])
            else:  # both tokens of an unmerged hashtag are marked
                for i in tags:
                    doc[i]._.set(f"{p}_is_hashtag", True)
                    doc[i + 1]._.set(f"{p}_is_hashtag", True)
        for token in doc:
            text = token.text
            if text.startswith("@") and MENTION.fullmatch(text):
                token._.set(f"{p}_is_mention", True)
            elif text.startswith("#") and len(text) > 1 and text[1:].replace("_", "").isalnum():
                token._.set(f"{p}_is_hashtag", True)
            elif token.like_url or URL.fullmatch(text):
                token._.set(f"{p}_is_url", True)
        return doc


class CuesComponent:
    """Mark question and request cues, elongations and all-caps words."""

    def __init__(self, name: str, *, prefix: str):
        self.name, self.prefix = name, prefix
        _register(prefix, ("is_question_cue", "is_request_cue", "is_elongated", "is_all_caps"))
        _register_doc_getters(prefix)

    def __call__(self, doc: Doc) -> Doc:
        p = self.prefix
        for token in doc:
            lower = token.lower_
            if lower in QUESTION_WORDS or token.text in _QUESTION_MARKS:
                token._.set(f"{p}_is_question_cue", True)
            if lower in REQUEST_WORDS:
                token._.set(f"{p}_is_request_cue", True)
            if token.is_alpha and is_elongated(token.text):
                token._.set(f"{p}_is_elongated", True)
            if token.is_alpha and len(token.text) > 1 and token.is_upper:
                token._.set(f"{p}_is_all_caps", True)
        return doc


@lru_cache(maxsize=4)
def _cached_model(path: str | None):
    from .persistence import load_model

    return load_model(path)


class ClassifierComponent:
    """Fill ``doc.cats`` with a commentqa model's probabilities, in batches.

    The model is loaded (and checked) when the component is made, so a wrong ``model`` path
    fails at ``add_pipe`` or ``spacy.load``, not at the first document. Models are shared
    between components by their resolved folder.
    """

    def __init__(self, name: str, *, model: str | None, batch_size: int):
        self.name, self.batch_size = name, batch_size
        # Resolved now: a relative path means the folder as seen from here, whatever the
        # working directory is later, and two folders of the same name are not confused.
        self.model_path = None if model is None else str(Path(model).expanduser().resolve())
        _cached_model(self.model_path)

    @property
    def model(self):
        return _cached_model(self.model_path)

    def _set(self, docs: list[Doc]) -> None:
        proba = self.model.predict_proba([d.text for d in docs])
        labels = self.model.labels
        for doc, row in zip(docs, proba):
            doc.cats = {label: float(p) for label, p in zip(labels, row)}

    def __call__(self, doc: Doc) -> Doc:
        self._set([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        size = batch_size or self.batch_size
        batch: list[Doc] = []
        for doc in stream:
            batch.append(doc)
            if len(batch) >= size:
                self._set(batch)
                yield from batch
                batch = []
        if batch:
            self._set(batch)
            yield from batch


@Language.factory("commentqa_emoji", default_config={"merge_spans": True,
                                                     "prefix": DEFAULT_PREFIX})
def make_emoji_component(nlp: Language, name: str, merge_spans: bool,
                         prefix: str) -> EmojiComponent:
    return EmojiComponent(name, merge_spans=merge_spans, prefix=prefix)


@Language.factory("commentqa_social", default_config={"merge_spans": True,
                                                      "prefix": DEFAULT_PREFIX})
def make_social_component(nlp: Language, name: str, merge_spans: bool,
                          prefix: str) -> SocialComponent:
    return SocialComponent(name, merge_spans=merge_spans, prefix=prefix)


@Language.factory("commentqa_cues", default_config={"prefix": DEFAULT_PREFIX})
def make_cues_component(nlp: Language, name: str, prefix: str) -> CuesComponent:
    return CuesComponent(name, prefix=prefix)


@Language.factory("commentqa_classifier", default_config={"model": None, "batch_size": 1000})
def make_classifier_component(nlp: Language, name: str, model: str | None,
                              batch_size: int) -> ClassifierComponent:
    return ClassifierComponent(name, model=model, batch_size=batch_size)
