"""Settings from the environment (``RISKPLAN_*``) and an optional ``riskplan.toml``.

Precedence, highest first: environment variables, ``riskplan.toml`` in the working directory (or the
file named by ``RISKPLAN_CONFIG``), the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RISKPLAN_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/riskplan.db",
        description="SQLAlchemy URL; SQLite is the embedded default, PostgreSQL the production database",
    )
    output_dir: Path = Field(default=Path("var/out"), description="Where reports and renderings are written")
    default_plan: str = Field(default="uplizna", description="Bundled plan used when none is named")
    e2b_sender_id: str = Field(default="RISKPLAN", description="E2B(R3) N.1.3 batch sender identifier")
    e2b_receiver_id: str = Field(default="EVHUMAN", description="E2B(R3) N.1.4 batch receiver (EudraVigilance)")
    e2b_max_file_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=10_000,
        description="Largest E2B(R3) file `case import` reads; `case export` splits its batches to stay under it",
    )
    user: str = Field(
        default_factory=lambda: os.environ.get("USER") or "riskplan",
        description="Who is recorded in the audit trail for command-line changes",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("RISKPLAN_CONFIG", "riskplan.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
