"""Every nginx configuration the project ships is accepted by `nginx -t`
with the module loaded: the packaged snippet, the log format, the full
server and the reverse-proxy examples (conf/examples/). Paths that belong
to an installed system (/etc/nginx, /var/log/nginx, certificates, the
secret) are pointed into a temp dir; nothing else is changed."""

import os
import subprocess

import pytest

from ngxtest import MODULE, REPO, SECRET

NGINX = "/usr/sbin/nginx"
CONF = os.path.join(REPO, "conf")


def installed_paths(text, tmp):
    """The file as it would be on an installed system, with that system's
    files replaced by the repository's or temp ones."""
    for old, new in [
        ("include /etc/nginx/modules-enabled/*.conf;", f"load_module {MODULE};"),
        ("include /etc/nginx/conf.d/*.conf;",
         f"include {CONF}/enconvert-log.conf;\n"
         f"    enconvert_signing_secret_file {tmp}/secret;"),
        ("include snippets/enconvert.conf;", f"include {tmp}/snippet.conf;"),
        ("/var/log/nginx/", f"{tmp}/"),
        ("/run/nginx.pid", f"{tmp}/nginx.pid"),
        ("/etc/ssl/certs/pdf.example.com.pem", f"{tmp}/cert.pem"),
        ("/etc/ssl/private/pdf.example.com.key", f"{tmp}/key.pem"),
    ]:
        text = text.replace(old, new)
    return text


@pytest.fixture
def tmp(tmp_path, module_so):
    (tmp_path / "secret").write_text(SECRET + "\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "1", "-subj", "/CN=pdf.example.com",
                    "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    with open(os.path.join(CONF, "enconvert-snippet.conf")) as f:
        (tmp_path / "snippet.conf").write_text(installed_paths(f.read(), tmp_path))
    return tmp_path


def nginx_t(tmp, conf_text):
    conf = tmp / "nginx.conf"
    conf.write_text(conf_text)
    return subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(conf),
                           "-e", str(tmp / "error.log")],
                          capture_output=True, text=True)


def wrapped(tmp, server_level):
    """A main configuration around a server {} (or http-level) example."""
    return installed_paths(f"""
include /etc/nginx/modules-enabled/*.conf;
pid /run/nginx.pid;
events {{}}
http {{
    include /etc/nginx/conf.d/*.conf;
    client_body_temp_path {tmp};
    {server_level}
}}
""", tmp)


def test_full_server_example(tmp):
    with open(os.path.join(CONF, "examples", "full-server.conf")) as f:
        text = installed_paths(f.read(), tmp)
    text = text.replace("user www-data;", "" if os.geteuid() else "user www-data;")
    res = nginx_t(tmp, text)
    assert res.returncode == 0, res.stderr


def test_reverse_proxy_example(tmp):
    with open(os.path.join(CONF, "examples", "reverse-proxy.conf")) as f:
        res = nginx_t(tmp, wrapped(tmp, installed_paths(f.read(), tmp)))
    assert res.returncode == 0, res.stderr


def test_snippet_in_an_existing_server(tmp):
    res = nginx_t(tmp, wrapped(tmp, "server { listen 127.0.0.1:1; "
                                    "include snippets/enconvert.conf; }"))
    assert res.returncode == 0, res.stderr


def test_snippet_needs_the_log_format(tmp):
    # Without conf.d's log format the snippet does not load: the package
    # installs both together.
    text = wrapped(tmp, "server { listen 127.0.0.1:1; include snippets/enconvert.conf; }")
    text = text.replace(f"include {CONF}/enconvert-log.conf;", "")
    res = nginx_t(tmp, text)
    assert res.returncode != 0 and "enconvert" in res.stderr


def test_the_directives_page_example(tmp):
    """docs/directives.md's complete example, as a user would copy it (its
    paths pointed at the test's files). It had no mime.types: nginx served
    every download as text/plain."""
    with open(os.path.join(REPO, "docs", "directives.md")) as f:
        doc = f.read()
    example = doc.split("```nginx\n", 1)[1].split("```", 1)[0]
    assert "include /etc/nginx/mime.types;" in example
    text = example.replace("load_module /path/to/build/nginx/ngx_http_enconvert_module.so;",
                           f"load_module {MODULE};\npid {tmp}/nginx.pid;\nevents {{}}")
    text = text.replace("/srv/enconvert/var/secret", f"{tmp}/secret")
    text = text.replace("listen 443 ssl;", f"listen 443 ssl;\n        ssl_certificate {tmp}/cert.pem;\n"
                                           f"        ssl_certificate_key {tmp}/key.pem;")
    text = text.replace("http {", f"http {{\n    client_body_temp_path {tmp};\n"
                                  f"    access_log {tmp}/access.log;", 1)
    res = nginx_t(tmp, text)
    assert res.returncode == 0, res.stderr
