"""The safety team's web application: a JSON API (bearer tokens) and server-rendered pages (Jinja2 +
HTMX, session cookies) over the plan, cases, signals and studies. ``create_app`` is in
:mod:`riskplan.web.app`; ``riskplan serve`` and ``riskplan user`` are in :mod:`riskplan.web.cli`."""

from riskplan.web import tables as _tables  # noqa: F401 -- its tables join the store's metadata (riskplan.schema)
from riskplan.web.auth import Auth, usernames
from riskplan.web.cli import serve, user_app
from riskplan.web.config import WebSettings
from riskplan.web.roles import Role, parse_role
from riskplan.web.study_cli import study_run as study_run_command
from riskplan.web.study_ops import record_run as record_study_run

__all__ = [
    "Auth",
    "Role",
    "WebSettings",
    "parse_role",
    "record_study_run",
    "serve",
    "study_run_command",
    "user_app",
    "usernames",
]
