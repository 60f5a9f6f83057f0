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


#: Interchangeable phrasings of each pitch: a paraphrased campaign rewrites every post from
#: these slots, so that no two texts need be near-duplicates (word 3-shingles rarely repeat).
_PARAPHRASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "weheartit": (
        ("honestly", "ok so", "no joke", "seriously", "I swear", "not gonna lie", ""),
        (
            "this diet",
            "this little trick",
            "the thing my sister sent me",
            "this plan",
            "these pills",
        ),
        (
            "changed my life",
            "worked for me",
            "made me drop two sizes",
            "is the real deal",
            "actually works",
        ),
        ("check it", "look", "see for yourself", "read this", "try it", "you have to see this"),
    ),
    "followers": (
        ("wow", "finally", "guys", "so", "omg", ""),
        (
            "I got tons of followers",
            "my follower count exploded",
            "followers are pouring in",
            "so many new fans",
        ),
        ("with this app", "thanks to this", "using this site", "from this tool"),
        ("try it", "it's free", "go get yours", "link here"),
    ),
    "crypto": (
        ("breaking", "live now", "today only", "hurry", ""),
        (
            "they are giving away coins",
            "double your btc",
            "free eth for everyone",
            "huge crypto bonus",
        ),
        ("for the first users", "while it lasts", "to celebrate the launch", "no catch"),
        ("claim here", "join now", "details", "get yours"),
    ),
    "phishing": (
        ("hey", "lol", "wait", "umm", "hahaha", ""),
        ("is this you", "someone posted you", "you're in this", "look what they wrote about you"),
        ("in this photo", "in this video", "on this page", "here"),
        ("??", "!!", "", "omg"),
    ),
}


def paraphrase_pool(template: str, rng: np.random.Generator, size: int = 200) -> list[str]:
    """Every text a fresh rewording of the campaign's pitch (slots shuffled and varied)."""
    slots = _PARAPHRASES.get(template, _PARAPHRASES["weheartit"])
    words = np.asarray(_WORDS, dtype=object)
    out = []
    for _ in range(size):
        parts = [slot[rng.integers(len(slot))] for slot in slots]
        order = rng.permutation(len(parts)) if rng.random() < 0.5 else np.arange(len(parts))
        filler = " ".join(words[rng.integers(0, len(words), size=int(rng.integers(0, 4)))])
        text = " ".join(p for p in (parts[i] for i in order) if p) + (
            " " + filler if filler else ""
        )
        out.append(text[:1].upper() + text[1:])
    return out


_PRIZES = (
    "a new phone",
    "a year of coffee",
    "concert tickets",
    "a $500 gift card",
    "a trip for two",
    "the new console",
)


def giveaway_pool(brand: str, rng: np.random.Generator, size: int) -> list[str]:
    """The prefilled texts of a giveaway's share button, lightly edited by participants."""
    name = brand.split(".")[0].capitalize()
    out = []
    for _ in range(size):
        prize = _PRIZES[rng.integers(len(_PRIZES))]
        text = f"I just entered to win {prize} from {name}! #giveaway"
        if rng.random() < 0.3:
            text = "Enter now: " + text
        if rng.random() < 0.3:
            text += " good luck everyone"
        out.append(text)
    return out


def headline_pool(rng: np.random.Generator, size: int) -> list[str]:
    """News and feed item titles."""
    return [f"Breaking: {s.lower()}" for s in organic_pool(rng, size)]


def template_names() -> tuple[str, ...]:
    """Names of the campaign templates."""
    return tuple(_TEMPLATES)
