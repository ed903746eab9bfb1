"""docs/openapi.yaml against the module: the document is OpenAPI 3.1, it
lists exactly the routes and methods the module serves, every answer of a
sample of real requests through nginx with the module (and a scripted fake
worker that answers as worker/src/api/responses.cpp does) has a status the
document lists for its route and method and a JSON body of the documented
schema, and every limit, default-free range and enumeration the document
gives for a request field is the one the module enforces."""

import copy
import json
import os
import re
import subprocess
import time

import pytest

import ngxtest
import yaml

from ngxtest import (API_KEY, MODULE, REPO, accepted, auth, final, presign)

SPEC_FILE = os.path.join(REPO, "docs", "openapi.yaml")
MODULE_C = os.path.join(REPO, "ngx_module", "ngx_http_enconvert_module.c")

with open(SPEC_FILE) as _f:
    SPEC = yaml.safe_load(_f)

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
SITE_PDF = "/v1/convert/website-to-pdf"
SITE_SHOT = "/v1/convert/website-to-screenshot"
WEBSITE = (SITE_PDF, SITE_SHOT)
REQUEST_SCHEMA = {PDF: "PdfRequest", SHOT: "ScreenshotRequest",
                  SITE_PDF: "WebsitePdfRequest",
                  SITE_SHOT: "WebsiteScreenshotRequest"}
U = "https://a.example/"
JOB = "job_" + "0123456789abcdef" * 2
BATCH = "batch_" + "fedcba9876543210" * 2
FILE_KEY = ("live/files/0123456789abcdef/url-to-pdf/"
            "example-com_20261202T082155Z_41.pdf")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Route names of the hosted vendor API and near misses: not served here,
# so not documented either.
UNSERVED = ("/v1/nope", "/v1/", "/v1/convert/", "/v1/convert/url-to-docx",
            "/v1/convert/url-to-pdf/x", "/v1/convert/status",
            "/v1/convert/website-to-pdf/x", "/v1/convert/website-to-docx",
            "/v1/health/x", "/v1/healthz",
            "/v1/files")


@pytest.fixture(scope="session")
def module_so():
    """The module as built: these tests check the document against it and
    build it only when it is missing (conftest's fixture rebuilds)."""
    if not os.path.exists(MODULE):
        subprocess.run([os.path.join(REPO, "scripts", "build-module.sh")],
                       check=True, stdout=subprocess.DEVNULL)
    assert os.path.exists(MODULE)
    return MODULE


# --- the document ----------------------------------------------------------

