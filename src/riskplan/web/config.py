"""Settings of the web application, from the environment (``RISKPLAN_WEB_*``).

The shared settings (database, output folder, default plan, E2B ids) come from
:class:`riskplan.settings.Settings`; these are the ones only the web application reads.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from riskplan.settings import Settings
from riskplan.store import AccountSettings


class WebSettings(AccountSettings):
    """Lock-out and password hashing (``lockout_attempts``, ``lockout_minutes``, ``argon2_*``) come from
    :class:`~riskplan.store.accounts.AccountSettings`, which the command line reads too."""

    model_config = SettingsConfigDict(env_prefix="RISKPLAN_WEB_", extra="ignore")

    secret_key: str | None = Field(
        default=None,
        description="Key that signs session cookies; when unset one is generated once and kept in the database",
    )
    session_idle_minutes: int = Field(default=480, ge=1, description="A session ends after this long unused")
    session_max_hours: int = Field(default=24, ge=1, description="A session ends this long after login regardless")
    client_lockout_attempts: int = Field(
        default=20, ge=1, description="Failed logins from one client address that lock that address (spraying)"
    )
    client_lockout_minutes: int = Field(default=15, ge=1, description="How long a locked client address stays locked")
    cookie_secure: bool | None = Field(
        default=None,
        description="Session cookies over HTTPS only, and HSTS; default: on when `riskplan serve` listens on an "
        "address other than localhost (behind a TLS reverse proxy), off on localhost",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Addresses of the reverse proxies whose X-Forwarded-For/-Proto are trusted (comma-separated, "
        "e.g. 127.0.0.1); unset: the headers are ignored and the client address is the connection's",
    )
    cdm_roots: list[Path] = Field(
        default_factory=list,
        description="Folders whose OMOP CDM sources studies may read (default: <output dir>/cdm)",
    )
    signal_results: Path | None = Field(
        default=None,
        description="Disproportionality results of `riskplan signal detect` (.parquet or .csv; "
        "default: <output dir>/signals/disproportionality.parquet)",
    )
    max_upload_mib: int = Field(default=50, ge=1, description="Largest E2B file accepted for import")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes of `riskplan serve` (each with its own connection pool; lock-outs, "
        "sessions, the audit trail and the cached plan are kept in the database, so they may be several)",
    )
    # A request's work is mostly Python holding the interpreter lock, so threads beyond a few per process only
    # queue for that lock: with 50 clients on 2 cores and 2 workers, 20 threads gave about 285 writes/s with
    # p95 300-400 ms, 3-6 threads about 350 writes/s with p95 200-230 ms (bench/bench_web_load.py, 2026-12-04).
    threads: int = Field(
        default=6,
        ge=1,
        le=1000,
        description="Requests each server process works on at once (the thread pool of the API's endpoints and "
        "pages); more threads than a few per process wait for the interpreter lock (raise it when long reports "
        "are generated in the app while others work); at most db_pool_size, so that no request waits for a "
        "connection or opens one that is closed again",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Database connections each server process keeps open (PostgreSQL); "
        "workers x (db_pool_size + db_max_overflow) must stay below the server's max_connections",
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=1000, description="Connections opened beyond db_pool_size at busy times, then closed"
    )

    @property
    def secure_transport(self) -> bool:
        """Whether cookies are marked Secure and HSTS is sent (unset counts as off: plain HTTP, tests)."""
        return bool(self.cookie_secure)


def serves_only_this_machine(host: str) -> bool:
    """Whether ``host`` (the address `riskplan serve` binds) is a loopback address."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cdm_roots(settings: Settings, web: WebSettings) -> list[Path]:
    roots = web.cdm_roots or [settings.output_dir / "cdm"]
    return [root.resolve() for root in roots]


def signal_results_path(settings: Settings, web: WebSettings) -> Path:
    if web.signal_results is not None:
        return web.signal_results
    return settings.output_dir / "signals" / "disproportionality.parquet"
