"""Sphinx extension for the course site: load each script once per page.

Jupyter Book 1 registers sphinx-thebe's and sphinx-togglebutton's inline settings twice (once with the file name None,
once with "") and a local MathJax twice (with and without defer). Each page then declared `const THEBE_JS_URL` twice and
loaded MathJax twice — JavaScript errors in every reader's console, found by tools/check_site.py in headless Chromium."""


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        filename = str(getattr(script, "filename", script) or "")  # an inline script has None or ""
        # a file is loaded once, whatever its attributes (MathJax came twice, with and without defer);
        # an inline script is repeated when its body is
        key = filename or repr(sorted(getattr(script, "attributes", {}).items()))
        if key not in seen:  # the first copy keeps its place
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
