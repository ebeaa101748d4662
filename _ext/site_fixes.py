"""Sphinx extension for the course site: load each script once per page, and no widget state.

Jupyter Book 1 registers sphinx-thebe's and sphinx-togglebutton's inline settings twice (once with
the file name None, once with "") and a local MathJax twice (with and without defer). Each page then
declared `const THEBE_JS_URL` twice and loaded MathJax twice — JavaScript errors in every reader's
console, found by tools/check_site.py in headless Chromium.

The lessons' ipywidgets explorers run only in a live kernel; the site shows their static versions
instead (the widget cells are tagged remove-output, and no widget scripts are loaded:
`nb_ipywidgets_js: {}`). The widget state that the build's kernel stored in the notebook would still
be inlined in the page — hundreds of kilobytes of base64 pictures nothing reads — so it is dropped
too."""

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _tidy_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        if getattr(script, "attributes", {}).get("type") == WIDGET_STATE:
            continue
        filename = str(getattr(script, "filename", script) or "")  # an inline script has None or ""
        # a file is loaded once, whatever its attributes (MathJax came twice, with and without
        # defer);
        # an inline script is repeated when its body is
        key = filename or repr(sorted(getattr(script, "attributes", {}).items()))
        if key not in seen:  # the first copy keeps its place
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _tidy_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