def resolve(node):
    """Follows local $refs ("#/components/...")."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = SPEC
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 20, "reference loop at " + ref
    return node


def schema(name):
    return resolve(SPEC["components"]["schemas"][name])


def _is(value, json_type):
    if json_type == "null":
        return value is None
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "number":
        return (isinstance(value, (int, float))
                and not isinstance(value, bool))
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "object":
        return isinstance(value, dict)
    raise AssertionError("unknown JSON type " + json_type)


def _same(a, b):
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _evaluated(s):
    """Property names a schema and its allOf parts define."""
    names = set(s.get("properties", {}))
    for sub in s.get("allOf", []):
        names |= _evaluated(resolve(sub))
    return names


def problems(sch, value, where="$"):
    """What is wrong with `value` by the schema: types, required members,
    members no schema allows, enums, consts, lengths, ranges, patterns
    (the JSON Schema keywords docs/openapi.yaml uses)."""
    s = resolve(sch)
    out = []
    for sub in s.get("allOf", []):
        out += problems(sub, value, where)
    if "anyOf" in s and all(problems(sub, value, where)
                            for sub in s["anyOf"]):
        out.append(f"{where}: {value!r} matches none of anyOf")
    if "oneOf" in s:
        n = sum(not problems(sub, value, where) for sub in s["oneOf"])
        if n != 1:
            out.append(f"{where}: {value!r} matches {n} of oneOf")
    if "const" in s and not _same(value, s["const"]):
        out.append(f"{where}: {value!r} is not {s['const']!r}")
    if "enum" in s and not any(_same(value, e) for e in s["enum"]):
        out.append(f"{where}: {value!r} not in {s['enum']!r}")
    if "type" in s:
        types = [s["type"]] if isinstance(s["type"], str) else s["type"]
        if not any(_is(value, t) for t in types):
            out.append(f"{where}: {value!r} is not of type {types}")
            return out
    if isinstance(value, dict):
        for name in s.get("required", []):
            if name not in value:
                out.append(f"{where}: required member {name!r} missing")
        for name, needs in s.get("dependentRequired", {}).items():
            if name in value:
                out += [f"{where}: {name!r} needs {n!r}" for n in needs
                        if n not in value]
        props = s.get("properties", {})
        for name, member in value.items():
            if name in props:
                out += problems(props[name], member, f"{where}.{name}")
        extra = set()
        if s.get("additionalProperties") is False:
            extra = set(value) - set(props)
        if s.get("unevaluatedProperties") is False:
            extra = set(value) - _evaluated(s)
        out += [f"{where}: member {n!r} is not documented"
                for n in sorted(extra)]
    if isinstance(value, list):
        if "items" in s:
            for i, item in enumerate(value):
                out += problems(s["items"], item, f"{where}[{i}]")
        if len(value) < s.get("minItems", 0):
            out.append(f"{where}: fewer than {s['minItems']} items")
        if "maxItems" in s and len(value) > s["maxItems"]:
            out.append(f"{where}: more than {s['maxItems']} items")
    if isinstance(value, str):
        if len(value) < s.get("minLength", 0):
            out.append(f"{where}: shorter than {s['minLength']}")
        if "maxLength" in s and len(value) > s["maxLength"]:
            out.append(f"{where}: longer than {s['maxLength']}")
        if "pattern" in s and not re.search(s["pattern"], value):
            out.append(f"{where}: {value!r} does not match {s['pattern']}")
    if _is(value, "number"):
        if "minimum" in s and value < s["minimum"]:
            out.append(f"{where}: {value} < {s['minimum']}")
        if "maximum" in s and value > s["maximum"]:
            out.append(f"{where}: {value} > {s['maximum']}")
        if "exclusiveMinimum" in s and value <= s["exclusiveMinimum"]:
            out.append(f"{where}: {value} <= {s['exclusiveMinimum']}")
    return out


def path_regex(template, item):
    """A documented path template as a regex over request paths; a path
    parameter may span slashes when its schema pattern allows '/'."""
    params = {p["name"]: resolve(p) for p in
              map(resolve, item.get("parameters", [])) if p["in"] == "path"}
    out = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            pattern = params[piece[1:-1]]["schema"].get("pattern", "")
            out += ".+" if "/" in pattern else "[^/]+"
        else:
            out += re.escape(piece)
    return re.compile("^" + out + "$")


def documented_methods(item):
    return {m.upper() for m in ("get", "head", "post", "put", "patch",
                                "delete", "options", "trace") if m in item}


def path_item(path):
    path = path.split("?", 1)[0]
    for template, item in SPEC["paths"].items():
        if path_regex(template, item).match(path):
            return template, item
    return None, None


def check_response(resp, rdoc, method, what):
    """The answer against one documented response object."""
    rdoc = resolve(rdoc)
    for name, header in rdoc.get("headers", {}).items():
        header = resolve(header)
        if header.get("required"):
            assert name.lower() in resp.headers, (what, name, resp.headers)
            assert not problems(header["schema"], resp.headers[name.lower()])
    if method == "HEAD":
        assert resp.body == b"", what
        return None
    content = rdoc.get("content")
    if not content:
        return None
    ctype = resp.headers.get("content-type", "").split(";")[0].strip()
    assert ctype in content, (what, ctype, list(content))
    if ctype != "application/json":
        return None
    body = json.loads(resp.body)
    bad = problems(content[ctype]["schema"], body)
    assert not bad, (what, bad, body)
    return body


def check_answer(resp, method, path):
    """The answer's status is one the document lists for this route and
    method, its required headers are there and its JSON body fits the
    documented schema.  Undocumented routes and methods must get the
    documented 404 / 405.  Returns the parsed JSON body (or None)."""
    what = f"{method} {path} -> {resp.status} {resp.body[:300]!r}"
    template, item = path_item(path)
    responses = SPEC["components"]["responses"]
    if item is None:
        assert resp.status == 404, what
        body = check_response(resp, responses["RouteNotFound"], method, what)
        assert method == "HEAD" or body["error"] == "not_found", what
        return body
    if method not in documented_methods(item):
        assert resp.status == 405, what
        body = check_response(resp, responses["MethodNotAllowed"], method,
                              what)
        allowed = set(resp.headers["allow"].split(", "))
        assert allowed == documented_methods(item), (what, allowed)
        assert method == "HEAD" or body["error"] == "method_not_allowed"
        return body
    op = item[method.lower()]
    status = str(resp.status)
    rdoc = op["responses"].get(status) \
        or op["responses"].get(status[0] + "XX")
    assert rdoc is not None, (what, "status not documented for "
                              f"{method} {template}")
    return check_response(resp, rdoc, method, what)


def request_fields(name):
    """The members of a request schema (allOf merged) and the required."""
    s = schema(name)
    props, required = {}, []
    for part in [resolve(p) for p in s.get("allOf", [])] + [s]:
        props.update(part.get("properties", {}))
        required += part.get("required", [])
    return props, required


def non_null(sch):
    """A member's schema without its `null` alternative."""
    s = resolve(sch)
    for key in ("oneOf", "anyOf"):
        alts = [resolve(a) for a in s.get(key, [])]
        alts = [a for a in alts if a.get("type") != "null"]
        if len(alts) == 1:
            return alts[0]
    return s


def json_types(s):
    t = s.get("type", [])
    t = [t] if isinstance(t, str) else list(t)
    return [x for x in t if x != "null"]


def nullable(sch):
    s = resolve(sch)
    t = s.get("type", [])
    return ("null" in ([t] if isinstance(t, str) else t)
            or any(resolve(a).get("type") == "null"
                   for a in s.get("oneOf", []) + s.get("anyOf", [])))


def sample(sch):
    """A valid value of a member schema."""
    s = non_null(sch)
    enum = [e for e in s.get("enum", []) if e is not None]
    if enum:
        return enum[0]
    t = json_types(s)[0]
    if t == "boolean":
        return False
    if t == "integer":
        return s.get("minimum", 1)
    if t == "number":
        if "exclusiveMinimum" in s:
            return (s["exclusiveMinimum"] + s["maximum"]) / 2
        return s.get("minimum", 1)
    if t == "string":
        return "x"
    if t == "array":
        return []
    if t == "object":
        return {r: sample(s["properties"][r]) for r in s.get("required", [])}
    raise AssertionError(s)


# Members with rules beyond type, length and range: tested one by one below.
# url, e-mail and callback rules have their own tests here; cookies (an
# array of objects) and headers (free member names) theirs in
# test_request_credentials.py, which also checks their documented limits.
# include_patterns, exclude_patterns (arrays of strings): test_pattern_limits;
# a website capture's direct_download (only false): test_website.py.
SPECIAL = {"url", "notification_email", "callback_url", "cookies", "headers",
           "output_format",  # needs a URL array: test_output_format.py
           "include_patterns", "exclude_patterns"}


def field_paths(route):
    """(path, schema) of every documented member of a request body, nested
    objects included."""
    props, _ = request_fields(REQUEST_SCHEMA[route])
    out = []
    special = SPECIAL | ({"direct_download"} if route in WEBSITE else set())

    def walk(prefix, members):
        for name, sch in members.items():
            path = prefix + name
            if path in special:
                continue
            out.append((path, sch))
            s = non_null(sch)
            if json_types(s) == ["object"]:
                walk(path + ".", s.get("properties", {}))

    walk("", props)
    return out


