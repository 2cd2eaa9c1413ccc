"""Webhooks' pure rules (podium/domain/webhooks.py): a webhook's settings and its URL against
the allow-list, the signature a receiver checks, delivery ids, the retry schedule."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from podium.domain import webhooks as wh
from podium.errors import InvalidInput

SECRET = "a-secret-of-16-chars-or-more"


def body(**changes: object) -> dict[str, object]:
    return {"url": "https://hooks.example.com/podium", "events": ["period_ended"], "secret": SECRET, **changes}


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("https://hooks.example.com/podium", ["hooks.example.com"]),
        ("http://hooks.example.com:8080/x", ["hooks.example.com"]),  # a host: any port, either scheme
        ("https://a.b.example.com/", ["*.example.com"]),
        ("https://HOOKS.example.com/p", ["hooks.example.com"]),
        ("http://127.0.0.1:9000/hook", ["127.0.0.1"]),
        ("http://[::1]:9000/hook", ["[::1]"]),
        ("https://x.example/podium/period", ["https://x.example/podium/"]),
        ("https://x.example/podium", ["https://x.example/podium"]),
        ("https://x.example/podium?k=1", ["https://x.example/podium"]),
    ],
)
def test_an_allowed_url_passes(url: str, allow: list[str]) -> None:
    wh.check_url(url, allow)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("https://hooks.example.com/podium", []),  # nothing allowed by default
        ("https://evil.com/podium", ["hooks.example.com"]),
        ("https://hooks.example.com.evil.com/", ["hooks.example.com"]),
        ("https://example.com/", ["*.example.com"]),  # the wildcard is for subdomains
        ("https://x.example/podiumx", ["https://x.example/podium"]),  # a prefix ends at a URL part
        ("https://x.example.evil/podium", ["https://x.example"]),
        ("http://x.example/podium/", ["https://x.example/podium/"]),  # a prefix fixes the scheme
    ],
)
def test_a_url_outside_the_allow_list_is_a_422(url: str, allow: list[str]) -> None:
    with pytest.raises(wh.UrlNotAllowed) as refused:
        wh.check_url(url, allow)
    assert refused.value.code == "url_not_allowed"


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "hooks.example.com", "https:///x", "https://u:p@hooks.example.com/"]
)
def test_a_url_that_is_no_http_url_is_a_400(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        wh.check_url(url, ["hooks.example.com"])
    assert refused.value.code == "invalid_url"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"events": []}, "invalid_events"),
        ({"events": ["period_started"]}, "invalid_events"),
        ({"events": "period_ended"}, "invalid_events"),
        ({"secret": "short"}, "invalid_secret"),
        ({"secret": None}, "invalid_secret"),
        ({"url": 5}, "invalid_url"),
        ({"colour": "red"}, "invalid_body"),
    ],
)
def test_bad_settings_are_refused_saying_which(changes: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        wh.check_webhook("h", body(**changes), ["hooks.example.com"], 1)
    assert refused.value.code == code


def test_a_webhook_keeps_its_events_once_in_order_and_never_shows_its_secret() -> None:
    hook = wh.check_webhook(
        "h", body(events=["tier_changed", "period_ended", "tier_changed"]), ["hooks.example.com"], 7
    )
    assert hook.events == ("tier_changed", "period_ended")
    assert hook.wants("period_ended") and not hook.wants("tournament_ended")
    assert "secret" not in hook.to_json() and SECRET not in str(hook.to_json())


def test_the_signature_is_the_hmac_sha256_of_the_exact_body() -> None:
    raw = b'{"id":"dlv_1","event":"period_ended"}'
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert wh.sign(SECRET, raw) == expected
    assert wh.signed_by(SECRET, raw, expected)
    assert not wh.signed_by(SECRET, raw + b" ", expected)
    assert not wh.signed_by("another-secret-of-16+", raw, expected)


def test_delivery_ids_are_the_same_in_every_process_and_differ_by_what_they_tell() -> None:
    hook = wh.Webhook("h", "https://hooks.example.com/", ("period_ended",), SECRET, 100)
    same = wh.delivery_id(hook, "period_ended", "arena/day/2026-12-07")
    assert same == wh.delivery_id(hook, "period_ended", "arena/day/2026-12-07")
    others = {
        wh.delivery_id(hook, "period_ended", "arena/day/2026-12-08"),
        wh.delivery_id(hook, "tournament_ended", "arena/day/2026-12-07"),
        wh.delivery_id(wh.Webhook("h", hook.url, hook.events, SECRET, 101), "period_ended", "arena/day/2026-12-07"),
        wh.delivery_id(wh.Webhook("g", hook.url, hook.events, SECRET, 100), "period_ended", "arena/day/2026-12-07"),
    }
    assert same not in others and len(others) == 4


def test_backoff_doubles_from_the_first_wait_up_to_the_cap() -> None:
    assert [wh.backoff_s(n, 2, 3600) for n in range(1, 8)] == [2, 4, 8, 16, 32, 64, 128]
    assert wh.backoff_s(12, 2, 3600) == 3600
    assert wh.backoff_s(10_000, 2, 3600) == 3600  # no overflow however many tries
    # Up to a day of tries at the defaults: about 30 of them.
    elapsed, tries = 0.0, 0
    while elapsed < 86_400:
        tries += 1
        elapsed += wh.backoff_s(tries, 2, 3600)
    assert 25 <= tries <= 35
