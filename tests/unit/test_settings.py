"""Settings: flags > ``PROPYLON_*`` environment > ``propylon.toml`` > defaults, one frozen value."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from propylon.settings import Settings, SettingsError, load_settings

NO_FLAGS: dict[str, Any] = {}
NO_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def empty_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs where no ``propylon.toml`` is found unless it writes one."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source() -> None:
    settings = load_settings(NO_FLAGS, NO_ENV)
    assert settings == Settings(
        host="127.0.0.1",
        port=4580,
        state_dir=Path(".propylon"),
        in_memory=False,
        region="us-east-1",
        account_id="000000000000",
        log_level="info",
    )
    assert settings.store_backend == "sqlite"


def test_settings_are_frozen() -> None:
    settings = load_settings(NO_FLAGS, NO_ENV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_flags_given_as_none_leave_defaults() -> None:
    assert load_settings({"port": None, "region": None}, NO_ENV) == Settings()


def test_toml_file_overrides_defaults(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path / "p.toml", 'port = 5000\nregion = "eu-west-1"\nin_memory = true\n'
    )
    settings = load_settings(NO_FLAGS, NO_ENV, config)
    assert (settings.port, settings.region, settings.in_memory) == (5000, "eu-west-1", True)
    assert settings.store_backend == "memory"
    assert settings.account_id == "000000000000"


def test_environment_overrides_toml(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "p.toml", 'port = 5000\nregion = "eu-west-1"\n')
    settings = load_settings(NO_FLAGS, {"PROPYLON_PORT": "6000"}, config)
    assert (settings.port, settings.region) == (6000, "eu-west-1")


def test_flags_override_environment_and_toml(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path / "p.toml", 'port = 5000\nregion = "eu-west-1"\nhost = "0.0.0.0"\n'
    )
    environ = {"PROPYLON_PORT": "6000", "PROPYLON_REGION": "ap-south-1"}
    settings = load_settings({"port": "7000"}, environ, config)
    assert (settings.port, settings.region, settings.host) == (7000, "ap-south-1", "0.0.0.0")


def test_false_flag_overrides_true_environment() -> None:
    settings = load_settings({"in_memory": False}, {"PROPYLON_IN_MEMORY": "1"})
    assert settings.in_memory is False


def test_every_setting_reads_its_environment_variable() -> None:
    environ = {
        "PROPYLON_HOST": "0.0.0.0",
        "PROPYLON_PORT": "0",
        "PROPYLON_STATE_DIR": "/var/lib/propylon",
        "PROPYLON_IN_MEMORY": "yes",
        "PROPYLON_REGION": "us-gov-west-1",
        "PROPYLON_ACCOUNT_ID": "123456789012",
        "PROPYLON_LOG_LEVEL": "debug",
    }
    assert load_settings(NO_FLAGS, environ) == Settings(
        host="0.0.0.0",
        port=0,
        state_dir=Path("/var/lib/propylon"),
        in_memory=True,
        region="us-gov-west-1",
        account_id="123456789012",
        log_level="debug",
    )


def test_unrelated_environment_variables_are_ignored() -> None:
    environ = {"PORT": "1", "REGION": "xx", "PROPYLON_UNKNOWN": "x", "AWS_REGION": "eu-west-1"}
    assert load_settings(NO_FLAGS, environ) == Settings()


def test_toml_keys_may_be_hyphenated(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path / "p.toml",
        'state-dir = "/srv/state"\naccount-id = "123456789012"\nlog-level = "warning"\n'
        "in-memory = true\n",
    )
    settings = load_settings(NO_FLAGS, NO_ENV, config)
    assert settings.state_dir == Path("/srv/state")
    assert settings.account_id == "123456789012"
    assert settings.log_level == "warning"
    assert settings.in_memory is True


def test_toml_in_the_working_directory_is_read(empty_working_directory: Path) -> None:
    write_toml(empty_working_directory / "propylon.toml", 'region = "eu-central-1"\n')
    assert load_settings(NO_FLAGS, NO_ENV).region == "eu-central-1"


def test_config_environment_variable_names_the_file(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "elsewhere.toml", "port = 5001\n")
    assert load_settings(NO_FLAGS, {"PROPYLON_CONFIG": str(config)}).port == 5001


def test_config_flag_wins_over_config_environment_variable(tmp_path: Path) -> None:
    from_env = write_toml(tmp_path / "env.toml", "port = 5001\n")
    from_flag = write_toml(tmp_path / "flag.toml", "port = 5002\n")
    settings = load_settings(NO_FLAGS, {"PROPYLON_CONFIG": str(from_env)}, from_flag)
    assert settings.port == 5002


def test_config_flag_replaces_the_working_directory_file(
    tmp_path: Path, empty_working_directory: Path
) -> None:
    write_toml(empty_working_directory / "propylon.toml", 'region = "eu-central-1"\n')
    config = write_toml(tmp_path / "p.toml", "port = 5003\n")
    settings = load_settings(NO_FLAGS, NO_ENV, config)
    assert (settings.port, settings.region) == (5003, "us-east-1")


@pytest.mark.parametrize("text", ["true", "1", "yes", "on", "TRUE", " On "])
def test_true_boolean_spellings(text: str) -> None:
    assert load_settings(NO_FLAGS, {"PROPYLON_IN_MEMORY": text}).in_memory is True


@pytest.mark.parametrize("text", ["false", "0", "no", "off", "False", ""])
def test_false_boolean_spellings(text: str) -> None:
    assert load_settings(NO_FLAGS, {"PROPYLON_IN_MEMORY": text}).in_memory is False


def test_log_level_is_case_insensitive() -> None:
    assert load_settings(NO_FLAGS, {"PROPYLON_LOG_LEVEL": "DEBUG"}).log_level == "debug"


@pytest.mark.parametrize("port", ["0", "1", "65535"])
def test_port_bounds_are_accepted(port: str) -> None:
    assert load_settings({"port": port}, NO_ENV).port == int(port)


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        pytest.param({"port": "http"}, NO_ENV, "--port: not a port number: 'http'", id="port-word"),
        pytest.param(
            {"port": "65536"}, NO_ENV, "--port: port out of range 0-65535: 65536", id="port-high"
        ),
        pytest.param(
            NO_FLAGS,
            {"PROPYLON_PORT": "-1"},
            "PROPYLON_PORT: port out of range 0-65535: -1",
            id="port-negative",
        ),
        pytest.param(
            NO_FLAGS,
            {"PROPYLON_PORT": "45.8"},
            "PROPYLON_PORT: not a port number: '45.8'",
            id="port-fraction",
        ),
        pytest.param(
            {"region": "US-EAST-1"},
            NO_ENV,
            "--region: not a valid region: 'US-EAST-1'",
            id="region-upper-case",
        ),
        pytest.param(
            NO_FLAGS,
            {"PROPYLON_REGION": "useast1"},
            "PROPYLON_REGION: not a valid region: 'useast1'",
            id="region-no-dashes",
        ),
        pytest.param(
            {"account_id": "12345"},
            NO_ENV,
            "--account-id: not a valid account id (12 digits): '12345'",
            id="account-short",
        ),
        pytest.param(
            NO_FLAGS,
            {"PROPYLON_ACCOUNT_ID": "12345678901a"},
            "PROPYLON_ACCOUNT_ID: not a valid account id (12 digits): '12345678901a'",
            id="account-letter",
        ),
        pytest.param(
            NO_FLAGS,
            {"PROPYLON_IN_MEMORY": "maybe"},
            "PROPYLON_IN_MEMORY: not a boolean: 'maybe'",
            id="boolean-word",
        ),
        pytest.param(
            {"log_level": "loud"},
            NO_ENV,
            "--log-level: not a valid log level: 'loud'",
            id="log-level",
        ),
    ],
)
def test_invalid_value_names_its_source(
    flags: dict[str, Any], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(flags, environ)
    assert str(caught.value) == message


def test_invalid_toml_value_names_the_file_and_key(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "p.toml", 'port = "eighty"\n')
    with pytest.raises(SettingsError, match=r"p\.toml: port: not a port number: 'eighty'"):
        load_settings(NO_FLAGS, NO_ENV, config)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param("port = true", "port: not a port number: True", id="port-boolean"),
        pytest.param("port = 4580.5", "port: not a port number: 4580.5", id="port-float"),
        pytest.param('region = ["us-east-1"]', "region: not a string", id="region-list"),
        pytest.param("in-memory = 2", "in-memory: not a boolean: 2", id="boolean-number"),
    ],
)
def test_toml_value_of_the_wrong_type_is_an_error(tmp_path: Path, line: str, message: str) -> None:
    config = write_toml(tmp_path / "p.toml", line + "\n")
    with pytest.raises(SettingsError, match=message):
        load_settings(NO_FLAGS, NO_ENV, config)


def test_overridden_invalid_value_is_not_an_error(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "p.toml", 'port = "eighty"\n')
    assert load_settings({"port": "81"}, {"PROPYLON_PORT": "x"}, config).port == 81


def test_unknown_toml_key_is_an_error(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "p.toml", "prot = 4581\n")
    with pytest.raises(SettingsError, match=r"p\.toml: unknown setting 'prot'"):
        load_settings(NO_FLAGS, NO_ENV, config)


def test_missing_config_flag_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"configuration file not found: .*missing\.toml"):
        load_settings(NO_FLAGS, NO_ENV, tmp_path / "missing.toml")


def test_missing_config_environment_file_is_an_error(tmp_path: Path) -> None:
    environ = {"PROPYLON_CONFIG": str(tmp_path / "missing.toml")}
    with pytest.raises(SettingsError, match=r"configuration file not found: .*missing\.toml"):
        load_settings(NO_FLAGS, environ)


def test_config_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="configuration file not found"):
        load_settings(NO_FLAGS, NO_ENV, tmp_path)


def test_malformed_toml_is_an_error(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "p.toml", "port = \n")
    with pytest.raises(SettingsError, match=r"p\.toml: not valid TOML: .*line 1"):
        load_settings(NO_FLAGS, NO_ENV, config)


def test_malformed_toml_in_the_working_directory_is_an_error(
    empty_working_directory: Path,
) -> None:
    write_toml(empty_working_directory / "propylon.toml", "[unclosed\n")
    with pytest.raises(SettingsError, match=r"propylon\.toml: not valid TOML"):
        load_settings(NO_FLAGS, NO_ENV)


def test_toml_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_bytes(b'region = "\xff\xfe"\n')
    with pytest.raises(SettingsError, match=r"p\.toml: not valid TOML"):
        load_settings(NO_FLAGS, NO_ENV, config)


def test_function_tables_in_the_file_become_function_specs(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    config = write_toml(
        tmp_path / "propylon.toml",
        '[functions.pets]\nhandler = "pets.handler"\ncode = "src"\ntimeout = 5\n'
        'environment = { TABLE = "pets" }\n',
    )
    settings = load_settings(NO_FLAGS, NO_ENV, config)
    (spec,) = settings.functions
    assert (spec.name, spec.handler, spec.code, spec.timeout) == (
        "pets",
        "pets.handler",
        tmp_path / "src",  # relative to the file
        5,
    )
    assert dict(spec.environment) == {"TABLE": "pets"}


def test_a_function_flag_replaces_the_same_named_table(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "propylon.toml", '[functions.pets]\nhandler = "pets.handler"\n')
    flags = {"functions": ["pets=handlers/pets.py:main", "toys=toys.py:handler"]}
    settings = load_settings(flags, NO_ENV, config)
    assert [(s.name, s.handler) for s in settings.functions] == [
        ("pets", "handlers/pets.py:main"),
        ("toys", "toys.py:handler"),
    ]


def test_a_malformed_function_flag_names_its_source() -> None:
    with pytest.raises(SettingsError, match=r"^--function: "):
        load_settings({"functions": ["no-equals-sign"]}, NO_ENV)


def test_a_functions_key_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "propylon.toml", 'functions = "pets"\n')
    with pytest.raises(SettingsError, match="functions"):
        load_settings(NO_FLAGS, NO_ENV, config)


def test_policy_settings_have_aws_defaults_and_logs_sit_under_the_state_dir() -> None:
    settings = load_settings(NO_FLAGS, {"PROPYLON_STATE_DIR": "/srv/p"})
    assert (settings.throttle_rate, settings.throttle_burst) == (10000.0, 5000)
    assert settings.verify_signatures is False
    assert settings.credentials is None
    assert settings.logs == Path("/srv/p/logs")


def test_policy_settings_come_from_every_source(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path / "p.toml", 'log-dir = "/var/log/p"\nthrottle_rate = 2.5\nthrottle_burst = 7\n'
    )
    environ = {"PROPYLON_VERIFY_SIGNATURES": "true", "PROPYLON_CREDENTIALS": "/etc/keys"}
    settings = load_settings({"throttle_burst": "9"}, environ, config)
    assert settings.logs == Path("/var/log/p")
    assert (settings.throttle_rate, settings.throttle_burst) == (2.5, 9)
    assert settings.verify_signatures is True
    assert settings.credentials == Path("/etc/keys")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"throttle_rate": "fast"}, "--throttle-rate: not a number: 'fast'"),
        ({"throttle_burst": "-1"}, "--throttle-burst: must not be negative: '-1'"),
        ({"throttle_burst": "2.5"}, "--throttle-burst: not a number: '2.5'"),
    ],
)
def test_invalid_throttle_limits_name_their_source(flags: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(flags, NO_ENV)
    assert str(caught.value) == message
