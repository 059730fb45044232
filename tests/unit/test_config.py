"""dockyard.toml and explicit settings: whole configs compared, every error message compared exactly."""

from __future__ import annotations

import json

import pytest

from builder.config import AppConfig, ProcessConfig, config_from_mapping, merge, parse_config, to_mapping
from builder.plans import HealthCheck, Resources
from core.errors import ConfigError

FULL = """
[build]
root = "./backend/"
python = "3.12"
dockerfile = "./Dockerfile.prod"
system_packages = ["libpq5", "libmagic1"]
commands = ["python manage.py compilemessages"]

[processes]
web = "gunicorn app:app"
[processes.worker]
command = "celery -A proj worker"
replicas = 2
memory = "512m"
cpus = 0.5
[processes.beat]
replicas = 1
memory = "256M"
cpus = 1

[deploy]
release = "python manage.py migrate"
port = 8000

[healthcheck]
path = "/healthz"
timeout = 90
in_image = true

[volumes]
uploads = "/app/media/"
"""

FULL_CONFIG = AppConfig(
    root="backend",
    python="3.12",
    dockerfile="Dockerfile.prod",
    system_packages=("libpq5", "libmagic1"),
    build_commands=("python manage.py compilemessages",),
    processes={
        "web": ProcessConfig(command="gunicorn app:app"),
        "worker": ProcessConfig(
            command="celery -A proj worker", replicas=2, resources=Resources(memory="512m", cpus=0.5)
        ),
        "beat": ProcessConfig(replicas=1, resources=Resources(memory="256M", cpus=1.0)),
    },
    release="python manage.py migrate",
    healthcheck=HealthCheck(path="/healthz", timeout=90, in_image=True),
    volumes={"uploads": "/app/media"},
    port=8000,
)


