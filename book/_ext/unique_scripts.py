"""A Sphinx extension: each page loads each script once.

sphinx-thebe (which Jupyter Book always loads) registers its inline configuration script
once per read of the sources, and a page that includes it twice stops with "Identifier
'THEBE_JS_URL' has already been declared" in the browser console.
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # an inline script comes back with a filename of None or "" (from the saved environment)
        name = getattr(script, "filename", script) or ""
        key = (str(name), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
