"""Dossier rendering: a view-model dataclass in, PDF bytes out (Jinja + WeasyPrint, sandboxed).

`reports.render.render_pdf(template_name, view_model)` renders; `reports.victim` holds the victim's view-model.
Pure: no Flask app, no database, no imports from casework, evidence or forms. The package root imports nothing, so
reading a view-model module does not load WeasyPrint (about half a second at start-up).
"""
