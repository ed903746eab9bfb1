"""The module against schema/options.json, the file its tables are
generated from: for every field with limits, a value at either end is
forwarded and one just outside is refused with 400 out_of_range naming the
field. The renderer is held to the same values by
tests/unit/worker/render_child/job_options_test.cpp, so a limit the two
disagree on fails one of them. Also: the generated files are current."""

import json
import os
import subprocess
import sys

import pytest

from test_validation import PDF, SHOT, U, forwarded, reject

# a route that takes the fields of each "endpoints" class
ROUTES = {"all": PDF, "pdf": PDF, "screenshot": SHOT,
          "website": "/v1/convert/website-to-pdf"}

REPO = os.path.join(os.path.dirname(__file__), "..", "..")
SCHEMA = os.path.join(REPO, "schema", "options.json")


def tables():
    with open(SCHEMA) as f:
        return json.load(f)["tables"]


# Where each table's fields sit in a request body.
PLACES = [("body", ()), ("pdf", ("pdf_options",)), ("margin", ("pdf_options", "margins")),
          ("band", ("pdf_options", "header")), ("band", ("pdf_options", "footer")),
          ("metadata", ("pdf_options", "metadata")), ("auth", ("auth",)),
          ("cookie", ("cookies", 0))]


def probes():
    out = []
    for table, prefix in PLACES:
        for f in tables()[table]:
            if "min" in f and "max" in f and f.get("module", True):
                out.append(pytest.param(prefix + (f["name"],), f,
                                        id=".".join(str(p) for p in prefix + (f["name"],))))
    return out


def value(field, n):
    if field["type"] == "string":
        return "a" * int(n)
    if field["type"] == "integer":
        return int(n)
    return n


# What must stand beside the probed field for the body to be valid.
def body_with(path, v):
    body = {"url": U}
    if path[0] == "cookies":
        body["cookies"] = [{"name": "n", "value": "v", "domain": "a.example"}]
        body["cookies"][0][path[2]] = v
        if path[2] == "url":
            del body["cookies"][0]["domain"]
            body["cookies"][0]["url"] = "https://a.example/" + "a" * (len(v) - 18) \
                if len(v) >= 18 else v
        if path[2] == "domain":
            body["cookies"][0]["domain"] = ("a." * (len(v) // 2) + "a" * (len(v) % 2))[:len(v)]
        if path[2] == "path" and v:
            body["cookies"][0]["path"] = "/" + v[1:]
        return body
    at = body
    for p in path[:-1]:
        at = at.setdefault(p, {})
    at[path[-1]] = v
    if path[:2] in (("pdf_options", "header"), ("pdf_options", "footer")) \
            and path[-1] != "content":
        at["content"] = "x"
    if path[0] == "auth":
        at.setdefault("username", "u")
        at.setdefault("password", "p")
    if path[-1] in ("page_width", "page_height"):
        body["pdf_options"]["page_width"] = body["pdf_options"]["page_height"] = v
    return body


@pytest.mark.parametrize("path,field", probes())
def test_every_limit_of_the_schema_is_the_modules(env, path, field):
    ngx, backend = env
    endpoint = ROUTES[field.get("endpoints", "all")]
    step = 0.001 if field["type"] == "number" else 1
    name = ".".join(str(p) for p in path).replace(".0.", "[0].")
    # No URL is 1 byte long: a cookie's url is probed at its maximum only.
    smallest = [] if path[-1] == "url" else [field["min"]]
    for n in smallest + [field["max"]]:
        forwarded(ngx, backend, body_with(path, value(field, n)), path=endpoint)
    outside = [field["max"] + step]
    if field["type"] != "string" or field["min"] > 0:
        outside.append(field["min"] - step)
    for n in outside:
        err = reject(ngx, backend, body_with(path, value(field, n)), 400, "out_of_range",
                     None, path=endpoint)
        assert err["field"].replace(".0.", "[0].") == name or err["field"] == name, err


def test_generated_files_are_current():
    r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "options_schema.py"),
                        "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def number_text(v):
    return str(int(v)) if float(v).is_integer() else str(v)


def test_validation_md_gives_the_schemas_ranges():
    """docs/validation.md repeats the ranges of the fields it lists (it is
    the module's error reference); each row of a field with limits in
    schema/options.json names exactly that field's min..max. Before, it
    said 1..1024 bytes for wait_for_selector (1000), page sizes > 0 and
    <= 5000 mm (10..5080) and band heights 0..1000 mm (1..200)."""
    with open(os.path.join(REPO, "docs", "validation.md")) as f:
        rows = [line for line in f if line.startswith("| `")]
    limited = {}
    for table in ("body", "pdf"):
        for field in tables()[table]:
            if "min" in field and "max" in field:
                limited[field["name"]] = field
    checked = 0
    for row in rows:
        cells = row.split("|")
        names = [n for n in cells[1].split("`")[1::2]]
        rule = cells[3]
        for name in names:
            if name not in limited:
                continue
            f = limited[name]
            want = f"{number_text(f['min'])}..{number_text(f['max'])}"
            assert want in rule, f"validation.md, {name}: {rule.strip()!r} lacks {want}"
            checked += 1
    assert checked >= 12, checked
    bands = [r for r in rows if r.startswith("| `header`, `footer`")]
    height = next(f for f in tables()["band"] if f["name"] == "height")
    assert bands and f"`height` number in mm, {number_text(height['min'])}.." \
        f"{number_text(height['max'])}" in bands[0], bands
