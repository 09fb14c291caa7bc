"""The store: the database (engine, sessions, migrations), the audit trail, accounts and electronic
signatures, and what every command shares about the database (:mod:`riskplan.store.commands`)."""

from riskplan.store.accounts import USER_ENTITY, AccountSettings, LoginAttempt, PasswordCheck, UserAccount, aware
from riskplan.store.audit import (
    AuditEvent,
    audit_head,
    audit_row,
    audited_transaction,
    history,
    insert_audit_rows,
    record_change,
    utcnow,
)
from riskplan.store.audit_verify import verify_chain
from riskplan.store.backup import backup as backup_database
from riskplan.store.backup import restore as restore_database
from riskplan.store.changes import FieldChange, field_changes
from riskplan.store.cli import app as cli_app
from riskplan.store.commands import database, open_engine, user_errors, verified_signer
from riskplan.store.db import (
    SMALL_BATCH,
    Base,
    bulk_insert,
    insert_returning_ids,
    keep_statistics_current,
    make_engine,
    normalise_url,
    session_scope,
)
from riskplan.store.faults import DRIVER_ERRORS, database_fault, is_database_error, shown_url
from riskplan.store.migrate import branch_states, is_current, upgrade
from riskplan.store.retry import BUSY, CONFLICTS, retried, write_transaction
from riskplan.store.signatures import (
    ElectronicSignatureRow,
    Signature,
    SignatureMeaning,
    Signer,
    SigningRefused,
    require_role,
    sign,
    signatures,
    verify_signer,
)
from riskplan.store.spark import spark_master, spark_session

__all__ = [
    "BUSY",
    "CONFLICTS",
    "DRIVER_ERRORS",
    "SMALL_BATCH",
    "USER_ENTITY",
    "AccountSettings",
    "AuditEvent",
    "Base",
    "ElectronicSignatureRow",
    "FieldChange",
    "LoginAttempt",
    "PasswordCheck",
    "Signature",
    "SignatureMeaning",
    "Signer",
    "SigningRefused",
    "UserAccount",
    "audit_head",
    "audit_row",
    "audited_transaction",
    "aware",
    "backup_database",
    "branch_states",
    "bulk_insert",
    "cli_app",
    "database",
    "database_fault",
    "field_changes",
    "history",
    "insert_audit_rows",
    "insert_returning_ids",
    "is_current",
    "is_database_error",
    "keep_statistics_current",
    "make_engine",
    "normalise_url",
    "open_engine",
    "record_change",
    "require_role",
    "restore_database",
    "retried",
    "session_scope",
    "shown_url",
    "sign",
    "signatures",
    "spark_master",
    "spark_session",
    "upgrade",
    "user_errors",
    "utcnow",
    "verified_signer",
    "verify_chain",
    "verify_signer",
    "write_transaction",
]
