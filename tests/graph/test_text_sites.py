"""Text sites: small sites' links that meet in their posts' template (research.graph.events)."""

from __future__ import annotations

import datetime as dt

from research.graph.events import coarse_sites, encode, site_keys, text_sites, with_texts
from research.posts import Posts

T0 = dt.datetime(2014, 5, 1)
TEMPLATE = "If I didn't try this my life wouldn't have changed"


def _post(i: int, account: str, url: str, text: str, *, repost: bool = False) -> dict:
    return {
        "post_id": str(i),
        "account_id": account,
        "timestamp": T0 + dt.timedelta(minutes=i),
        "app_name": "Twitter for iPhone",
        "urls": [url],
        "domains": [url.split("/")[2]],
        "text": text,
        "is_repost": repost,
    }


def _sites(rows: list[dict]) -> list[str]:
    events = encode(Posts.from_records(rows))
    codes, labels = site_keys(events)
    return [labels.values[int(c)].as_py() for c in codes]


def test_fresh_links_in_one_template_meet_in_a_text_site():
    rows = [_post(k, f"v{k}", f"http://bit.ly/s{k}", f"{w} {TEMPLATE}") for k, w in
            enumerate(["OMG", "lol", "wow", "seriously"])]  # fmt: skip
    # Shared-host subdomains of their own, and a short link two victims shared.
    rows += [_post(4, "v4", "http://slim4.blogspot.com/offer", TEMPLATE + " #diet"),
             _post(5, "v5", "http://bit.ly/pair", TEMPLATE), _post(6, "v6", "http://bit.ly/pair", TEMPLATE)]  # fmt: skip
    # Someone else's short links in their own words, and a popular page in the same words.
    rows += [_post(7, "b0", "http://bit.ly/own1", "lunch with the team at the new place"),
             _post(8, "b1", "http://bit.ly/own2", "finally finished the marathon training plan")]  # fmt: skip
    rows += [_post(9 + k, f"n{k}", "https://news.com/story", TEMPLATE) for k in range(3)]
    # A window of days, not of the campaign's twelve minutes (in which its words, on a popular
    # page too, would be written all along).
    rows.append({**_post(12, "b2", "https://news.com/later", "a week later"), "timestamp": T0 + dt.timedelta(days=7)})  # fmt: skip
    sites = _sites(rows)
    assert sites[:7] == ["text:if-i-didn-t-try-this"] * 7
    assert sites[7:9] == ["bit.ly/*@Twitter%20for%20iPhone"] * 2
    assert sites[9:12] == ["news.com"] * 3  # a site of three accounts keeps its own


def test_text_sites_are_not_coarse_and_need_two_accounts_and_texts():
    rows = [_post(k, f"v{k}", f"http://bit.ly/s{k}", TEMPLATE) for k in range(3)]
    rows += [_post(3 + k, "solo", f"http://bit.ly/t{k}", "same words from one account") for k in range(3)]  # fmt: skip
    events = encode(Posts.from_records(rows))
    codes, _labels = site_keys(events)
    text, coarse = text_sites(events)[codes], coarse_sites(events)[codes]
    assert text.tolist() == [True] * 3 + [False] * 3
    assert not (text & coarse).any() and coarse[3:].all()
    # Without texts there are no text sites; attaching them later (a Parquet dataset's lazy
    # column) gives the same keys as encoding a table that holds them.
    bare = encode(Posts.from_records([{**r, "text": None} for r in rows]))
    assert not text_sites(bare).any()
    attached = with_texts(encode(Posts.from_records([{**r, "text": None} for r in rows])),
                          Posts.from_records(rows).column("text"))  # fmt: skip
    assert (site_keys(attached)[0] == codes).all()


def test_reposts_keep_their_coarse_site():
    rows = [_post(k, f"v{k}", f"http://bit.ly/s{k}", TEMPLATE, repost=k > 0) for k in range(3)]
    assert not any(s.startswith("text:") for s in _sites(rows))


def _phrase_rows(elsewhere: bool) -> list[dict]:
    """Four accounts post a common phrase with short links of their own within minutes; with
    ``elsewhere``, thirty others write the same phrase without a link, a day apart each (all month)."""
    phrase = "good morning everyone have a great day"
    rows = [_post(k, f"v{k}", f"http://bit.ly/m{k}", phrase) for k in range(4)]
    rows.append({**_post(4, "b0", "https://news.com/a", "a month later"), "timestamp": T0 + dt.timedelta(days=30)})  # fmt: skip
    if elsewhere:
        for k in range(30):
            rows.append({**_post(5 + k, f"o{k}", "http://x.org/", phrase), "urls": [], "domains": [],
                         "timestamp": T0 + dt.timedelta(days=k)})  # fmt: skip
    return rows


def test_a_phrase_written_all_along_elsewhere_is_no_text_site():
    # Alone, the four look like a template (and at 10^7 simulated posts, chance repeats of the
    # background's sentences on short links were flagged this way).
    assert (
        _sites(_phrase_rows(elsewhere=False))[:4] == ["text:good-morning-everyone-have-a-great"] * 4
    )
    sites = _sites(_phrase_rows(elsewhere=True))
    assert not any(s.startswith("text:") for s in sites[:4])


def test_a_lazy_parquet_text_column_finds_the_phrase_elsewhere_too(tmp_path):
    import pyarrow.parquet as pq

    from research.scale.parquet import read_events

    path = tmp_path / "posts.parquet"
    pq.write_table(Posts.from_records(_phrase_rows(elsewhere=True)).table, path, row_group_size=7)
    events, texts = read_events(path)
    codes, labels = site_keys(with_texts(events, texts))
    assert not any(labels.values[int(c)].as_py().startswith("text:") for c in codes)
