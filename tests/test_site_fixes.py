"""The site's Sphinx extension (_ext/site_fixes.py): each script once per page, and no inlined
widget state."""

import importlib.util
from pathlib import Path

from sphinx.builders.html._assets import _JavaScript

_spec = importlib.util.spec_from_file_location(
    "site_fixes", Path(__file__).parent.parent / "_ext" / "site_fixes.py"
)
site_fixes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site_fixes)


def tidy(scripts):
    context = {"script_files": scripts}
    site_fixes._tidy_scripts(None, "page", "page.html", context, None)
    return context["script_files"]


def test_repeated_files_and_inline_scripts_are_loaded_once_in_their_first_place():
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [
        _JavaScript("a.js"),
        _JavaScript("", body=thebe),
        _JavaScript("mathjax.js", defer="defer"),
        _JavaScript(None, body=thebe),
        _JavaScript("mathjax.js"),
        _JavaScript("", body="other"),
    ]
    kept = tidy(scripts)
    assert [(script.filename, script.attributes.get("body")) for script in kept] == [
        ("a.js", None),
        ("", thebe),
        ("mathjax.js", None),
        ("", "other"),
    ]
    assert kept[2].attributes == {"defer": "defer"}


def test_widget_state_is_not_inlined():
    scripts = [
        _JavaScript("", type=site_fixes.WIDGET_STATE, body='{"state": {"abc": {}}}'),
        _JavaScript("a.js"),
    ]
    assert [script.filename for script in tidy(scripts)] == ["a.js"]
