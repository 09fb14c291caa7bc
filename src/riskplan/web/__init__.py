"""The safety team's web application: a JSON API (bearer tokens) and server-rendered pages (Jinja2 +
HTMX, session cookies) over the plan, cases, signals and studies. ``create_app`` is in
:mod:`riskplan.web.app`; ``riskplan serve`` and ``riskplan user`` are in :mod:`riskplan.web.cli`."""