def error(text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    return str(raised.value)


def test_a_full_file() -> None:
    assert parse_config(FULL) == FULL_CONFIG


def test_an_empty_file_sets_nothing() -> None:
    assert parse_config("") == AppConfig()


def test_root_dot_is_the_repository_itself() -> None:
    assert parse_config('[build]\nroot = "."').root == ""


def test_an_empty_release_disables_the_detected_one() -> None:
    assert parse_config('[deploy]\nrelease = ""').release == ""
    assert parse_config('[deploy]\nrelease = "  "').release == ""
    assert parse_config("[deploy]\nport = 80").release is None


def test_an_empty_healthcheck_table_is_the_default_check() -> None:
    assert parse_config("[healthcheck]").healthcheck == HealthCheck()


def test_shorthand_and_table_processes_agree() -> None:
    shorthand = parse_config('[processes]\nweb = "gunicorn app:app"')
    table = parse_config('[processes.web]\ncommand = "gunicorn app:app"')
    assert shorthand == table == AppConfig(processes={"web": ProcessConfig(command="gunicorn app:app")})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[build]\npyhton = "3.12"',
            "dockyard.toml: build.pyhton: unknown key "
            "(expected one of: root, python, dockerfile, system_packages, commands)",
        ),
        (
            "[deploys]",
            "dockyard.toml: deploys: unknown key "
            "(expected one of: build, processes, deploy, healthcheck, volumes)",
        ),
        ('build = "x"', "dockyard.toml: build: must be a table"),
        (
            '[build]\nroot = "/srv/app"',
            "dockyard.toml: build.root: must be a relative path inside the repository, "
            "without .. (got '/srv/app')",
        ),
        (
            '[build]\nroot = "a/../../b"',
            "dockyard.toml: build.root: must be a relative path inside the repository, "
            "without .. (got 'a/../../b')",
        ),
        ('[build]\ndockerfile = "."', "dockyard.toml: build.dockerfile: must name a file"),
        ("[build]\npython = 3.12", 'dockyard.toml: build.python: must be a string such as "3.12"'),
        ('[build]\npython = "3"', "dockyard.toml: build.python: must look like 3.12 or 3.12.4 (got '3')"),
        (
            '[build]\nsystem_packages = "libpq5"',
            "dockyard.toml: build.system_packages: must be a list of strings",
        ),
        (
            '[build]\nsystem_packages = ["libpq5", "LibPQ"]',
            "dockyard.toml: build.system_packages[1]: must be a Debian package name: "
            "lowercase letters, digits, +, - and . (got 'LibPQ')",
        ),
        ('[build]\ncommands = ["make", 3]', "dockyard.toml: build.commands[1]: must be a string"),
        ('[build]\ncommands = [" "]', "dockyard.toml: build.commands[0]: must not be empty"),
        ('[processes]\nweb = ""', "dockyard.toml: processes.web: must not be empty"),
        ("[processes]\nweb = 5", "dockyard.toml: processes.web: must be a command string or a table"),
        ("[processes.web]\ncommand = 5", "dockyard.toml: processes.web.command: must be a string"),
        (
            '[processes]\nrelease = "python manage.py migrate"',
            "dockyard.toml: processes.release: release is not a process; set deploy.release instead",
        ),
        (
            '[processes]\nWeb = "gunicorn app:app"',
            "dockyard.toml: processes.Web: must be named with a lowercase letter, "
            "then lowercase letters, digits, - or _",
        ),
        (
            "[processes.web]\nreplica = 2",
            "dockyard.toml: processes.web.replica: unknown key "
            "(expected one of: command, replicas, memory, cpus)",
        ),
        ("[processes.web]\nreplicas = -1", "dockyard.toml: processes.web.replicas: must be 0 or more"),
        ("[processes.web]\nreplicas = true", "dockyard.toml: processes.web.replicas: must be an integer"),
        (
            "[processes.beat]\nreplicas = 2",
            "dockyard.toml: processes.beat.replicas: "
            "must be 0 or 1: a second beat would schedule every task twice",
        ),
        (
            '[processes.web]\nmemory = "512"',
            "dockyard.toml: processes.web.memory: must be a size such as 512m or 1g (got '512')",
        ),
        (
            "[processes.web]\ncpus = 0",
            "dockyard.toml: processes.web.cpus: must be a positive number such as 0.5 or 2",
        ),
        (
            "[processes.web]\ncpus = nan",
            "dockyard.toml: processes.web.cpus: must be a positive number such as 0.5 or 2",
        ),
        ("[deploy]\nrelease = false", "dockyard.toml: deploy.release: must be a string"),
        ("[deploy]\nport = 70000", "dockyard.toml: deploy.port: must be between 1 and 65535 (got 70000)"),
        ('[deploy]\nport = "8000"', "dockyard.toml: deploy.port: must be an integer"),
        ('[healthcheck]\npath = "healthz"', "dockyard.toml: healthcheck.path: must start with /"),
        (
            "[healthcheck]\ntimeout = 0",
            "dockyard.toml: healthcheck.timeout: must be a positive number of seconds",
        ),
        ('[healthcheck]\nin_image = "yes"', "dockyard.toml: healthcheck.in_image: must be true or false"),
        (
            '[volumes]\nuploads = "media"',
            "dockyard.toml: volumes.uploads: must be an absolute path below /, without .. (got 'media')",
        ),
        (
            '[volumes]\nroot = "/"',
            "dockyard.toml: volumes.root: must be an absolute path below /, without .. (got '/')",
        ),
        ("[volumes]\nuploads = 1", "dockyard.toml: volumes.uploads: must be a string"),
        (
            '[volumes]\n_uploads = "/app/media"',
            "dockyard.toml: volumes._uploads: must be named with lowercase letters, digits, - or _, "
            "starting with a letter or digit",
        ),
        (
            '[volumes]\nmedia = "/app/media"\nuploads = "/app/media/"',
            "dockyard.toml: volumes.uploads: mounts at /app/media like volumes.media",
        ),
        ("[build]\nroot = ", "dockyard.toml: end of document: Invalid value"),
        ('[build]\nroot = "a"\nroot = "b"\n', "dockyard.toml: line 3, column 11: Cannot overwrite a value"),
        (
            '[build]\nroot = "a" b',
            "dockyard.toml: line 2, column 12: Expected newline or end of document after a statement",
        ),
    ],
)
def test_each_error(text: str, message: str) -> None:
    assert error(text) == message


def test_every_problem_is_reported_at_once() -> None:
    text = """
[build]
pyhton = "3.12"
[processes.beat]
replicas = 2
[healthcheck]
path = "healthz"
"""
    with pytest.raises(ConfigError) as raised:
        parse_config(text, source="backend/dockyard.toml")
    assert raised.value.where == "backend/dockyard.toml"
    assert str(raised.value) == (
        "backend/dockyard.toml: build.pyhton: unknown key "
        "(expected one of: root, python, dockerfile, system_packages, commands); "
        "processes.beat.replicas: must be 0 or 1: a second beat would schedule every task twice; "
        "healthcheck.path: must start with /"
    )


