"""Settings from the environment (``RISKPLAN_*``) and an optional ``riskplan.toml``.

Precedence, highest first: environment variables, the settings file, the defaults below. The settings
file is the one named by ``RISKPLAN_CONFIG``, else the first ``riskplan.toml`` found in the working
directory or a folder above it (as git finds its repository).

Where the data is never depends on the folder a command is run from: a relative SQLite path or output
folder in ``riskplan.toml`` is taken relative to that file's folder, one in an environment variable
relative to the working directory (and shown absolute); without either, the database and the outputs
are in the per-user data folder :func:`data_dir` (``$XDG_DATA_HOME/riskplan``, by default
``~/.local/share/riskplan``): ``riskplan.db`` and ``out/``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_NAME = "riskplan.toml"


def data_dir() -> Path:
    """The per-user data folder (XDG Base Directory specification): ``$XDG_DATA_HOME/riskplan``."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "riskplan"


def config_file() -> Path | None:
    """The settings file in use: ``RISKPLAN_CONFIG``, else ``riskplan.toml`` here or in a folder above."""
    named = os.environ.get("RISKPLAN_CONFIG")
    if named:
        path = Path(named).expanduser().absolute()
        return path if path.is_file() else None
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def absolute_database_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite file path made absolute against ``base``; other URLs unchanged."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return url  # reported, with the database, when a command opens it
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or parsed.query.get("uri") == "true"
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str((base / database).resolve())).render_as_string(hide_password=False)


class _TomlFile(TomlConfigSettingsSource):
    """``riskplan.toml``, with its relative paths taken relative to the file's folder."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        data = super()._read_file(file_path)
        folder = Path(str(file_path)).parent
        if isinstance(data.get("database_url"), str):
            data["database_url"] = absolute_database_url(data["database_url"], folder)
        if isinstance(data.get("output_dir"), str):
            data["output_dir"] = str(folder / Path(data["output_dir"]).expanduser())
        gateways = data.get("gateway")
        if isinstance(gateways, dict):
            for section in gateways.values():
                if isinstance(section, dict):
                    for name in GATEWAY_PATHS:
                        if isinstance(section.get(name), str):
                            section[name] = str(folder / Path(section[name]).expanduser())
        return data


GATEWAY_PATHS = ("key", "certificate", "partner_certificate", "local_gateway")


class GatewayConnection(BaseModel):
    """How riskplan reaches one destination's AS2 gateway: a ``[gateway.<CODE>]`` section of riskplan.toml.

    Keys and certificates stay in PEM files named here (never in the database); a relative path is
    taken relative to riskplan.toml's folder. ``local_gateway`` names the ``--state-dir`` of a
    ``riskplan gateway serve``, whose gateway.json gives the partner's AS2 id and certificate and the
    demo sender's key and certificate (any of them can still be given here).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="The partner's AS2 endpoint, e.g. http://127.0.0.1:8799/as2")
    partner_as2_id: str | None = Field(default=None, description="The partner's AS2 id (AS2-To)")
    as2_id: str | None = Field(default=None, description="Our AS2 id (AS2-From)")
    key: Path | None = Field(default=None, description="Our RSA private key (PEM), to sign and to decrypt")
    certificate: Path | None = Field(default=None, description="Our certificate (PEM)")
    partner_certificate: Path | None = Field(default=None, description="The partner's certificate (PEM)")
    local_gateway: Path | None = Field(default=None, description="State folder of a `riskplan gateway serve`")
    ack_url: str | None = Field(default=None, description="Where ICH ACKs are polled (default: <url base>/acks)")
    attempts: int = Field(default=5, ge=1, le=20, description="Attempts while the gateway is unreachable")
    initial_delay: float = Field(default=0.5, ge=0, description="Seconds before the first retry (then doubled)")
    max_delay: float = Field(default=8.0, ge=0, description="Longest wait between two attempts, seconds")
    timeout: float = Field(default=60.0, gt=0, description="Seconds one HTTP request may take")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RISKPLAN_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{data_dir() / 'riskplan.db'}",
        description="SQLAlchemy URL; SQLite is the embedded default, PostgreSQL the production database",
    )
    output_dir: Path = Field(
        default_factory=lambda: data_dir() / "out", description="Where reports and renderings are written"
    )
    default_plan: str = Field(default="uplizna", description="Bundled plan used when none is named")
    e2b_sender_id: str = Field(default="RISKPLAN", description="E2B(R3) N.1.3 batch sender identifier")
    e2b_receiver_id: str = Field(default="EVHUMAN", description="E2B(R3) N.1.4 batch receiver (EudraVigilance)")
    e2b_receiver_ids: dict[str, str] = Field(
        default_factory=dict,
        description="E2B(R3) N.1.4 of destinations that ship none (UK: the MHRA's): [e2b_receiver_ids] UK = ...",
    )
    e2b_max_file_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=10_000,
        description="Largest E2B(R3) file `case import` reads; `case export` splits its batches to stay under it",
    )
    gateway: dict[str, GatewayConnection] = Field(
        default_factory=dict,
        description="AS2 connection of each destination sent over AS2: [gateway.EU] in riskplan.toml",
    )
    user: str = Field(
        default_factory=lambda: os.environ.get("USER") or "riskplan",
        description="Who is recorded in the audit trail for command-line changes",
    )

    @field_validator("database_url")
    @classmethod
    def _absolute_database(cls, value: str) -> str:
        return absolute_database_url(value, Path.cwd())

    @field_validator("output_dir")
    @classmethod
    def _absolute_output(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        found = config_file()
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if found is not None:
            sources += (_TomlFile(settings_cls, toml_file=found),)
        return sources


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
