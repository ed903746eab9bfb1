"""Every directive of the module's table is documented: a section in
docs/directives.md and a row in docs/internals.md's directive table."""

import os
import re

from ngxtest import REPO


def directives():
    with open(os.path.join(REPO, "ngx_module", "ngx_http_enconvert_module.c")) as f:
        return re.findall(r'\{ ngx_string\("(enconvert_[a-z_]+)"\)', f.read())


def doc(name):
    with open(os.path.join(REPO, "docs", name)) as f:
        return f.read()


def test_table_is_found():
    assert "enconvert_backend" in directives()
    assert "enconvert_curve_client_key_file" in directives()


def test_each_directive_has_a_section_in_directives_md():
    text = doc("directives.md")
    missing = [d for d in directives() if f"\n## {d}\n" not in text]
    assert not missing, missing


def test_each_directive_has_a_row_in_internals_md():
    text = doc("internals.md")
    handlers = {"enconvert_rate_limited", "enconvert_error", "enconvert_metrics"}
    missing = [d for d in directives()
               if d not in handlers and f"| `{d}` |" not in text]
    assert not missing, missing
