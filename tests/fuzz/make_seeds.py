#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Run it again after changing the seeds here; the files are committed, so
`make fuzz` needs no Python. Each seed is a meaningful input: a valid
message or request, or an edge the decoders must refuse."""

import json
import os
import struct

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "sk_live_" + "A1b2C3d4E5" * 4


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


# intake_wire: module -> worker requests (schema/messages.md §1)

convert = {"v": 1, "id": 42, "op": "convert", "key": KEY,
           "base_url": "https://api.example.com", "endpoint": "url-to-pdf",
           "urls": ["https://example.com/"], "batch": False, "async": False,
           "options": {"pdf_options": {"page_size": "A4",
                                       "margins": {"top": 10.5}},
                       "notification_email": "a@example.com"}}
write("intake_wire", "convert", pack(convert))
write("intake_wire", "convert_idempotent",
      pack(dict(convert, idempotency_key="order-17")))
batch = dict(convert, endpoint="url-to-screenshot", batch=True,
             urls=["http://a.example/", "https://b.example/x?y=1"])
batch["async"] = True
write("intake_wire", "convert_batch", pack(batch))
write("intake_wire", "status",
      pack({"v": 1, "id": 7, "op": "status", "key": KEY,
            "base_url": "http://localhost:8080", "job_id": "job_0123456789"}))
write("intake_wire", "health", pack({"v": 1, "id": 1, "op": "health"}))
write("intake_wire", "signed_id", pack({"v": 1, "id": -1, "op": "health"}))
write("intake_wire", "version_2", pack({"v": 2, "id": 1, "op": "health"}))
write("intake_wire", "options_binary",
      pack(dict(convert, options={"x": b"\x00\x01"})))
write("intake_wire", "options_nan",
      pack(dict(convert, options={"scale": float("nan")})))
write("intake_wire", "options_deep",
      pack(dict(convert, options={"a": [[[[[[[[[1]]]]]]]]]})))
# found by make fuzz: strings that are not UTF-8 made storing the job throw
write("intake_wire", "options_not_utf8",
      pack(dict(convert, options={"output_filename": b"a\xffb.pdf".decode(
          "latin-1")})).replace(b"a\xc3\xbfb.pdf", b"a\xffb.pdf"))
write("intake_wire", "not_a_map", pack([1, 2, 3]))
write("intake_wire", "truncated", pack(convert)[:40])

# render_frame: renderer -> worker frames (§2), each read prefixed by one
# byte giving the next read's length - 1 (tests/fuzz/render_frame.cpp)


def frame(obj):
    body = pack(obj) if not isinstance(obj, bytes) else obj
    return struct.pack(">I", len(body)) + body


def reads(stream, size=255):
    out = b""
    for i in range(0, len(stream), size):
        chunk = stream[i:i + size]
        out += bytes([len(chunk) - 1]) + chunk
    return out


ready = frame({"v": 1, "ready": True})
result_ok = frame({"v": 1, "id": 3, "ok": True, "http_status": 200,
                   "title": "Example Domain", "render_ms": 812.5, "view": 0,
                   "size": 18234})
result_err = frame({"v": 1, "id": 4, "ok": False, "error_code": "dns_error",
                    "error": "Failed to load page: host not found"})
write("render_frame", "ready", reads(ready))
write("render_frame", "results", reads(ready + result_ok + result_err))
write("render_frame", "byte_by_byte", reads(result_ok, 1))
write("render_frame", "not_a_map", reads(frame(pack([1, 2])) + ready))
write("render_frame", "garbage_body", reads(frame(b"\xc1\xc1") + ready))
write("render_frame", "oversized_length",
      reads(struct.pack(">I", 16 * 1024 * 1024 + 1) + b"x"))
write("render_frame", "empty_frame", reads(frame(b"") + ready))

# gate_socks: what the engine sends the SOCKS5 gate (RFC 1928)

greeting = bytes([5, 1, 0])


def connect(atyp, addr, port=80, cmd=1):
    return greeting + bytes([5, cmd, 0, atyp]) + addr + struct.pack(">H", port)


write("gate_socks", "ipv4_loopback", connect(1, bytes([127, 0, 0, 1])))
write("gate_socks", "ipv4_public", connect(1, bytes([93, 184, 216, 34]), 443))
write("gate_socks", "ipv6_loopback", connect(4, bytes(15) + b"\x01"))
write("gate_socks", "ipv6_mapped",
      connect(4, bytes(10) + b"\xff\xff" + bytes([10, 0, 0, 1])))
write("gate_socks", "domain_localhost", connect(3, b"\x09localhost"))
write("gate_socks", "domain_name", connect(3, b"\x0bexample.com", 443))
write("gate_socks", "domain_shorthand_v4", connect(3, b"\x0a2130706433"))
write("gate_socks", "domain_nul", connect(3, b"\x05a\x00b.c"))
write("gate_socks", "domain_empty", connect(3, b"\x00"))
write("gate_socks", "bind_command", connect(1, bytes(4), cmd=2))
write("gate_socks", "bad_address_type", connect(9, bytes(4)))
write("gate_socks", "no_acceptable_method", bytes([5, 2, 1, 2]))
write("gate_socks", "many_methods", bytes([5, 255]) + bytes(range(255)))
write("gate_socks", "socks4", bytes([4, 1, 0, 80, 127, 0, 0, 1, 0]))
write("gate_socks", "truncated", connect(1, bytes([10, 0]))[:-3])

# module_body: flags byte (bit 0 screenshot, bit 1 Idempotency-Key follows,
# bit 2 website capture)
# + request body (docs/api.md, docs/validation.md)


def body(obj, flags=0, idem=None):
    head = bytes([flags | (2 if idem is not None else 0)])
    if idem is not None:
        head += bytes([len(idem)]) + idem
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return head + raw


write("module_body", "pdf_minimal", body({"url": "https://example.com/"}))
write("module_body", "pdf_full", body({
    "url": "https://example.com/report?id=1",
    "async_mode": True,
    "output_filename": "report.pdf",
    "wait_until": "networkidle",
    "timeout": 30,
    "notification_email": "ops@example.com",
    "callback_url": "https://hooks.example.com/enconvert",
    "pdf_options": {"page_size": "a4", "orientation": "landscape",
                    "scale": 0.8, "print_background": True,
                    "margins": {"top": 10, "bottom": 10.5, "left": 5,
                                "right": 5},
                    "header": {"content": "Report <b>1</b>", "height": 15}}}))
write("module_body", "batch", body({"url": ["https://a.example/",
                                            "http://b.example:8080/x"]}))
write("module_body", "screenshot", body({
    "url": "https://example.com/", "image_format": "jpeg", "image_quality": 80,
    "full_page": True, "viewport_width": 1280}, flags=1))
write("module_body", "screenshot_pdf_option", body({
    "url": "https://example.com/", "pdf_options": {"scale": 1}},
    flags=1))
write("module_body", "idn_host", body({"url": "https://bücher.example/straße"}))
write("module_body", "idempotent", body({"url": "https://example.com/"},
                                        idem=b"order-17"))
write("module_body", "idempotency_key_space",
      body({"url": "https://example.com/"}, idem=b"a b"))
write("module_body", "nulls", body({"url": "https://example.com/",
                                    "pdf_options": None, "output_filename": None}))
write("module_body", "unknown_field", body({"url": "https://example.com/",
                                            "colour": "red"}))
write("module_body", "wrong_endpoint", body({"url": "https://example.com/",
                                             "pdf_options": {}}, flags=1))
write("module_body", "duplicate_key",
      body(b'{"url": "https://a.example/", "url": "https://b.example/"}'))
write("module_body", "too_deep",
      body(b'{"pdf_options": {"a": [[[[[[[[[[1]]]]]]]]]]}, "url": "http://x.y/"}'))
write("module_body", "nul_in_string",
      body(b'{"url": "https://example.com/\\u0000"}'))
write("module_body", "not_an_object", body(b'["https://example.com/"]'))
write("module_body", "invalid_utf8", body(b'{"url": "https://\xff.example/"}'))
write("module_body", "private_url", body({"url": "http://127.0.0.1/"}))
write("module_body", "empty", body(b""))
# found by make fuzz: the worker refused a scheme the module accepts
write("module_body", "scheme_mixed_case", body(b'{"url": "hTtp://10.1/"}'))
write("module_body", "website_full", body({
    "url": "https://docs.example.com/", "crawl_mode": "full",
    "include_patterns": ["^/guide/", "\\.html$"],
    "exclude_patterns": ["/login", "[?&]sort="],
    "max_pages": 50, "max_depth": 2,
    "pdf_options": {"page_size": "a4"}}, flags=4))
write("module_body", "website_screenshot", body({
    "url": "https://docs.example.com/", "crawl_mode": "sitemap",
    "image_format": "png", "full_page": True}, flags=5))
write("module_body", "website_bad_pattern", body({
    "url": "https://docs.example.com/", "include_patterns": ["(unclosed"]},
    flags=4))
write("module_body", "website_url_list", body({
    "url": ["https://a.example/", "https://b.example/"]}, flags=4))

# module_url: selector (0 URL, 1 https URL, 2 e-mail) + the value

for name, sel, value in [
        ("http", 0, "http://example.com/"),
        ("https_port_query", 0, "https://example.com:8443/a/b?c=d#e"),
        ("ipv6", 0, "http://[2001:db8::1]:8080/"),
        ("idn", 0, "https://bücher.example/"),
        ("idn_emoji", 0, "https://☃.example/"),
        ("userinfo", 0, "https://user:pw@example.com/"),
        ("bad_port", 0, "http://example.com:99999/"),
        ("no_host", 0, "http:///path"),
        ("trailing_dot", 0, "http://example.com./"),
        ("https_only", 1, "http://hooks.example.com/"),
        ("callback", 1, "https://hooks.example.com/x"),
        ("email", 2, "ops@example.com"),
        ("email_idn", 2, "ops@bücher.example"),
        ("email_quoted", 2, "\"a b\"@example.com"),
        ("email_long_local", 2, "a" * 65 + "@example.com")]:
    write("module_url", name, bytes([sel]) + value.encode())