def boundary_cases(sch):
    """(value, expected error code or None for accepted) from the limits
    the document gives a member."""
    s = non_null(sch)
    t = json_types(s)
    enum = [e for e in s.get("enum", []) if e is not None]
    cases = [(None, None)] if nullable(sch) else []
    if enum:
        cases += [(e, None) for e in enum]
        cases += [("no-such-value", "invalid_value"), (7, "invalid_type")]
    elif t == ["boolean"]:
        cases += [(True, None), (False, None), ("true", "invalid_type"),
                  (1, "invalid_type")]
    elif t == ["integer"]:
        lo, hi = s["minimum"], s["maximum"]
        cases += [(lo, None), (hi, None), (lo - 1, "out_of_range"),
                  (hi + 1, "out_of_range"), (lo + 0.5, "invalid_type"),
                  (str(lo), "invalid_type")]
    elif t == ["number"]:
        hi = s["maximum"]
        if "exclusiveMinimum" in s:
            lo = s["exclusiveMinimum"]
            cases += [(lo, "out_of_range"), (lo + 0.5, None)]
        else:
            lo = s["minimum"]
            cases += [(lo, None), (round(lo - 0.01, 6), "out_of_range")]
        cases += [(hi, None), (hi + 0.01, "out_of_range"),
                  ("1", "invalid_type")]
    elif t == ["string"]:
        hi = s["maxLength"]
        cases += [("x" * hi, None), ("x" * (hi + 1), "out_of_range"),
                  (5, "invalid_type")]
        if s.get("minLength", 0) > 0:
            cases.append(("", "out_of_range"))
    elif t == ["object"]:
        cases += [({**sample(s), "no_such_member": 1}, "unknown_field"),
                  ([], "invalid_type"), ("x", "invalid_type")]
        for name in s.get("required", []):
            cases.append(({k: v for k, v in sample(s).items()
                           if k != name}, "missing_field"))
    else:
        raise AssertionError(f"no boundary cases for {s}")
    return cases


def body_with(route, path, value):
    """A valid body with `value` at `path`, plus what the documented
    objects on the way require (required members, dependentRequired)."""
    props, _ = request_fields(REQUEST_SCHEMA[route])
    body = {"url": U}
    obj, members = body, props
    parts = path.split(".")
    for i, part in enumerate(parts):
        if i == len(parts) - 1:
            obj[part] = value
            break
        s = non_null(members[part])
        child = obj.setdefault(part, {})
        nxt = parts[i + 1]
        for name in s.get("required", []):
            if name != nxt:
                child[name] = sample(s["properties"][name])
        if value is not None or i + 1 < len(parts) - 1:
            for name in s.get("dependentRequired", {}).get(nxt, []):
                child[name] = sample(s["properties"][name])
        obj, members = child, s.get("properties", {})
    return body


def get_in(obj, path):
    for part in path.split("."):
        obj = obj[part]
    return obj


# --- what the fake worker answers (as worker/src/api/responses.cpp) --------

def jbody(obj):
    return json.dumps(obj).encode()


def worker_accepted(job_id=JOB):
    return jbody({"success": True,
                  "message": f"Job queued. Poll GET /v1/convert/status/"
                             f"{job_id} for results.",
                  "job_id": job_id, "status": "processing"})


def worker_error(status, code, detail, field=None, job_id=None):
    body = {"success": False, "error": code, "detail": detail}
    if field:
        body["field"] = field
    if job_id:
        body["job_id"] = job_id
    headers = [["Retry-After", "5"]] if status == 503 else None
    if code == "queue_full":
        headers = [["Retry-After", "30"]]
    return {"status": status, "body": jbody(body), "headers": headers}


def presigned_url(base="http://localhost"):
    exp = int(time.time()) + 3600
    return (f"{base}/v1/files/{FILE_KEY}?expires={exp}"
            f"&signature={presign(FILE_KEY, exp)}")


SYNC_RESULT = {"success": True, "job_id": JOB, "status": "completed",
               "url": "https://example.com", "presigned_url": None,
               "object_key": FILE_KEY, "filename": "example-com.pdf",
               "file_size": 184320, "conversion_time": 3.72,
               "conversion_time_seconds": 3.72}

BATCH_OBJECT = {
    "batch_id": BATCH, "job_id": BATCH, "status": "partial", "total": 2,
    "completed": 1, "failed": 1, "in_progress": 0,
    "output_mode": "individual", "zip_download_url": None,
    "items": [
        {"source_url": "https://example.com/1", "status": "Success",
         "download_url": "https://x/y", "output_file_size": 10,
         "duration": "1.00", "error": None, "object_key": FILE_KEY},
        {"source_url": "https://example.com/2", "status": "Failed",
         "download_url": None, "output_file_size": None, "duration": None,
         "error": "Failed to load page", "object_key": None}]}

STATUS = {
    "job_id": BATCH, "status": "processing", "total_tasks": 3,
    "completed_tasks": 1, "failed_tasks": 1,
    "tasks": [
        {"url": "https://example.com/1", "status": "success",
         "presigned_url": None, "object_key": FILE_KEY,
         "file_size": 184320, "conversion_time": 3.12},
        {"url": "https://example.com/2", "status": "processing"},
        {"url": "https://nowhere.example", "status": "failed",
         "error": "Failed to load page: could not resolve host "
                  "nowhere.example"}],
    "created_at": "2026-12-02T08:21:52Z", "completed_at": None,
    "notifications": [
        {"type": "webhook", "target": "https://hooks.example/x",
         "state": "pending", "response_code": None, "error": None,
         "attempts": 0},
        {"type": "email", "target": "team@example.com", "state": "failed",
         "response_code": 550, "error": "smtp_error: mailbox unavailable",
         "attempts": 1}]}

HEALTH_OK = {"status": "ok", "nginx": "ok", "worker": "ok",
             "database": "ok"}
HEALTH_DEGRADED = {"status": "degraded", "nginx": "ok", "worker": "ok",
                   "database": "down"}


def answering(backend, **by_op):
    """Scripts the fake worker: by_op[op](msg) -> list of replies."""
    backend.responder = lambda m: by_op.get(m.get("op"), lambda m: [])(m)


