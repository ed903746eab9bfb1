"""tools/easylist_to_webkit.py on real EasyList lines, and the list it made
(worker/src/render_child/ad_rules.json) against WebKit's limits. WebKit
itself compiling the shipped list is shown end to end
(tests/e2e/test_render_behaviour.py, test_block_ads)."""

import json
import os
import re
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools"))
import easylist_to_webkit as conv  # noqa: E402

SHIPPED = os.path.join(REPO, "worker", "src", "render_child", "ad_rules.json")
# ContentExtensionParser's limit on the rules of one list.
WEBKIT_MAX_RULES = 150000


def matches(rule, url):
    """WebKit's url-filter semantics for the subset the tool writes, with
    Python's re (the same meaning for these constructs)."""
    trigger = rule["trigger"]
    flags = 0 if trigger.get("url-filter-is-case-sensitive") else re.I
    return re.search(trigger["url-filter"], url, flags) is not None


def test_host_anchor_matches_host_and_subdomains_only():
    rule = conv.convert_filter("||doubleclick.net^")
    assert rule["action"] == {"type": "block"}
    assert "resource-type" not in rule["trigger"]  # every load
    for url in ("https://doubleclick.net/", "http://ad.doubleclick.net/x?y=1",
                "https://doubleclick.net", "https://doubleclick.net:443/a"):
        assert matches(rule, url), url
    for url in ("https://notdoubleclick.net/", "https://doubleclick.network/",
                "https://example.com/?u=doubleclick.net"):
        assert not matches(rule, url), url


def test_path_rule_with_type():
    rule = conv.convert_filter("/pagead/conversion.js$script")
    assert rule["trigger"]["resource-type"] == ["script"]
    assert matches(rule, "http://127.0.0.1:8080/pagead/conversion.js?t=1")
    assert not matches(rule, "http://127.0.0.1/pagead/conversionXjs")


def test_negated_type_keeps_the_others():
    rule = conv.convert_filter("-ad-manager/$~stylesheet")
    types = rule["trigger"]["resource-type"]
    assert "style-sheet" not in types and "script" in types and "image" in types
    assert "document" not in types


def test_third_party_frames_never_the_page():
    rule = conv.convert_filter("&subaffid=%$subdocument,third-party")
    assert rule["trigger"]["load-type"] == ["third-party"]
    assert rule["trigger"]["resource-type"] == ["document"]
    assert rule["trigger"]["load-context"] == ["child-frame"]


def test_excluded_domain():
    rule = conv.convert_filter("/banner-ads/*$image,domain=~1agosto.com")
    assert rule["trigger"]["unless-domain"] == ["*1agosto.com"]
    assert rule["trigger"]["resource-type"] == ["image"]
    assert matches(rule, "https://x.org/banner-ads/a.png")


def test_exception_with_domain():
    rule = conv.convert_filter(
        "@@||googleadservices.com/pagead/conversion_async.js$script,domain=zubizu.com")
    assert rule["action"] == {"type": "ignore-previous-rules"}
    assert rule["trigger"]["if-domain"] == ["*zubizu.com"]
    assert matches(rule, "https://www.googleadservices.com/pagead/conversion_async.js")


def test_separator_at_the_end_is_separator_or_end():
    rule = conv.convert_filter("/ad.php^")
    assert matches(rule, "https://e.com/ad.php")
    assert matches(rule, "https://e.com/ad.php?x=1")
    assert not matches(rule, "https://e.com/ad.phpx")


@pytest.mark.parametrize("line, reason", [
    ("##.ad-banner", "cosmetic"),
    ("example.com##.sponsored", "cosmetic"),
    ("example.com#@#.ad", "cosmetic"),
    ("example.com#?#div:-abp-has(.ad)", "cosmetic"),
    ("||example.com^$popup", "option-popup"),
    ("||example.com^$csp=script-src 'none'", "option-csp"),
    ("@@||example.com^$generichide", "option-generichide"),
    ("/^https?:\\/\\/[a-z]{8}\\.com\\//$script", "regex-filter"),
    ("-ads/$domain=a.com|~b.a.com", "domain-mixed"),
    ("-ads/$domain=google.*", "domain-syntax"),
    ("||ex\u00e4mple.de^", "non-ascii"),
    ("! Title: EasyList", "comment"),
    ("*", "matches-everything"),
])
def test_unsupported_lines_are_skipped(line, reason):
    with pytest.raises(conv.Skip) as skipped:
        conv.convert_filter(line)
    assert skipped.value.args[0] == reason


