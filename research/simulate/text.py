"""Post texts: an organic sentence pool and templated campaign messages with variations."""

from __future__ import annotations

import numpy as np

_WORDS = (
    "the a my our this that today tonight morning weekend love loving great good best new old "
    "happy sad tired excited finally really so very just still never always again here there "
    "coffee music game match team city home work school class friends family dog cat food "
    "dinner lunch movie show song album photo pic video news story article read watch listen "
    "think know feel want need go going went come back out up down see look check follow "
    "thanks thank you everyone people life day night week year time moment summer winter rain "
    "sun beach trip travel flight train bus road run running gym win won lost play playing "
    "guess wait ready done fun crazy amazing beautiful funny weird cool nice lol omg wow yes "
    "no maybe why how what when where who can cant wont dont didnt should would could must"
).split()

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "weheartit": (
        "If I didn't try this my life wouldn't have changed",
        "if i didnt try this my life wouldnt have changed",
        "I can't believe how much weight I lost with this",
        "Lost 10 pounds in two weeks, this is unreal",
        "Women's Health says this is the diet secret of the year",
    ),
    "followers": (
        "Get 1000 new followers today for free",
        "I got 500 followers in one hour with this",
        "Want more followers? This app really works",
    ),
    "crypto": (
        "Giving back to the community: send 0.1 BTC, get 1 BTC back",
        "Huge giveaway live now, first 500 people only",
        "Double your crypto today, official event",
    ),
    "phishing": (
        "Is this you in this photo?? lol",
        "Someone is spreading rumours about you, look",
        "Haha you look so different here",
    ),
}

_SUFFIXES = ("", "", " !!", " :)", " omg", " #health", " #diet", " wow", " <3", " ...")
_PREFIXES = ("", "", "", "OMG ", "Wow, ", "Seriously, ", "LOL ")


def organic_pool(rng: np.random.Generator, size: int) -> list[str]:
    """Short organic-looking sentences (random words; no meaning needed, only variety)."""
    words = np.asarray(_WORDS, dtype=object)
    lengths = rng.integers(4, 16, size=size)
    picks = rng.integers(0, len(words), size=int(lengths.sum()))
    out: list[str] = []
    pos = 0
    for n in lengths:
        sentence = " ".join(words[picks[pos : pos + n]])
        out.append(sentence[0].upper() + sentence[1:])
        pos += n
    return out


def campaign_pool(template: str, rng: np.random.Generator, size: int = 200) -> list[str]:
    """Variants of a campaign template: case, prefixes, suffixes and random tokens."""
    bases = _TEMPLATES.get(template, _TEMPLATES["weheartit"])
    out = []
    for _ in range(size):
        base = bases[rng.integers(len(bases))]
        text = (
            _PREFIXES[rng.integers(len(_PREFIXES))] + base + _SUFFIXES[rng.integers(len(_SUFFIXES))]
        )
        if rng.random() < 0.3:
            text = text.lower()
        if rng.random() < 0.3:
            text += " " + "".join(rng.choice(list("abcdefghijkmnpqrstuvwxyz23456789"), size=5))
        out.append(text)
    return out


def headline_pool(rng: np.random.Generator, size: int) -> list[str]:
    """News and feed item titles."""
    return [f"Breaking: {s.lower()}" for s in organic_pool(rng, size)]


def template_names() -> tuple[str, ...]:
    """Names of the campaign templates."""
    return tuple(_TEMPLATES)
