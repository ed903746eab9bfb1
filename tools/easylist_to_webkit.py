#!/usr/bin/python3
"""Turns Adblock Plus filter lists (EasyList, EasyPrivacy) into a WebKit
content rule list (the JSON WebKitUserContentFilterStore compiles).

Only network filters WebKit can express are kept; the others are counted
by reason and skipped (docs/rendering.md, "block_ads"):
  - `||host^...` (host and its subdomains), `|` anchors, `*` and `^`;
  - `$third-party`/`~third-party`, the resource types of TYPES,
    `$domain=` (all included or all excluded), `$match-case`;
  - `@@` exceptions become `ignore-previous-rules` rules after every block
    rule, so an exception lifts the blocks of every list.
Cosmetic filters (`##` and kin), regular-expression filters, options
WebKit has no trigger for (`$redirect`, `$csp`, `$popup`, ...) and
patterns WebKit's url-filter cannot hold are skipped.

Standard library only: `make ad-rules` runs it on the lists of Debian's
webext-ublock-origin-firefox package.
"""

import argparse
import collections
import json
import re
import sys

# ABP resource types -> WebKit resource-type values (WebKitGTK 2.50).
TYPES = {
    "script": "script",
    "image": "image",
    "stylesheet": "style-sheet",
    "font": "font",
    "media": "media",
    "xmlhttprequest": "fetch",
    "xhr": "fetch",
    "websocket": "websocket",
    "ping": "ping",
    "other": "other",
    "object": "other",
}
# What a filter with only negated types (`$~script`) blocks.
SUBRESOURCES = ["image", "style-sheet", "script", "font", "media",
                "svg-document", "fetch", "websocket", "ping", "other"]
# The last rule: whatever matched, the page the client asked for loads
# (ABP filters never block the top document without `$document`).
TOP_DOCUMENT = {
    "trigger": {"url-filter": ".*", "resource-type": ["document"],
                "load-context": ["top-frame"]},
    "action": {"type": "ignore-previous-rules"},
}
# Options that change nothing for a blocking filter here.
IGNORED_OPTIONS = {"important", "all", "1p", "3p", "first-party"}
# Options WebKit has no trigger or action for: the filter is skipped.
UNSUPPORTED_OPTIONS = {
    "popup", "document", "doc", "elemhide", "ehide", "generichide", "ghide",
    "specifichide", "shide", "csp", "redirect", "redirect-rule", "rewrite",
    "removeparam", "queryprune", "replace", "header", "badfilter", "denyallow",
    "to", "from", "method", "permissions", "cname", "genericblock",
    "inline-script", "inline-font", "empty", "mp4", "webrtc", "frame",
    "urltransform", "uritransform", "strict1p", "strict3p", "ipaddress",
    "urlskip", "reason",
}
# ABP's separator `^`: any character but a letter, a digit or _ - . %
SEPARATOR = "[^a-zA-Z0-9_.%-]"
# `||`: any scheme, then the host or one of its subdomains.
HOST_ANCHOR = "^[a-z][a-z0-9.+-]*://([^/?#]*\\.)?"
# Domains of $domain= WebKit accepts (lower-case ASCII, no wildcards).
DOMAIN = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
COSMETIC = re.compile(r"#[@?$%]?#|#@[$%?]#|\$\$|\$@\$")


class Skip(Exception):
    """A filter WebKit cannot express; the argument says why."""


def pattern_to_regex(pattern):
    """The url-filter of an ABP pattern, in WebKit's regex subset (no
    alternation, no counted repetition, ASCII only)."""
    if not pattern.isascii():
        raise Skip("non-ascii")
    regex = ""
    rest = pattern
    if rest.startswith("||"):
        regex = HOST_ANCHOR
        rest = rest[2:]
        if not rest or rest[0] in "*^":
            raise Skip("empty-host")
    elif rest.startswith("|"):
        regex = "^"
        rest = rest[1:]
    end_anchor = rest.endswith("|")
    if end_anchor:
        rest = rest[:-1]
    rest = rest.strip("*") if regex == "" else rest.rstrip("*")
    if not rest:
        raise Skip("matches-everything")
    for i, c in enumerate(rest):
        if c == "*":
            regex += ".*"
        elif c == "^":
            # At the end `^` also matches the end of the URL: a group
            # made optional stands in for the alternation WebKit lacks.
            if i == len(rest) - 1 and not end_anchor:
                regex += "(" + SEPARATOR + ".*)?$"
            else:
                regex += SEPARATOR
        elif c in ".+?$(){}[]\\|":
            regex += "\\" + c
        else:
            regex += c
    if end_anchor:
        regex += "$"
    return regex


