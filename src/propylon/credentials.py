"""The access keys Propylon knows (``--credentials FILE``), read once at start-up.

The file is in the AWS shared-credentials format, so ``~/.aws/credentials`` can be used as it
is::

    [default]
    aws_access_key_id = AKIDEXAMPLE
    aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

    [alice]
    aws_access_key_id = AKIDALICE
    aws_secret_access_key = alice-secret
    aws_account_id = 111122223333

Each profile with both keys is one known caller. ``aws_account_id`` (or ``account_id``) gives
the caller's account; without it the caller belongs to the gateway's own account
(``--account-id``). Profiles with neither key (role or SSO profiles) are skipped; other keys
(``aws_session_token``, ``region`` ...) are ignored. The profile name is the caller's IAM user
name (``arn:aws:iam::{account}:user/{profile}``).
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import NamedTuple

from propylon.settings import Settings

_ACCESS_KEY = "aws_access_key_id"
_SECRET_KEY = "aws_secret_access_key"
_ACCOUNT_KEYS = ("aws_account_id", "account_id")
_ACCOUNT_ID = re.compile(r"\d{12}")


class CredentialsError(ValueError):
    """The credentials file cannot be used; the message says why in one line, naming the file."""


class Credential(NamedTuple):
    """What Propylon knows about one access key."""

    secret_key: str
    account_id: str
    user: str
    """The IAM user name the key belongs to: the profile's name."""


Credentials = dict[str, Credential]
"""access key id → its :class:`Credential`."""


def load_credentials(settings: Settings) -> Credentials:
    """The keys of ``settings.credentials`` (none when no file is configured)."""
    if settings.credentials is None:
        if settings.verify_signatures:
            raise CredentialsError("--verify-signatures needs a credentials file (--credentials)")
        return {}
    path = settings.credentials
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CredentialsError(f"{path}: not a text file (UTF-8)") from None
    return parse_credentials(text, path, settings.account_id)


def parse_credentials(text: str, path: Path | str, default_account: str) -> Credentials:
    """Read a shared-credentials document; ``path`` only names it in errors."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\0")
    try:
        parser.read_string(text, source=str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise CredentialsError(f"{path}, line {exc.lineno}: expected a [profile] line") from None
    except configparser.Error as exc:
        reason = str(exc).splitlines()[0]
        raise CredentialsError(f"{path}: not a credentials file: {reason}") from None
    found: Credentials = {}
    for section in parser.sections():
        profile = section.removeprefix("profile ").strip()
        entry = _credential(parser[section], profile, default_account, path)
        if entry is None:
            continue
        access_key, credential = entry
        if found.get(access_key, credential) != credential:
            raise CredentialsError(f"{path}: access key {access_key} appears with two secrets")
        found[access_key] = credential
    if not found:
        raise CredentialsError(f"{path}: no profile with {_ACCESS_KEY} and {_SECRET_KEY}")
    return found


def _credential(
    section: configparser.SectionProxy, profile: str, default_account: str, path: Path | str
) -> tuple[str, Credential] | None:
    access_key = section.get(_ACCESS_KEY, "").strip()
    secret_key = section.get(_SECRET_KEY, "").strip()
    if not access_key and not secret_key:
        return None
    if not access_key or not secret_key:
        missing = _SECRET_KEY if access_key else _ACCESS_KEY
        raise CredentialsError(f"{path}: profile [{profile}] has no {missing}")
    if "/" in access_key or any(character.isspace() for character in access_key):
        raise CredentialsError(f"{path}: profile [{profile}]: not an access key id: {access_key!r}")
    account = next(
        (section[key].strip() for key in _ACCOUNT_KEYS if key in section), default_account
    )
    if not _ACCOUNT_ID.fullmatch(account):
        raise CredentialsError(
            f"{path}: profile [{profile}]: not an account id (12 digits): {account!r}"
        )
    return access_key, Credential(secret_key, account, profile)
