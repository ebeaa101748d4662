"""Sphinx extension for the course site: drop repeated inline scripts from every page.

Jupyter Book 1 loads sphinx-thebe twice, so each page declared `const THEBE_JS_URL` twice — a JavaScript
SyntaxError in every reader's console (found by tools/check_site.py in headless Chromium)."""


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(script), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
