"""The credentials file: the AWS shared-credentials format, read once at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from propylon.credentials import Credential, CredentialsError, load_credentials, parse_credentials
from propylon.settings import Settings

DEFAULT_ACCOUNT = "000000000000"


def parse(text: str) -> dict[str, Credential]:
    return parse_credentials(text, "creds.ini", DEFAULT_ACCOUNT)


def test_profiles_become_keys_with_their_secret_account_and_user() -> None:
    found = parse(
        "[default]\n"
        "aws_access_key_id = AKIDDEFAULT\n"
        "aws_secret_access_key = wJalr/K7MDENG+bPxRfiCY=\n"
        "\n"
        "[alice]\n"
        "aws_access_key_id=AKIDALICE\n"
        "aws_secret_access_key=alice-secret\n"
        "aws_account_id = 111122223333\n"
    )
    assert found == {
        "AKIDDEFAULT": Credential("wJalr/K7MDENG+bPxRfiCY=", DEFAULT_ACCOUNT, "default"),
        "AKIDALICE": Credential("alice-secret", "111122223333", "alice"),
    }


def test_account_id_key_is_accepted_too() -> None:
    found = parse("[bob]\naws_access_key_id=K\naws_secret_access_key=S\naccount_id=222233334444\n")
    assert found["K"].account_id == "222233334444"


def test_profiles_without_keys_and_unknown_settings_are_ignored() -> None:
    found = parse(
        "[profile sso]\nsso_start_url = https://example.com\nregion = eu-west-1\n"
        "[profile dev]\naws_access_key_id = K\naws_secret_access_key = S\n"
        "aws_session_token = ignored\nregion = us-west-2\n"
    )
    assert found == {"K": Credential("S", DEFAULT_ACCOUNT, "dev")}


def test_secret_with_percent_signs_is_read_literally() -> None:
    assert parse("[p]\naws_access_key_id=K\naws_secret_access_key=a%b%%c\n")["K"].secret_key == (
        "a%b%%c"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("aws_access_key_id = K\n", "creds.ini, line 1: expected a [profile] line"),
        ("[p]\naws_access_key_id = K\n", "profile [p] has no aws_secret_access_key"),
        ("[p]\naws_secret_access_key = S\n", "profile [p] has no aws_access_key_id"),
        ("[p]\nregion = us-east-1\n", "no profile with aws_access_key_id"),
        ("", "no profile with aws_access_key_id"),
        (
            "[p]\naws_access_key_id=K\naws_secret_access_key=S\naws_account_id=12\n",
            "profile [p]: not an account id (12 digits): '12'",
        ),
        (
            "[a]\naws_access_key_id=K\naws_secret_access_key=S\n"
            "[b]\naws_access_key_id=K\naws_secret_access_key=T\n",
            "access key K appears with two secrets",
        ),
        ("[p]\n[p]\n", "not a credentials file"),
        ("[p]\naws_access_key_id=A/B\naws_secret_access_key=S\n", "not an access key id"),
    ],
)
def test_unusable_documents_are_refused_in_one_line_naming_the_file(text: str, reason: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        parse(text)
    message = str(raised.value)
    assert message.startswith("creds.ini")
    assert reason in message
    assert "\n" not in message


def test_no_file_means_no_keys() -> None:
    assert load_credentials(Settings()) == {}


def test_file_is_loaded_with_the_settings_account_as_default(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("[default]\naws_access_key_id=K\naws_secret_access_key=S\n")
    settings = Settings(credentials=path, account_id="123456789012")
    assert load_credentials(settings) == {"K": Credential("S", "123456789012", "default")}


def test_missing_file_is_a_startup_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(CredentialsError, match=f"^{re.escape(str(path))}: cannot be read"):
        load_credentials(Settings(credentials=path))


def test_verify_signatures_without_a_file_is_a_startup_error() -> None:
    with pytest.raises(CredentialsError, match="--verify-signatures needs a credentials file"):
        load_credentials(Settings(verify_signatures=True))
