"""Keyed pseudonyms for account ids and names (HMAC-SHA256).

The same key gives the same pseudonym for the same id in every file and
every run, so clusters found on pseudonymised data can be matched back by
whoever holds the key, and by nobody else. The key is read from a file or an
environment variable, is never written to any output and never logged; the
summary records only a key *id* (an HMAC of a fixed label) so that two runs
can be checked to have used the same key.

Only ``account_id`` and ``account_name`` are replaced. Post texts and
``platform_urls`` may still hold handles (``RT @name:``, mentions, links to
profiles): treat them as personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import TYPE_CHECKING

from research.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["KEY_ENV_VAR", "key_id", "pseudonymise", "read_key"]

#: Environment variable read by :func:`read_key` when no file is given.
KEY_ENV_VAR = "HIJACK_CLUSTERS_PSEUDONYM_KEY"
_MIN_KEY_BYTES = 16


def read_key(path: str | Path | None = None, *, env: str | None = KEY_ENV_VAR) -> bytes | None:
    """The pseudonymisation key from a file, else from an environment variable.

    Parameters
    ----------
    path
        A file holding the key (surrounding white space is ignored).
    env
        The environment variable to read when ``path`` is None.

    Returns
    -------
    bytes or None
        The key, or None when neither a path nor the variable is given.

    Raises
    ------
    ConfigError
        If the file cannot be read or the key is shorter than 16 bytes.
    """
    if path is not None:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as err:
            raise ConfigError(
                f"{path}: cannot read the pseudonymisation key ({err.strerror})"
            ) from None
        where = str(path)
    elif env and os.environ.get(env):
        key = os.environ[env].strip().encode("utf-8")
        where = f"${env}"
    else:
        return None
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigError(
            f"{where}: the pseudonymisation key must be at least {_MIN_KEY_BYTES} bytes"
        )
    return key


def key_id(key: bytes) -> str:
    """A short, non-reversible id of a key, safe to record.

    Examples
    --------
    >>> len(key_id(b"0123456789abcdef"))
    12
    """
    return hmac.new(key, b"hijack-clusters key id", hashlib.sha256).hexdigest()[:12]


def pseudonymise(values: pa.Array | pa.ChunkedArray, key: bytes, *, kind: str) -> pa.Array:
    """Replace each value by its keyed pseudonym, once per distinct value.

    Parameters
    ----------
    values
        Strings (nulls stay null).
    key
        The secret key.
    kind
        What the values are (``"account"``, ``"name"``); part of the HMAC
        message, so an id and a name never share a pseudonym.

    Examples
    --------
    >>> import pyarrow as pa
    >>> out = pseudonymise(pa.array(["42", None, "42"]), b"0123456789abcdef", kind="account")
    >>> out[0] == out[2], out[1].as_py()
    (True, None)
    """
    import pyarrow as pa  # here: the command line reads KEY_ENV_VAR without pyarrow

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = values.dictionary_encode()
    prefix = kind.encode("utf-8") + b"\x00"
    mapped = [
        None
        if v is None
        else hmac.new(key, prefix + v.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        for v in encoded.dictionary.to_pylist()
    ]
    return pa.array(mapped, pa.string()).take(encoded.indices)
