"""Multilingual cue words behind the question, request and spam signals.

Lists are lower-case, matched as whole words after normalisation. They cover the
languages of the training corpus: English, Spanish, Portuguese, Malay/Indonesian,
Hindi in Latin script, French, German, Tagalog and Italian. They are signals for the
classifier, which weighs them against the n-grams; they do not decide a label.
"""

from __future__ import annotations

__all__ = ["INFO_NOUNS", "QUESTION_WORDS", "REQUEST_WORDS", "SPAM_PHRASES", "SPAM_WORDS"]

#: Interrogatives ("wh-words") and their equivalents.
QUESTION_WORDS: frozenset[str] = frozenset(
    """
    where what which how when who whose why whats wheres hows wat wht wer whr
    dónde donde cuánto cuanto cuál cual qué que cómo como cuándo cuando quién
    onde quanto qual quais quando porque
    mana dimana berapa brp bila bilakah apa bagaimana gimana camana cmne macam kenapa knp
    kahan kaha kya kitne kitna kitni kaise kab kaun konsa kyun
    où ou combien quel quelle quels comment quand pourquoi
    wo wie wieviel wieso welche welcher welches wann warum woher
    saan magkano paano kailan ano sino bakit
    dove quale quanti perché
    """.split()
)

#: Requests and politeness markers that turn a noun into an ask ("link pls").
REQUEST_WORDS: frozenset[str] = frozenset(
    """
    pls plz plss plis pliss please pleasee pleaseee plox
    porfa porfavor favor pfv pf
    tolong dong donk pls2 minta nak
    bitte svp stp
    po pakisend
    """.split()
)

#: Things people ask for: a request cue next to one of these is a strong question sign.
INFO_NOUNS: frozenset[str] = frozenset(
    """
    link links price prices pricing cost size sizes shade shades colour color recipe
    recipes source song brand name info details code discount stock available availability
    shipping delivery order tutorial routine ingredients measurements spec specs model lens
    camera setup settings
    precio precios talla tono receta enlace disponible envío envio
    preço preco valor tamanho tom receita
    harga saiz ukuran warna resepi resep stok ready
    daam keemat kimat rate
    prix taille teinte recette lien dispo livraison
    preis größe grosse farbe rezept verfügbar
    presyo magkano
    """.split()
)

#: Single words that self-promotion, bots and scams lean on.
SPAM_WORDS: frozenset[str] = frozenset(
    """
    subscribe subscribed subscriber subscribers sub4sub f4f l4l follow4follow followback
    collab collaboration ambassador promote promotion promo bitcoin btc crypto forex
    investment invest investing trader trading profit profits earn earning earned
    whatsapp telegram signals giveaway onlyfans
    sígueme suscríbete inscreva ganhe seguidores
    abonne abonnez folgt abonniert
    """.split()
)

#: Multi-word spam phrases (matched on normalised text).
SPAM_PHRASES: tuple[str, ...] = (
    "check my", "check out my", "my channel", "my page", "my profile", "follow me",
    "follow back", "dm us", "dm me", "dm her", "dm him", "send pic", "promote it",
    "work from home", "per week", "per day", "a week from", "account manager",
    "mi canal", "mi perfil", "meu canal", "meu perfil", "ma chaîne", "mein kanal",
)