def parse_domains(value):
    """if-domain or unless-domain of a $domain= option."""
    included, excluded = [], []
    for entry in value.split("|"):
        entry = entry.strip().lower()
        negated = entry.startswith("~")
        entry = entry.lstrip("~")
        if not DOMAIN.match(entry):
            raise Skip("domain-syntax")
        (excluded if negated else included).append("*" + entry)
    if included and excluded:
        raise Skip("domain-mixed")
    if included:
        return "if-domain", included
    return "unless-domain", excluded


def convert_filter(line):
    """One filter line -> a WebKit rule (dict); Skip when it has none."""
    line = line.strip()
    if not line or line.startswith("!") or line.startswith("["):
        raise Skip("comment")
    if COSMETIC.search(line):
        raise Skip("cosmetic")
    exception = line.startswith("@@")
    if exception:
        line = line[2:]
    pattern, options = line, ""
    dollar = line.rfind("$")
    if dollar >= 0 and not (line.startswith("/") and line.endswith("/")):
        pattern, options = line[:dollar], line[dollar + 1:]
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        raise Skip("regex-filter")

    trigger = {}
    types, negated_types = [], []
    for option in filter(None, options.split(",")):
        name, _, value = option.partition("=")
        name = name.strip().lower()
        negated = name.startswith("~")
        bare = name.lstrip("~")
        if bare == "third-party" or bare == "3p":
            trigger["load-type"] = ["first-party" if negated
                                    else "third-party"]
        elif bare in ("first-party", "1p"):
            trigger["load-type"] = ["third-party" if negated
                                    else "first-party"]
        elif bare == "subdocument":
            if negated:
                raise Skip("negated-subdocument")
            if types or negated_types:
                raise Skip("subdocument-with-types")
            types.append("subdocument")
        elif bare in TYPES:
            (negated_types if negated else types).append(TYPES[bare])
        elif bare == "domain":
            key, domains = parse_domains(value)
            trigger[key] = domains
        elif bare == "match-case":
            trigger["url-filter-is-case-sensitive"] = True
        elif bare in IGNORED_OPTIONS:
            continue
        elif bare in UNSUPPORTED_OPTIONS:
            raise Skip("option-" + bare)
        else:
            raise Skip("option-unknown")

    if "subdocument" in types:
        if len(types) > 1:
            raise Skip("subdocument-with-types")
        # Frames only, never the page itself.
        trigger["resource-type"] = ["document"]
        trigger["load-context"] = ["child-frame"]
    elif types:
        trigger["resource-type"] = sorted(set(types))
    elif negated_types:
        trigger["resource-type"] = [t for t in SUBRESOURCES
                                    if t not in negated_types]
    # No type: every load, frames included (TOP_DOCUMENT spares the page).
    trigger = {"url-filter": pattern_to_regex(pattern), **trigger}
    action = {"type": "ignore-previous-rules" if exception else "block"}
    return {"trigger": trigger, "action": action}


def convert(lines, max_rules):
    """(rules, stats): block rules first, then the exceptions and
    TOP_DOCUMENT; at most max_rules in all (WebKit refuses a longer
    list): block rules are cut, never an exception."""
    blocks, exceptions = [], []
    stats = collections.Counter()
    seen = set()
    for line in lines:
        try:
            rule = convert_filter(line)
        except Skip as why:
            stats["skipped " + why.args[0]] += 1
            continue
        key = json.dumps(rule, sort_keys=True)
        if key in seen:
            stats["skipped duplicate"] += 1
            continue
        seen.add(key)
        if rule["action"]["type"] == "block":
            blocks.append(rule)
        else:
            exceptions.append(rule)
    exceptions = exceptions[:max_rules - 1] + [TOP_DOCUMENT]
    room = max_rules - len(exceptions)
    if len(blocks) > room:
        stats["cut over the limit"] += len(blocks) - room
        blocks = blocks[:room]
    stats["block rules"] = len(blocks)
    stats["exception rules"] = len(exceptions) - 1
    return blocks + exceptions, stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("lists", nargs="+", help="ABP filter list files")
    parser.add_argument("-o", "--output", required=True,
                        help="the WebKit content rule list (JSON)")
    # WebKit's ContentExtensionParser refuses lists of more than 150000
    # rules ("too many rules"); a margin keeps us clear of it.
    parser.add_argument("--max-rules", type=int, default=140000)
    args = parser.parse_args(argv)
    lines = []
    for path in args.lists:
        with open(path, encoding="utf-8") as f:
            lines.extend(f.read().splitlines())
    rules, stats = convert(lines, args.max_rules)
    with open(args.output, "w", encoding="ascii") as out:
        # One rule a line: diffs of a regenerated list stay readable.
        out.write("[\n")
        out.write(",\n".join(json.dumps(r, separators=(",", ":"))
                             for r in rules))
        out.write("\n]\n")
    for name, count in sorted(stats.items()):
        print(f"{name}: {count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