def test_exceptions_follow_blocks_and_the_page_is_spared():
    lines = ["@@||good.example^", "||ads.example^", "##.ad", "/banner/*$image"]
    rules, stats = conv.convert(lines, 100)
    actions = [r["action"]["type"] for r in rules]
    assert actions == ["block", "block", "ignore-previous-rules", "ignore-previous-rules"]
    assert rules[-1] == conv.TOP_DOCUMENT
    assert stats["skipped cosmetic"] == 1
    assert stats["block rules"] == 2 and stats["exception rules"] == 1


def test_a_list_over_the_limit_is_cut_never_its_exceptions():
    lines = [f"-ad{i}-" for i in range(10)] + ["@@-ad1-$image"]
    rules, stats = conv.convert(lines, 5)
    assert len(rules) == 5
    assert stats["cut over the limit"] == 7
    assert [r["action"]["type"] for r in rules][-2:] == ["ignore-previous-rules"] * 2


def test_main_writes_one_rule_a_line(tmp_path):
    src = tmp_path / "list.txt"
    src.write_text("[Adblock Plus 2.0]\n||ads.example^\n/pagead/x.js$script\n")
    out = tmp_path / "rules.json"
    assert conv.main([str(src), "-o", str(out)]) == 0
    text = out.read_text()
    assert len(json.loads(text)) == 3
    assert len(text.splitlines()) == 5  # brackets and one line a rule


# WebKit's url-filter: no alternation, no counted repetition, no
# backreferences, ASCII (URLFilterParser refuses the list otherwise).
UNSUPPORTED = re.compile(r"(?<!\\)\||(?<!\\)\{|\\[1-9bBdDsSwW]")


def test_shipped_list_stays_within_webkit_limits():
    with open(SHIPPED, encoding="ascii") as f:
        rules = json.load(f)
    assert 1000 < len(rules) <= WEBKIT_MAX_RULES
    for rule in rules:
        url_filter = rule["trigger"]["url-filter"]
        assert not UNSUPPORTED.search(url_filter), url_filter
        assert rule["action"]["type"] in ("block", "ignore-previous-rules")
    assert rules[-1] == conv.TOP_DOCUMENT


def may_match(rule, url):
    """False when a literal part of the rule's url-filter is not in `url`
    (compiling all the list's expressions would take half a minute)."""
    text = rule["trigger"]["url-filter"]
    for construct in (conv.HOST_ANCHOR, conv.SEPARATOR, ".*", "(", ")?$"):
        text = text.replace(construct, "\0")
    pieces = re.sub(r"\\(.)", r"\1", text).split("\0")
    return all(p.strip("^$").lower() in url.lower() for p in pieces)


def test_shipped_list_blocks_what_the_e2e_page_loads():
    """The loopback URLs of test_block_ads: blocked by a generic EasyList
    path rule, lifted by no exception."""
    with open(SHIPPED, encoding="ascii") as f:
        rules = json.load(f)[:-1]
    for url, kind in (("http://127.0.0.1:8080/pagead/conversion.js?t=1", "script"),
                      ("http://127.0.0.1:8080/banner-ad.png?t=1", "image")):
        hits = [r for r in rules if may_match(r, url) and matches(r, url) and
                kind in r["trigger"].get("resource-type", [kind]) and
                "if-domain" not in r["trigger"] and "load-type" not in r["trigger"]]
        assert any(r["action"]["type"] == "block" for r in hits), url
        assert not any(r["action"]["type"] != "block" for r in hits), url
