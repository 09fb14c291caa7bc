"""How a batch file reaches a destination: the :class:`Transport` seam.

A transport takes the bytes of one E2B(R3) batch file and returns a :class:`Transmission`: the channel's
message id (the AS2 ``Message-ID``, or where the file was written) and the MDN status. The manual
channel writes the file to a folder for a web upload (EVWEB for EudraVigilance, the MHRA portal, FDA's
ESG WebTrader) and has no MDN: the ACK, imported later, confirms receipt. The AS2 channel plugs in by
implementing the same protocol (``submissions/as2*.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from riskplan.errors import UserInputError
from riskplan.submissions.destinations import Destination

MDN_NONE = "none"  # the channel has no MDN (manual upload)
MDN_PENDING = "pending"  # asynchronous MDN not yet received
MDN_PROCESSED = "processed"  # the gateway received the message (signed MDN, disposition processed)
MDN_FAILED = "failed"


@dataclass(frozen=True)
class Transmission:
    channel: str
    message_id: str  # the channel's id of this transmission, unique
    mdn_status: str
    location: str | None = None
    detail: str | None = None

    @property
    def delivered(self) -> bool:
        return self.mdn_status == MDN_PROCESSED


class Transport(Protocol):
    @property
    def channel(self) -> str:
        """The channel's name: manual, as2."""
        ...

    def send(self, batch: bytes, *, file_name: str, destination: Destination) -> Transmission:
        """Hand one batch file to the destination; raise UserInputError (nothing sent) when it cannot."""
        ...


@dataclass(frozen=True)
class ManualTransport:
    """Writes each batch to ``folder/<destination>/`` for a person to upload (EVWEB, MHRA portal)."""

    folder: Path
    channel: str = "manual"

    def send(self, batch: bytes, *, file_name: str, destination: Destination) -> Transmission:
        target_dir = self.folder / destination.code
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / file_name
            if target.exists() and target.read_bytes() != batch:
                raise UserInputError(f"{target} exists with other content: nothing written")
            target.write_bytes(batch)
        except OSError as exc:
            raise UserInputError(f"cannot write the batch to {target_dir}: {exc.strerror or exc}") from None
        digest = hashlib.sha256(batch).hexdigest()
        return Transmission(
            self.channel,
            f"manual:{destination.code}:{file_name}:{digest[:16]}",
            MDN_NONE,
            location=str(target),
            detail=f"written for upload to {destination.name}",
        )