def website_accepted(job_id=BATCH):
    return jbody({"success": True, "status": "processing",
                  "message": f"Website capture queued: 3 pages found. Poll "
                             f"GET /v1/convert/batch/{job_id} for progress; "
                             f"the pages come as one ZIP.",
                  "job_id": job_id, "batch_id": job_id, "url_count": 3,
                  "total_discovered": 3, "discovery_method": "sitemap",
                  "truncated": False, "output_format": "zip"})


def accept_all(m):
    if m["endpoint"].startswith("website-"):
        return [(0, accepted(m, BATCH)),
                (0, final(m, status=202, body=website_accepted()))]
    return [(0, final(m, status=202, body=worker_accepted(
        BATCH if m["batch"] else JOB)))]


def put_file(ngx, key=FILE_KEY):
    return ngxtest.put_file(ngx, key)


TYPES = ("types { application/pdf pdf; image/png png; image/jpeg jpg; "
         "image/webp webp; }")


# --- (a) the document itself and the routes --------------------------------

def test_document_is_openapi_3_1():
    assert isinstance(SPEC, dict)
    assert re.fullmatch(r"3\.1\.\d+", str(SPEC["openapi"])), SPEC["openapi"]
    assert SPEC["info"]["title"] and SPEC["info"]["version"]
    assert SPEC["paths"]
    schemes = SPEC["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() \
        <= schemes["bearerAuth"].items()
    assert schemes["apiKeyHeader"]["type"] == "apiKey"
    assert schemes["apiKeyHeader"]["in"] == "header"
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key"
    for name in ("Error", "Accepted", "SyncResult", "StatusObject",
                 "Health", "WebhookPayload", "PdfRequest",
                 "ScreenshotRequest"):
        assert name in SPEC["components"]["schemas"], name

    def walk(node, where):        # every $ref resolves
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(node)
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(SPEC, "#")


def test_every_operation_documents_its_errors():
    for template, item in SPEC["paths"].items():
        for method in documented_methods(item):
            op = item[method.lower()]
            assert op["responses"], (method, template)
            for status, rdoc in op["responses"].items():
                rdoc = resolve(rdoc)
                assert rdoc["description"], (method, template, status)
                json_schema = rdoc.get("content", {}).get(
                    "application/json", {}).get("schema")
                if (status.startswith(("4", "5")) and json_schema
                        and template != "/v1/health"):
                    assert resolve(json_schema) is schema("Error"), \
                        (method, template, status)
            public = template in ("/v1/health", "/v1/files/{object_key}",
                                  "/health")
            assert (op.get("security") == []) == public, (method, template)


def handler_source():
    with open(MODULE_C) as f:
        src = f.read()
    start = src.index("\nngx_http_enconvert_route(ngx_str_t *uri, "
                      "ngx_str_t *rest)")
    end = src.index("\n}\n", start)
    table = src.index("ngx_http_enconvert_route_names[] = {")
    endpoints = re.findall(r'ngx_string\("([^"]+)"\)',
                           src[table:src.index("};", table)])
    return src[start:end], endpoints


def test_documented_routes_are_the_routes_in_the_handler():
    """The handler's own literals (top-level prefixes, the convert
    endpoints, "status/") against the documented path templates."""
    body, endpoints = handler_source()
    literals = re.findall(r'"([^"]*)"', body)
    top = {s for s in literals if s.startswith("/v1/") or s == "/health"}
    sub = {s for s in literals
           if re.fullmatch(r"[a-z][a-z-]*/", s)} | {
        e for e in endpoints if e.startswith(("url-to-", "website-to-"))}
    assert top == {"/v1/convert/", "/v1/files/", "/v1/health",
                   "/v1/whoami", "/v1/auth/verify", "/health"}, top
    assert sub == {"url-to-pdf", "url-to-screenshot", "website-to-pdf",
                   "website-to-screenshot", "status/", "batch/",
                   "download/"}, sub
    served = {t for t in top if not t.endswith("/convert/")}
    served |= {"/v1/convert/" + s for s in sub}

    docs = set(SPEC["paths"])
    for template in docs:
        assert any(template == s or (s.endswith("/")
                                     and template.startswith(s)
                                     and template[len(s):].startswith("{"))
                   for s in served), f"{template} is not served"
    for s in served:
        assert any(t == s or (s.endswith("/") and t.startswith(s))
                   for t in docs), f"{s} is served but not documented"


def probe_path(template):
    return (template.replace("{job_id}", JOB)
            .replace("{object_key}", FILE_KEY))


def test_served_methods_are_the_documented_ones(make_env):
    """Every documented route and method is served; every other method
    on it answers 405 with the documented Allow; routes not in the
    document (the vendor's included) answer 404."""
    ngx, backend = make_env(extra_http=TYPES)
    put_file(ngx)
    answering(backend, convert=accept_all,
              status=lambda m: [(0, final(m, body=jbody(
                  {**STATUS, "tasks": STATUS["tasks"][1:2],
                   "completed_tasks": 0, "failed_tasks": 0,
                   "total_tasks": 1})))],
              health=lambda m: [(0, final(m, body=jbody(HEALTH_OK)))],
              batch=lambda m: [(0, final(m, body=jbody(BATCH_OBJECT)))],
              whoami=lambda m: [(0, final(m, body=jbody(
                  {"project_id": "a1", "plan_slug": "self-hosted"})))],
              verify=lambda m: [(0, final(m, body=jbody(
                  {"authenticated": True, "project_id": "a1",
                   "tier": "self-hosted", "key_type": "private",
                   "allowed_domains": None, "allowed_endpoints": None})))],
              download=lambda m: [(0, final(m, body=b"%PDF",
                                            content_type="application/pdf"))])
    backend.knows_keys = False
    for template, item in SPEC["paths"].items():
        path = probe_path(template)
        if template.startswith("/v1/files/"):
            path = presigned_url("")
        for method in METHODS:
            body = {"url": U} if method == "POST" else None
            resp = ngx.request(method, path, body, auth())
            check_answer(resp, method, path)
            if method in documented_methods(item):
                assert resp.status < 300, (method, path, resp.status,
                                           resp.body)
    for path in UNSERVED:
        assert path_item(path) == (None, None), path
        for method in ("GET", "POST"):
            resp = ngx.request(method, path, {"url": U} if method == "POST"
                               else None, auth())
            check_answer(resp, method, path)


def test_module_error_codes_are_documented():
    codes = set(resolve(SPEC["components"]["schemas"]["ErrorCode"])["enum"])
    found = set()
    for name in os.listdir(os.path.join(REPO, "ngx_module")):
        if name.endswith(".c"):
            with open(os.path.join(REPO, "ngx_module", name)) as f:
                found |= set(re.findall(r'NGX_HTTP_[A-Z_]+,\s*"([a-z_]+)"',
                                        f.read()))
    with open(os.path.join(REPO, "worker", "src", "api",
                           "responses.cpp")) as f:
        found |= set(re.findall(r'error_answer\(\s*[^,]+,\s*"([a-z_]+)"',
                                f.read()))
    assert len(found) > 25, found
    assert found <= codes, found - codes


# --- (b) real requests ------------------------------------------------------

def test_module_answers_fit_the_document(env):
    """The answers nginx composes itself, for bad requests of every kind."""
    ngx, backend = env
    cases = [
        ("POST", PDF, {"url": U}, {}, 401),
        ("POST", PDF, {"url": U}, auth("sk_live_short"), 401),
        ("POST", PDF, {"url": U}, {"Authorization": "Basic x"}, 401),
        ("POST", PDF, {"url": U}, {**auth(), "Origin": "https://x"}, 403),
        ("POST", SHOT, {"url": U}, {"X-API-Key": API_KEY,
                                     "Origin": "null"}, 403),
        ("GET", "/v1/convert/status/" + JOB, None, {}, 401),
        ("GET", "/v1/convert/status/bad.id", None, auth(), 404),
        ("GET", "/v1/convert/status/", None, auth(), 404),
        ("POST", PDF, b'{"url":"https://a.example"}',
         {**auth(), "Content-Type": "text/plain"}, 415),
        ("POST", PDF, b"{bad json", {**auth(),
                                     "Content-Type": "application/json"},
         400),
        ("POST", PDF, b'{"url":"https://a","url":"https://b"}',
         {**auth(), "Content-Type": "application/json"}, 400),
        ("POST", PDF, b"[]", {**auth(), "Content-Type": "application/json"},
         400),
        ("POST", PDF, {"url": U, "pdf_options": {"a": {"b": {"c": {"d": {
            "e": {"f": {"g": {}}}}}}}}}, auth(), 400),
        ("POST", PDF, {}, auth(), 400),
        ("POST", PDF, {"url": U, "viewport_widht": 800}, auth(), 400),
        ("POST", PDF, {"url": U, "viewport_height": 16385}, auth(), 400),
        ("POST", SHOT, {"url": U, "pdf_options": {}}, auth(), 400),
        ("POST", PDF, {"url": U, "callback_url": "http://hooks.example"},
         auth(), 400),
        ("POST", PDF, {"url": U}, {**auth(), "Idempotency-Key": "a b"}, 400),
        ("GET", PDF, None, auth(), 405),
        ("DELETE", "/v1/convert/status/" + JOB, None, auth(), 405),
        ("POST", "/v1/health", b"{}", {}, 405),
        ("GET", "/v1/convert/website-to-pdf", None, auth(), 405),
        ("POST", SITE_PDF, {"url": [U]}, auth(), 400),
        ("POST", SITE_SHOT, {"url": U, "direct_download": True}, auth(),
         400),
        ("POST", PDF, {"url": U, "max_pages": 5}, auth(), 400),
        ("GET", "/v1/files/live/files/a%20b.pdf?expires=1&signature=00",
         None, {}, 400),
        ("GET", f"/v1/files/{FILE_KEY}?expires=9999999999"
                f"&signature={'0' * 64}", None, {}, 403),
        ("GET", f"/v1/files/{FILE_KEY}?expires=1"
                f"&signature={presign(FILE_KEY, 1)}", None, {}, 403),
        ("GET", f"/v1/files/{FILE_KEY}", None, {}, 403),
    ]
    for method, path, body, headers, status in cases:
        resp = ngx.request(method, path, body, headers)
        assert resp.status == status, (method, path, body, resp.body)
        got = check_answer(resp, method, path)
        assert got["success"] is False and got["detail"]
    assert backend.messages() == []


def test_oversized_body_413(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_body_size 1k;")
    resp = ngx.request("POST", PDF, {"url": U, "output_filename": "x" * 2000},
                       auth())
    assert resp.status == 413
    assert check_answer(resp, "POST", PDF)["error"] == "body_too_large"
    assert backend.messages() == []


def test_convert_answers_fit_the_document(make_env):
    """202, 200 JSON, direct_download bytes, 202 after a sync wait, and
    the worker's errors, relayed."""
    ngx, backend = make_env(extra_http=TYPES, sync_timeout="700ms")
    data = put_file(ngx)

    answering(backend, convert=accept_all)
    resp = ngx.request("POST", PDF, {"url": [U, U], "async_mode": False},
                       auth())
    assert resp.status == 202
    assert check_answer(resp, "POST", PDF)["job_id"] == BATCH

    result = {**SYNC_RESULT, "presigned_url": presigned_url()}
    answering(backend, convert=lambda m: [
        (0, accepted(m, JOB)),
        (0.05, final(m, body=jbody(result), job_id=JOB))])
    resp = ngx.request("POST", PDF, {"url": U}, auth())
    assert resp.status == 200
    assert check_answer(resp, "POST", PDF) == result

    answering(backend, convert=lambda m: [
        (0, accepted(m, JOB)),
        (0.05, {"v": 1, "id": m["id"], "kind": "final", "status": 200,
                "content_type": "application/pdf", "job_id": JOB,
                "internal_redirect": FILE_KEY,
                "headers": [["Content-Disposition",
                             'attachment; filename="example-com.pdf"'],
                            ["X-Job-Id", JOB], ["X-Object-Key", FILE_KEY],
                            ["X-File-Size", str(len(data))],
                            ["X-Conversion-Time", "3.72"]]})])
    resp = ngx.request("POST", PDF, {"url": U, "direct_download": True},
                       auth())
    assert resp.status == 200 and resp.body == data
    check_answer(resp, "POST", PDF)
    op = SPEC["paths"][PDF]["post"]["responses"]["200"]
    for name, header in op["headers"].items():
        assert not problems(resolve(header)["schema"],
                            resp.headers[name.lower()]), name

    answering(backend, convert=lambda m: [(0, accepted(m, JOB))])
    resp = ngx.request("POST", SHOT, {"url": U}, auth())
    assert resp.status == 202
    got = check_answer(resp, "POST", SHOT)
    assert got["job_id"] == JOB and got["status"] == "processing"

    for status, code, field, job_id in (
            (422, "dns_error", None, JOB), (504, "timeout", None, JOB),
            (409, "idempotency_conflict", "Idempotency-Key", None),
            (401, "invalid_api_key", None, None),
            (503, "database_unavailable", None, None),
            (429, "queue_full", None, None), (503, "queue_full", None, None),
            (500, "internal_error", None, None),
            (400, "bad_message", None, None)):
        err = worker_error(status, code, "A sentence.", field, job_id)
        answering(backend, convert=lambda m, err=err: [
            (0, final(m, status=err["status"], body=err["body"],
                      headers=err["headers"]))])
        resp = ngx.request("POST", PDF, {"url": U, "async_mode": True},
                           {**auth(), "Idempotency-Key": "k-1"})
        assert resp.status == status
        assert check_answer(resp, "POST", PDF)["error"] == code


def test_backend_trouble_fits_the_document(make_env):
    ngx, backend = make_env(timeout="300ms", sync_timeout="300ms")
    resp = ngx.request("POST", PDF, {"url": U, "async_mode": True}, auth())
    assert resp.status == 504
    assert check_answer(resp, "POST", PDF)["error"] == "backend_timeout"
    resp = ngx.request("GET", "/v1/health")
    assert resp.status == 503
    assert check_answer(resp, "GET", "/v1/health")["worker"] == "down"
    answering(backend, status=lambda m: [
        (0, {"v": 1, "id": m["id"], "kind": "final", "status": 200})])
    resp = ngx.request("GET", "/v1/convert/status/" + JOB, None, auth())
    assert resp.status == 502
    assert check_answer(resp, "GET", "/v1/convert/status/" + JOB)["error"] \
        == "bad_backend_reply"


def test_no_backend_503(make_env):
    ngx, _ = make_env(bind=False)
    for method, path, body in (("POST", SHOT, {"url": U}),
                               ("GET", "/v1/convert/status/" + JOB, None),
                               ("GET", "/v1/health", None),
                               ("HEAD", "/v1/health", None)):
        resp = ngx.request(method, path, body, auth())
        assert resp.status == 503
        check_answer(resp, method, path)


def test_status_and_health_answers_fit_the_document(env):
    ngx, backend = env
    status = copy.deepcopy(STATUS)
    status["tasks"][0]["presigned_url"] = presigned_url()
    answering(backend,
              status=lambda m: [(0, final(m, body=jbody(status)))],
              health=lambda m: [(0, final(m, body=jbody(HEALTH_OK)))])
    path = "/v1/convert/status/" + BATCH
    resp = ngx.request("GET", path, None, {"X-API-Key": API_KEY})
    assert resp.status == 200
    assert check_answer(resp, "GET", path) == status
    resp = ngx.request("HEAD", path, None, auth())
    assert resp.status == 200
    check_answer(resp, "HEAD", path)

    # the webhook payload is the status object's core
    payload = {k: status[k] for k in ("job_id", "total_tasks",
                                      "completed_tasks", "failed_tasks")}
    payload["status"] = "completed"
    payload["tasks"] = [status["tasks"][0], status["tasks"][2]]
    assert not problems(schema("WebhookPayload"), payload)

    resp = ngx.request("GET", "/v1/health")
    assert resp.status == 200
    assert check_answer(resp, "GET", "/v1/health") == HEALTH_OK

    err = worker_error(404, "job_not_found",
                       "No job with this id exists for your account.")
    answering(backend,
              status=lambda m: [(0, final(m, status=404, body=err["body"]))],
              health=lambda m: [(0, final(
                  m, status=503, body=jbody(HEALTH_DEGRADED),
                  headers=[["Retry-After", "5"]]))])
    resp = ngx.request("GET", path, None, auth())
    assert resp.status == 404
    assert check_answer(resp, "GET", path)["error"] == "job_not_found"
    resp = ngx.request("GET", "/v1/health")
    assert resp.status == 503 and resp.headers["retry-after"] == "5"
    assert check_answer(resp, "GET", "/v1/health") == HEALTH_DEGRADED


def test_download_answers_fit_the_document(make_env):
    ngx, backend = make_env(extra_http=TYPES)
    data = put_file(ngx)
    url = presigned_url("")
    resp = ngx.request("GET", url, None, {"Range": "bytes=0-3"})
    assert resp.status == 206 and resp.body == data[:4]
    check_answer(resp, "GET", url)
    resp = ngx.request("HEAD", url)
    assert resp.status == 200
    check_answer(resp, "HEAD", url)
    missing = "live/files/0123456789abcdef/url-to-pdf/gone_1.pdf"
    exp = int(time.time()) + 60
    path = (f"/v1/files/{missing}?expires={exp}"
            f"&signature={presign(missing, exp)}")
    resp = ngx.request("GET", path)
    assert resp.status == 404
    check_answer(resp, "GET", path)
    assert backend.messages() == []


def test_rate_limited_429(make_env):
    ngx, backend = make_env(
        extra_http="limit_req_zone $enconvert_api_key_hash "
                   "zone=keys:1m rate=1r/m; limit_req_status 429;",
        extra_api="limit_req zone=keys nodelay; "
                  "error_page 429 = @enconvert_rate_limited;",
        extra_server="location @enconvert_rate_limited { "
                     "enconvert_rate_limited; }")
    answering(backend, convert=accept_all)
    first = ngx.request("POST", PDF, {"url": U, "async_mode": True}, auth())
    assert first.status == 202
    resp = ngx.request("POST", PDF, {"url": U, "async_mode": True}, auth())
    assert resp.status == 429
    assert check_answer(resp, "POST", PDF)["error"] == "rate_limited"
    resp = ngx.request("GET", "/v1/convert/status/" + JOB, None, auth())
    assert resp.status == 429
    check_answer(resp, "GET", "/v1/convert/status/" + JOB)


# --- (b) every documented limit is the module's -----------------------------

def all_fields():
    out = []
    for route in REQUEST_SCHEMA:
        for path, sch in field_paths(route):
            out.append(pytest.param(route, path, sch,
                                    id=f"{route.rsplit('/', 1)[1]}:{path}"))
    return out


@pytest.mark.parametrize("route,path,sch", all_fields())
def test_documented_limits_are_enforced(env, route, path, sch):
    """Each member's documented type, range, length and enumeration, at
    and beyond its bounds: accepted values reach the worker (normalised
    only where the document says), others get a 400 naming the member."""
    ngx, backend = env
    answering(backend, convert=accept_all)
    for value, code in boundary_cases(sch):
        body = body_with(route, path, value)
        before = len(backend.messages())
        resp = ngx.request("POST", route, body, auth())
        got = check_answer(resp, "POST", route)
        what = (path, value if not isinstance(value, str) else value[:40],
                resp.status, got)
        if code is None:
            assert resp.status == 202, what
            msg = backend.messages()[-1]
            options = msg["options"]
            if path == "async_mode":
                # not an option: it decides the message's "async" (always
                # true for a website capture)
                assert "async_mode" not in options, what
                assert msg["async"] is (bool(value) or route in WEBSITE), \
                    what
            elif value is None:
                parent, _, leaf = path.rpartition(".")
                holder = get_in(options, parent) if parent else options
                assert leaf not in (holder or {}), what
            else:
                assert get_in(options, path) == value, what
        else:
            assert resp.status == 400, what
            assert got["error"] == code, what
            want = path
            if code == "unknown_field":
                want = path + ".no_such_member"
            elif code == "missing_field":
                want = path + "." + (set(resolve(non_null(sch))["required"])
                                     - set(value)).pop()
            assert got["field"] == want, what
            assert len(backend.messages()) == before, what


def test_fields_of_one_endpoint_refused_by_the_other(env):
    """A field documented for some convert routes only is refused with
    invalid_field by every other one: pdf-only on the screenshot routes,
    screenshot-only on the pdf routes, the crawl fields on url-to-*."""
    ngx, backend = env
    fields = {route: request_fields(name)[0]
              for route, name in REQUEST_SCHEMA.items()}
    for route, mine in fields.items():
        others = {name: sch for other in fields.values()
                  for name, sch in other.items() if name not in mine}
        assert others
        for name, sch in others.items():
            resp = ngx.request("POST", route, {"url": U, name: sample(sch)},
                               auth())
            got = check_answer(resp, "POST", route)
            assert (resp.status, got["error"], got["field"]) \
                == (400, "invalid_field", name), (route, got)
            assert route.rsplit("/", 1)[1] not in got["detail"], got
    assert backend.messages() == []


@pytest.mark.parametrize("route", WEBSITE)
def test_pattern_limits(env, route):
    """include_patterns, exclude_patterns: the documented item count and
    item lengths are the module's; the patterns themselves reach the
    worker as sent (it judges the regular expressions)."""
    ngx, backend = env
    answering(backend, convert=accept_all)
    props, _ = request_fields(REQUEST_SCHEMA[route])
    for name in ("include_patterns", "exclude_patterns"):
        s = non_null(props[name])
        most, item = s["maxItems"], resolve(s["items"])
        lo, hi = item["minLength"], item["maxLength"]
        cases = [
            ([], None, None),
            (["x" * hi] * most, None, None),
            (["^/docs/(a|b)+$", "[unclosed"], None, None),
            (None, None, None),
            (["x"] * (most + 1), "out_of_range", name),
            (["x" * (hi + 1)], "out_of_range", name + "[0]"),
            (["y", "x" * (lo - 1)], "out_of_range", name + "[1]"),
            (["a\u0000b"], "invalid_value", name + "[0]"),
            ("^/docs/", "invalid_type", name),
            ({"a": "b"}, "invalid_type", name),
            ([5], "invalid_type", name + "[0]"),
            ([None], "invalid_type", name + "[0]"),
        ]
        for value, code, field in cases:
            before = len(backend.messages())
            resp = ngx.request("POST", route, {"url": U, name: value}, auth())
            got = check_answer(resp, "POST", route)
            what = (name, str(value)[:60], resp.status, got)
            if code is None:
                assert resp.status == 202, what
                options = backend.messages()[-1]["options"]
                if value is None:
                    assert name not in options, what
                else:
                    assert options[name] == value, what
                    assert not problems(props[name], value), what
            else:
                assert (resp.status, got["error"], got["field"]) \
                    == (400, code, field), what
                assert len(backend.messages()) == before, what


def test_website_answers_fit_the_document(make_env):
    """The worker's 202 and 400s relayed, and the module's own 202 when the
    pages are still being found as enconvert_sync_timeout runs out."""
    ngx, backend = make_env(sync_timeout="500ms")
    answering(backend, convert=accept_all)
    for route in WEBSITE:
        resp = ngx.request("POST", route, {"url": U}, auth())
        assert resp.status == 202, resp.body
        got = check_answer(resp, "POST", route)
        assert got["url_count"] == 3 and got["output_format"] == "zip"

    answering(backend, convert=lambda m: [(0, accepted(m, BATCH))])
    resp = ngx.request("POST", SITE_SHOT, {"url": U}, auth())
    assert resp.status == 202, resp.body
    got = check_answer(resp, "POST", SITE_SHOT)
    assert got["url_count"] is None and got["batch_id"] == BATCH

    for code, field, job_id in (("no_sitemap", None, BATCH),
                                ("no_pages", None, BATCH),
                                ("invalid_pattern", "include_patterns",
                                 None)):
        # a failed discovery follows the job's "accepted"; a refused
        # pattern comes before any job is created
        err = worker_error(400, code, "A sentence.", field, job_id)
        answering(backend, convert=lambda m, err=err, job_id=job_id: (
            [(0, accepted(m, BATCH))] if job_id else []) + [
            (0, final(m, status=400, body=err["body"]))])
        resp = ngx.request("POST", SITE_PDF, {"url": U}, auth())
        got = check_answer(resp, "POST", SITE_PDF)
        assert (resp.status, got["error"]) == (400, code), got
        assert got.get("job_id") == job_id and got.get("field") == field


def test_undocumented_fields_are_refused(env):
    """Members the document does not list (the vendor's among them)."""
    ngx, backend = env
    pdf, _ = request_fields("PdfRequest")
    shot, _ = request_fields("ScreenshotRequest")
    for name in ("format", "viewportWidth"):
        assert name not in pdf and name not in shot, name
        for route in (PDF, SHOT):
            resp = ngx.request("POST", route, {"url": U, name: True},
                               auth())
            got = check_answer(resp, "POST", route)
            assert (resp.status, got["error"], got["field"]) \
                == (400, "unknown_field", name)
    assert backend.messages() == []


def email_of_length(n):
    """A valid address of exactly n bytes (n >= 70)."""
    local = "l" * 64
    domain_len = n - len(local) - 1
    labels, left = [], domain_len - len(".com")
    while left > 0:
        size = min(63, left)
        if left - size == 1:        # never leave a lone separator
            size -= 1
        labels.append("d" * size)
        left -= size + 1
    return local + "@" + ".".join(labels) + ".com"


def test_url_email_callback_limits(env):
    ngx, backend = env
    answering(backend, convert=accept_all)
    props, required = request_fields("PdfRequest")
    assert "url" in required
    url_schema = schema("Url")
    url_max = url_schema["maxLength"]
    array = [a for a in props["url"]["oneOf"]
             if resolve(a).get("type") == "array"][0]
    email_max = resolve(props["notification_email"])["maxLength"]
    cb = resolve(props["callback_url"])

    long_url = U + "p" * (url_max - len(U))
    long_cb = "https://hooks.example/" + "h" * (cb["maxLength"] - 22)
    cases = [
        ({"url": long_url}, None, None),
        ({"url": long_url + "p"}, "invalid_url", "url"),
        ({"url": "ftp://a.example/"}, "invalid_url", "url"),
        ({"url": "HTTPS://A.example/"}, None, None),
        ({"url": 5}, "invalid_type", "url"),
        ({"url": []}, "invalid_url", "url"),
        ({"url": [U] * array["maxItems"]}, None, None),
        ({"url": [U] * (array["maxItems"] + 1)}, "too_many_urls", "url"),
        ({"url": [U, "ftp://a.example"]}, "invalid_url", "url[1]"),
        ({"url": U, "notification_email": email_of_length(email_max)},
         None, None),
        ({"url": U, "notification_email": email_of_length(email_max + 1)},
         "invalid_email", "notification_email"),
        ({"url": U, "notification_email": "Bob <bob@example.com>"},
         "invalid_email", "notification_email"),
        ({"url": U, "callback_url": long_cb}, None, None),
        ({"url": U, "callback_url": long_cb + "h"}, "invalid_callback_url",
         "callback_url"),
        ({"url": U, "callback_url": "http://hooks.example/"},
         "invalid_callback_url", "callback_url"),
    ]
    assert not re.search(url_schema["pattern"], "ftp://a.example/")
    assert re.search(url_schema["pattern"], "HTTPS://A.example/")
    assert not re.search(cb["pattern"], "http://hooks.example/")
    for body, code, field in cases:
        resp = ngx.request("POST", PDF, body, auth())
        got = check_answer(resp, "POST", PDF)
        what = (str(body)[:120], resp.status, got)
        if code is None:
            assert resp.status == 202, what
            assert not problems(schema("PdfRequest"), body), what
        else:
            assert (resp.status, got["error"], got["field"]) \
                == (400, code, field), what


def test_documented_normalisation_and_character_counts(env):
    """page_size ignoring case, forwarded canonical; header/footer content
    counted in characters; IDN hosts forwarded in ASCII."""
    ngx, backend = env
    answering(backend, convert=accept_all)
    band_max = schema("Band")["properties"]["content"]["maxLength"]
    resp = ngx.request("POST", PDF, {
        "url": "https://bücher.example/",
        "pdf_options": {"page_size": "letter",
                        "header": {"content": "é" * band_max}}}, auth())
    assert resp.status == 202, resp.body
    check_answer(resp, "POST", PDF)
    m = backend.messages()[-1]
    assert m["urls"] == ["https://xn--bcher-kva.example/"]
    assert m["options"]["pdf_options"]["page_size"] == "Letter"
    resp = ngx.request("POST", PDF, {
        "url": U, "pdf_options": {"footer": {"content": "é" * (band_max + 1)}}},
        auth())
    got = check_answer(resp, "POST", PDF)
    assert (resp.status, got["error"], got["field"]) \
        == (400, "out_of_range", "pdf_options.footer.content")


def test_idempotency_key_limits(env):
    ngx, backend = env
    answering(backend, convert=accept_all)
    param = resolve(SPEC["components"]["parameters"]["IdempotencyKey"])
    assert param["in"] == "header" and param["name"] == "Idempotency-Key"
    hi = param["schema"]["maxLength"]
    for key, ok in (("k" * hi, True), ("k" * (hi + 1), False),
                    ("a b", False), ("~!#", True)):
        assert (not problems(param["schema"], key)) == ok, key
        resp = ngx.request("POST", PDF, {"url": U, "async_mode": True},
                           {**auth(), "Idempotency-Key": key})
        got = check_answer(resp, "POST", PDF)
        if ok:
            assert resp.status == 202
            assert backend.messages()[-1]["idempotency_key"] == key
        else:
            assert (resp.status, got["error"], got["field"]) == \
                (400, "invalid_idempotency_key", "Idempotency-Key")