def test_a_single_problem_names_the_file_and_key_in_where() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config('[healthcheck]\npath = "healthz"')
    assert raised.value.where == "dockyard.toml: healthcheck.path"


def test_explicit_settings_are_validated_the_same_way() -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping({"processes": {"web": {"command": 5}}}, source="settings")
    assert str(raised.value) == "settings: processes.web.command: must be a string"


def test_settings_that_are_not_a_table() -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(["web"], source="settings")  # type: ignore[arg-type]
    assert str(raised.value) == "settings: must be a table"


def test_json_null_is_unset() -> None:
    assert config_from_mapping({"build": {"python": None}, "deploy": None}, source="settings") == AppConfig()


def test_to_mapping_round_trips_through_json() -> None:
    mapping = to_mapping(FULL_CONFIG)
    assert config_from_mapping(json.loads(json.dumps(mapping)), source="settings") == FULL_CONFIG


def test_to_mapping_holds_only_what_is_set() -> None:
    config = AppConfig(root="", release="", processes={"web": ProcessConfig(replicas=0)})
    assert to_mapping(config) == {
        "build": {"root": ""},
        "processes": {"web": {"replicas": 0}},
        "deploy": {"release": ""},
    }
    assert to_mapping(AppConfig()) == {}
    assert config_from_mapping(to_mapping(config), source="settings") == config


def test_to_mapping_writes_the_whole_healthcheck() -> None:
    assert to_mapping(AppConfig(healthcheck=HealthCheck())) == {
        "healthcheck": {"path": "/", "in_image": False}
    }


def test_explicit_settings_win_field_by_field() -> None:
    explicit = AppConfig(
        python="3.13",
        processes={
            "worker": ProcessConfig(replicas=4, resources=Resources(cpus=2.0)),
            "mailer": ProcessConfig(command="python mailer.py"),
        },
        release="",
        volumes={"uploads": "/data/uploads", "cache": "/app/cache"},
    )
    assert merge(explicit, FULL_CONFIG) == AppConfig(
        root="backend",
        python="3.13",
        dockerfile="Dockerfile.prod",
        system_packages=("libpq5", "libmagic1"),
        build_commands=("python manage.py compilemessages",),
        processes={
            "web": ProcessConfig(command="gunicorn app:app"),
            "worker": ProcessConfig(
                command="celery -A proj worker", replicas=4, resources=Resources(memory="512m", cpus=2.0)
            ),
            "beat": ProcessConfig(replicas=1, resources=Resources(memory="256M", cpus=1.0)),
            "mailer": ProcessConfig(command="python mailer.py"),
        },
        release="",
        healthcheck=HealthCheck(path="/healthz", timeout=90, in_image=True),
        volumes={"uploads": "/data/uploads", "cache": "/app/cache"},
        port=8000,
    )


def test_an_explicit_healthcheck_replaces_the_files_whole() -> None:
    explicit = AppConfig(healthcheck=HealthCheck(timeout=30))
    assert merge(explicit, FULL_CONFIG).healthcheck == HealthCheck(timeout=30)


def test_merging_nothing_changes_nothing() -> None:
    assert merge(AppConfig(), FULL_CONFIG) == FULL_CONFIG
    assert merge(FULL_CONFIG, AppConfig()) == FULL_CONFIG


def test_deploy_timing_settings_are_read_checked_and_merged() -> None:
    config = parse_config("[deploy]\ndrain = 0\nstop_timeout = 45\nrequest_timeout = 300\n")

    assert (config.drain, config.stop_timeout, config.request_timeout) == (0, 45, 300)
    assert merge(AppConfig(drain=5), config).drain == 5
    assert to_mapping(config) == {"deploy": {"drain": 0, "stop_timeout": 45, "request_timeout": 300}}
    with pytest.raises(ConfigError) as raised:
        parse_config('[deploy]\ndrain = -1\nstop_timeout = 0\nrequest_timeout = "5m"\n')
    assert raised.value.detail == (
        "dockyard.toml: deploy.drain: must be at least 0 seconds (got -1); "
        "deploy.stop_timeout: must be at least 1 seconds (got 0); deploy.request_timeout: must be an integer"
    )
