"""Secret-shaped test values, made when the tests run.

Tests that prove a secret never reaches a log, a message or MLflow need a value to look
for. It is random so that no credential-looking text is committed, and so that finding
it in an output can only mean it leaked from where the test put it.
"""

from __future__ import annotations

import secrets


def throwaway_secret(label: str) -> str:
    """`<label>-<16 random hex digits>`: never a real credential, never reused."""
    return f"{label}-{secrets.token_hex(8)}"
