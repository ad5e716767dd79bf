"""Tests of the one-file, multi-environment config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from sentinel.core import ConfigError, ConfigSection, Field, PluginHost, load_config

from .conftest import RunSentinel

SECTION = ConfigSection(
    name="svc",
    fields={
        "host": Field(str, "127.0.0.1"),
        "port": Field(int, 8000),
        "ratio": Field(float, 0.5),
        "debug": Field(bool, False),
        "token": Field(str, None, secret=True, nullable=True),
        "mode": Field(str, "fast", choices=("fast", "safe")),
        "nested": Field("section", fields={"depth": Field(int, 3)}),
    },
)

CONFIG = """\
default:
  svc:
    port: 9000
    nested:
      depth: 4
prod:
  svc:
    host: 0.0.0.0
    token: ${SVC_TOKEN}
    nested:
      depth: 5
dev:
  svc:
    port: "eighty"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "sentinel.yaml"
    path.write_text(CONFIG)
    return path


def test_defaults_without_file() -> None:
    config = load_config(None, None, [SECTION], environ={})
    assert config.section("svc")["port"] == 8000
    assert config.get("svc.nested.depth") == 3


def test_default_section_merges_over_schema(config_file: Path) -> None:
    config = load_config(config_file, None, [SECTION], environ={})
    assert config.get("svc.port") == 9000
    assert config.get("svc.host") == "127.0.0.1"
    assert config.get("svc.nested.depth") == 4


def test_environment_deep_merges(config_file: Path) -> None:
    config = load_config(config_file, "prod", [SECTION], environ={"SVC_TOKEN": "s3"})
    assert config.get("svc.host") == "0.0.0.0"
    assert config.get("svc.port") == 9000
    assert config.get("svc.nested.depth") == 5
    assert config.get("svc.token") == "s3"


def test_environment_variable_overrides_key(config_file: Path) -> None:
    environ = {"SVC_TOKEN": "x", "SENTINEL__SVC__PORT": "7000"}
    config = load_config(config_file, "prod", [SECTION], environ=environ)
    assert config.get("svc.port") == 7000


def test_missing_reference_names_variable(config_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"SVC_TOKEN") as caught:
        load_config(config_file, "prod", [SECTION], environ={})
    assert "svc.token" in str(caught.value)


def test_reference_fallback(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    host: ${NOPE:-example.invalid}\n")
    config = load_config(path, None, [SECTION], environ={})
    assert config.get("svc.host") == "example.invalid"


def test_wrong_type_reports_file_line_env_key(config_file: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file, "dev", [SECTION], environ={})
    message = str(caught.value)
    assert f"{config_file}:14" in message
    assert "environment section 'dev'" in message
    assert "'svc.port'" in message
    assert "'eighty'" in message
    assert "expected an integer" in message


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    port: true\n")
    with pytest.raises(ConfigError, match="expected an integer"):
        load_config(path, None, [SECTION], environ={})


def test_choice_violation(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    mode: reckless\n")
    with pytest.raises(ConfigError, match="one of fast, safe"):
        load_config(path, None, [SECTION], environ={})


def test_unknown_environment_lists_sections(config_file: Path) -> None:
    with pytest.raises(ConfigError, match="default, dev, prod"):
        load_config(config_file, "staging", [SECTION], environ={})


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, None, [SECTION], environ={})


def test_yaml_loading_is_safe(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, None, [SECTION], environ={})


def test_redacted_hides_secrets(config_file: Path) -> None:
    config = load_config(config_file, "prod", [SECTION], environ={"SVC_TOKEN": "s3"})
    shown = config.redacted()
    assert shown["svc"]["token"] == "${SVC_TOKEN}"
    assert "s3" not in repr(shown)


def test_redacted_hides_literal_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    token: literal-secret\n")
    config = load_config(path, None, [SECTION], environ={})
    assert config.redacted()["svc"]["token"] == "***"


PROD_FILE = """\
default:
  queue:
    workers: 2
  box:
    auth:
      client_id: my-client
      client_secret: ${BOX_SECRET}
prod:
  queue:
    workers: 8
  web:
    port: 9000
"""


def test_cli_config_show_prod_redacts(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    (tmp_path / "sentinel.yaml").write_text(PROD_FILE)
    result = run_sentinel(
        "--env", "prod", "config", "show", env={"BOX_SECRET": "hunter2-secret"}
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2-secret" not in result.stdout
    assert "hunter2-secret" not in result.stderr
    shown = yaml.safe_load(result.stdout)
    assert shown["queue"]["workers"] == 8
    assert shown["web"]["port"] == 9000
    assert shown["web"]["host"] == "127.0.0.1"
    assert shown["box"]["auth"]["client_secret"] == "${BOX_SECRET}"
    assert "# environment: prod" in result.stdout


def test_cli_config_show_wrong_type(tmp_path: Path, run_sentinel: RunSentinel) -> None:
    (tmp_path / "sentinel.yaml").write_text(
        "default:\n  queue:\n    workers: 2\nprod:\n  queue:\n    workers: many\n"
    )
    result = run_sentinel("--env", "prod", "config", "show")
    assert result.returncode != 0
    assert "sentinel.yaml:6" in result.stderr
    assert "environment section 'prod'" in result.stderr
    assert "'queue.workers'" in result.stderr
    assert "'many'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_env_from_environment_variable(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    (tmp_path / "sentinel.yaml").write_text(PROD_FILE)
    result = run_sentinel(
        "config", "show", "--json", env={"SENTINEL_ENV": "prod", "BOX_SECRET": "x"}
    )
    assert result.returncode == 0, result.stderr
    assert '"workers": 8' in result.stdout


def test_unknown_key_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    prot: 1\n")
    load_config(path, None, [SECTION], environ={})
    assert "unknown config key 'svc.prot'" in caplog.text
    assert f"{path}:3" in caplog.text


def test_logging_level_per_environment(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    (tmp_path / "sentinel.yaml").write_text(
        "default:\n  logging:\n    level: WARNING\n"
        "dev:\n  logging:\n    level: DEBUG\n"
        "    format: 'LOGLINE %(levelname)s %(name)s %(message)s'\n"
    )
    quiet = run_sentinel("config", "show")
    loud = run_sentinel("--env", "dev", "config", "show")
    assert quiet.returncode == 0, quiet.stderr
    assert loud.returncode == 0, loud.stderr
    assert "level: DEBUG" in loud.stdout
    assert "LOGLINE DEBUG sentinel.core.cli config loaded" in loud.stderr
    assert "config loaded" not in quiet.stderr


def test_secret_values_lists_secrets(config_file: Path) -> None:
    config = load_config(config_file, "prod", [SECTION], environ={"SVC_TOKEN": "s3"})
    assert config.secret_values() == ["s3"]


def test_secret_values_by_schema_and_key_name(tmp_path: Path) -> None:
    store = ConfigSection(
        "store",
        {
            "dsn": Field(str, None, secret=True),
            "name": Field(str, "x"),
            "nested": Field("section", fields={"key": Field(str, secret=True)}),
        },
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        "default:\n"
        "  store: {dsn: dsn-value, name: plain, nested: {key: k-value}}\n"
        "  other: {password: pw-value, hosts: [a, b], api_keys: [k1]}\n"
    )
    config = load_config(path, None, [store], environ={})
    assert sorted(config.secret_values()) == ["dsn-value", "k-value", "k1", "pw-value"]


BOUNDED = ConfigSection(
    name="net",
    fields={
        "port": Field(int, 8765, minimum=0, maximum=65535),
        "url": Field(str, None, nullable=True),
        "mirrors": Field(list, []),
    },
)


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        pytest.param(-1, "an integer from 0 to 65535", id="below"),
        pytest.param(70000, "an integer from 0 to 65535", id="above"),
    ],
)
def test_field_bounds_reject_out_of_range(
    tmp_path: Path, port: int, expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"default:\n  net:\n    port: {port}\n")
    with pytest.raises(ConfigError, match=expected) as raised:
        load_config(path, None, [BOUNDED], environ={})
    assert f"{path}:3" in str(raised.value)


def test_field_bounds_accept_limits(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  net:\n    port: 65535\n")
    assert load_config(path, None, [BOUNDED], environ={}).get("net.port") == 65535


URL_FILE = """\
default:
  net:
    url: redis://:hunter2pw@cache.internal:6379/0
    mirrors:
      - https://user:s3cret-pw@mirror.example/path
      - https://mirror.example/open
"""


def test_url_passwords_redacted_and_listed_as_secrets(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(URL_FILE)
    config = load_config(path, None, [BOUNDED], environ={})
    shown = config.redacted()
    assert shown["net"]["url"] == "redis://:***@cache.internal:6379/0"
    assert shown["net"]["mirrors"] == [
        "https://user:***@mirror.example/path",
        "https://mirror.example/open",
    ]
    assert set(config.secret_values()) == {"hunter2pw", "s3cret-pw"}


def test_cli_config_show_hides_url_passwords(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    (tmp_path / "sentinel.yaml").write_text(
        "default: {}\nprod:\n  queue:\n    url: redis://:hunter2pw@host/0\n"
        "  box:\n    api_url: https://user:pw-in-url@box.internal/2.0\n"
    )
    result = run_sentinel("--env", "prod", "config", "show")
    assert result.returncode == 0, result.stderr
    assert "hunter2pw" not in result.stdout + result.stderr
    assert "pw-in-url" not in result.stdout + result.stderr
    assert "redis://:***@host/0" in result.stdout


def test_unknown_section_reported_with_file_line_and_known(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    port: 1\n  bogus: 1\n")
    load_config(path, None, [SECTION], environ={})
    assert f"{path}:4" in caplog.text
    assert "unknown top-level config section 'bogus' (known: svc)" in caplog.text


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("default:\n  svc:\n    prot: 1\n", "svc.prot", id="key"),
        pytest.param("default:\n  bogus: 1\n", "bogus", id="section"),
    ],
)
def test_unknown_key_fails_in_strict_mode(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"unknown .*'{key}'.*strict mode"):
        load_config(path, None, [SECTION], environ={}, strict=True)


def test_cli_reports_unknown_queue_key(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    (tmp_path / "sentinel.yaml").write_text(
        "default:\n  queue:\n    workerz: 4\n  bogus: 1\n"
    )
    result = run_sentinel("config", "show")
    assert result.returncode == 0, result.stderr
    assert "sentinel.yaml:3" in result.stderr
    assert "unknown config key 'queue.workerz'" in result.stderr
    assert "workers" in result.stderr
    assert "unknown top-level config section 'bogus'" in result.stderr
    strict = run_sentinel("--strict", "config", "show")
    assert strict.returncode == 1
    assert "queue.workerz" in strict.stderr


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("default:\n  svc: [1, 2\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, None, [SECTION], environ={})
    assert "<unicode string>" not in str(raised.value)
    assert f'in "{path}", line' in str(raised.value)


def test_declared_field_not_secret_despite_name(tmp_path: Path) -> None:
    store = ConfigSection(
        "store",
        {
            "token_store": Field("section", fields={"backend": Field(str, "redis")}),
            "api_token": Field(str, None, secret=True, nullable=True),
        },
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        "default:\n  store: {token_store: {backend: memory}, api_token: t0k}\n"
    )
    shown = load_config(path, None, [store], environ={}).redacted()
    assert shown["store"]["token_store"]["backend"] == "memory"
    assert shown["store"]["api_token"] == "***"


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        pytest.param("true", True, id="bool"),
        pytest.param("[NA, '-']", True, id="list"),
        pytest.param("'NA'", False, id="string"),
        pytest.param("3", False, id="number"),
    ],
)
def test_union_field_type(tmp_path: Path, text: str, accepted: bool) -> None:
    section = ConfigSection(
        "reader", {"markers": Field((bool, list), [], "Missing-value markers.")}
    )
    path = tmp_path / "c.yaml"
    path.write_text(f"default:\n  reader:\n    markers: {text}\n")
    if accepted:
        load_config(path, None, [section], environ={})
        return
    with pytest.raises(ConfigError, match="expected true or false or a list"):
        load_config(path, None, [section], environ={})


def show_queue_url(
    run_sentinel: RunSentinel, tmp_path: Path, url: str
) -> subprocess.CompletedProcess[str]:
    """Run ``sentinel config show`` with ``queue.url`` set to ``url``."""
    (tmp_path / "sentinel.yaml").write_text(
        f"default:\n  queue:\n    url: {url!r}\n", encoding="utf-8"
    )
    return run_sentinel("config", "show")


@pytest.mark.parametrize(
    ("url", "password"),
    [
        pytest.param("htp://user:PwInBadUrl@host/0", "PwInBadUrl", id="bad-scheme"),
        pytest.param("redis://:PwBadPort@host:nope/0", "PwBadPort", id="bad-port"),
        pytest.param("redis://u:PwBadHost@[::1/0", "PwBadHost", id="bad-ipv6"),
        pytest.param("redis://u:pa/ssPw3@host:99999/0", "ssPw3", id="slash"),
        pytest.param("redis://u:pa#ssPw3@host:99999/0", "ssPw3", id="hash"),
        pytest.param("redis://u:pa?ssPw3@host:99999/0", "ssPw3", id="question-mark"),
    ],
)
def test_cli_config_error_hides_url_password(
    tmp_path: Path, run_sentinel: RunSentinel, url: str, password: str
) -> None:
    result = show_queue_url(run_sentinel, tmp_path, url)
    assert result.returncode == 1
    assert "'queue.url'" in result.stderr
    assert ":***@" in result.stderr
    assert password not in result.stderr


def test_config_error_hides_nested_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    nested: {depth: 2, password: PwNested}\n")
    section = ConfigSection(name="svc", fields={"nested": Field(str, "")})
    with pytest.raises(ConfigError, match=r"'svc\.nested'") as raised:
        load_config(path, None, [section], environ={})
    assert "PwNested" not in str(raised.value)
    assert "'password': '***'" in str(raised.value)


def test_invalid_yaml_error_omits_line_text(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('default:\n  svc:\n    token: "PwUnclosed\n')
    with pytest.raises(ConfigError, match="not valid YAML") as raised:
        load_config(path, None, [SECTION], environ={})
    assert "PwUnclosed" not in str(raised.value)
    assert "line 3" in str(raised.value)


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", ".NaN"])
def test_float_rejects_non_finite(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"default:\n  svc:\n    ratio: {text}\n")
    with pytest.raises(ConfigError, match="expected a finite number") as raised:
        load_config(path, None, [SECTION], environ={})
    assert f"{path}:3" in str(raised.value)
    assert "'svc.ratio'" in str(raised.value)


def test_float_accepts_non_finite_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    limit: .inf\n")
    section = ConfigSection(
        name="svc", fields={"limit": Field(float, 1.0, allow_nonfinite=True)}
    )
    config = load_config(path, None, [section], environ={})
    assert config.get("svc.limit") == float("inf")


@pytest.mark.parametrize(
    ("key", "text"),
    [
        pytest.param("box.timeout", ".nan", id="box-timeout-nan"),
        pytest.param("files.quiet_seconds", ".inf", id="files-quiet-inf"),
    ],
)
def test_cli_rejects_non_finite_setting(
    tmp_path: Path, run_sentinel: RunSentinel, key: str, text: str
) -> None:
    section, name = key.split(".")
    (tmp_path / "sentinel.yaml").write_text(
        f"default:\n  {section}:\n    {name}: {text}\n", encoding="utf-8"
    )
    result = run_sentinel("config", "show")
    assert result.returncode == 1
    assert f"sentinel.yaml:3, environment section 'default': key '{key}'" in (
        result.stderr
    )
    assert "expected a finite number" in result.stderr


@pytest.mark.parametrize(
    "url",
    ["redis://:notaport", "redis://host:99999/0", "redis://host:-1/0"],
    ids=["word", "too-large", "negative"],
)
def test_cli_rejects_url_with_invalid_port(
    tmp_path: Path, run_sentinel: RunSentinel, url: str
) -> None:
    result = show_queue_url(run_sentinel, tmp_path, url)
    assert result.returncode == 1
    assert "sentinel.yaml:3" in result.stderr
    assert "'queue.url'" in result.stderr
    assert "expected a URL with a valid port" in result.stderr


def test_missing_reference_cites_key_line(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    (tmp_path / "v.yaml").write_text(
        "default:\n  queue:\n    workers: ${NOPE_WORKERS}\n", encoding="utf-8"
    )
    result = run_sentinel("--config", "v.yaml", "config", "show")
    assert result.returncode == 1
    assert "v.yaml:3, environment section 'default'" in result.stderr
    assert "${NOPE_WORKERS}" in result.stderr


def test_new_section_keys_keep_own_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default:\n  svc:\n    nested:\n      depth: 1\n    port: 2\n")
    config = load_config(path, None, [], environ={}, report_unknown=False)
    assert config.origins[("svc", "nested", "depth")].line == 4
    assert config.origins[("svc", "port")].line == 5


def test_cli_config_show_hides_query_password(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    result = show_queue_url(run_sentinel, tmp_path, "redis://host/0?password=PwQuery")
    assert result.returncode == 0, result.stderr
    assert "PwQuery" not in result.stdout + result.stderr
    assert "redis://host/0?password=***" in result.stdout


def test_cli_accepts_sentinel_host_list(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    url = "redis+sentinel://h1:26379,h2:26379/mymaster"
    result = run_sentinel("config", "show", env={"SENTINEL__QUEUE__URL": url})
    assert result.returncode == 0, result.stderr
    assert url in result.stdout


def test_cli_rejects_bad_port_in_host_list(
    tmp_path: Path, run_sentinel: RunSentinel
) -> None:
    url = "redis+sentinel://:PwList@h1:26379,h2:99999/mymaster"
    result = run_sentinel("config", "show", env={"SENTINEL__QUEUE__URL": url})
    assert result.returncode == 1
    assert "host 'h2:99999'" in result.stderr
    assert "PwList" not in result.stderr


@pytest.mark.parametrize(
    ("text", "line", "key", "first"),
    [
        pytest.param(
            "default:\n  svc:\n    port: 1\n    port: 2\n", 4, "port", 3, id="nested"
        ),
        pytest.param("default: {}\nprod: {}\ndefault: {}\n", 3, "default", 1, id="top"),
        pytest.param("default:\n  svc: {port: 1, port: 2}\n", 2, "port", 2, id="flow"),
        pytest.param(
            "default:\n  svc:\n    items:\n      - {a: 1}\n      - {a: 1, a: 2}\n",
            5,
            "a",
            5,
            id="in-list",
        ),
    ],
)
def test_duplicate_key_rejected(
    tmp_path: Path, text: str, line: int, key: str, first: int
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, None, [], environ={})
    message = str(raised.value)
    assert f"{path}:{line}: duplicate key {key!r}" in message
    assert f"first set on line {first}" in message


def test_merge_key_may_repeat_merged_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "base: &base\n  svc:\n    port: 1\ndefault:\n  <<: *base\n  svc:\n    port: 2\n"
    )
    config = load_config(path, None, [SECTION], environ={})
    assert config.section("svc")["port"] == 2


def test_duplicate_key_loader_stays_safe(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, None, [], environ={})


def test_nested_aliases_rejected(tmp_path: Path) -> None:
    # Eight levels of ten aliases each: 10**9 values once expanded.
    lines = ["default: {}", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(
            f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]"
        )
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="aliases expand the config past 100,000"):
        load_config(path, None, [], environ={})


def test_recursive_alias_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default: &d\n  queue:\n    extra: *d\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:1: an alias refers to a value"):
        load_config(path, None, [], environ={})


def test_shared_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "base: &b\n  queue:\n    workers: 3\ndefault: *b\nprod:\n  <<: *b\n"
    )
    config = load_config(path, "prod", [], environ={})
    assert config.section("queue")["workers"] == 3


def numeric_fields(prefix: str, fields: dict[str, Field]) -> list[tuple[str, Field]]:
    """Return every int or float field under ``fields`` with its dotted key."""
    found = []
    for name, spec in fields.items():
        key = f"{prefix}.{name}"
        if spec.type == "section" or spec.fields:
            found.extend(numeric_fields(key, spec.fields))
        elif spec.type in (int, float):
            found.append((key, spec))
    return found


# Limits whose large values only mean "never": any size is valid at run time.
UNBOUNDED_KEYS = {
    "box.chunked_threshold",
    "files.workbook_limits.max_cells",
    "files.workbook_limits.max_part_bytes",
    "files.workbook_limits.max_ratio",
}


def test_plugin_numbers_have_ranges() -> None:
    host = PluginHost()
    host.load_entry_points()
    checked = []
    for section in host.config_sections():
        for key, spec in numeric_fields(section.name, section.fields):
            checked.append(key)
            assert spec.minimum is not None, f"{key} has no minimum"
            if key not in UNBOUNDED_KEYS:
                assert spec.maximum is not None, f"{key} has no maximum"
    assert "queue.lease_seconds" in checked
    assert "box.max_attempts" in checked


@pytest.mark.parametrize(
    ("yaml_text", "key", "expected"),
    [
        pytest.param(
            "queue:\n    lease_seconds: -1",
            "queue.lease_seconds",
            "from 0.1 to 86400",
            id="lease",
        ),
        pytest.param(
            "box:\n    max_attempts: 99999999999999999999999",
            "box.max_attempts",
            "from 1 to 100",
            id="attempts",
        ),
    ],
)
def test_cli_rejects_out_of_range_setting(
    tmp_path: Path, run_sentinel: RunSentinel, yaml_text: str, key: str, expected: str
) -> None:
    (tmp_path / "sentinel.yaml").write_text(f"default:\n  {yaml_text}\n")
    result = run_sentinel("config", "show")
    assert result.returncode == 1
    assert f"sentinel.yaml:3, environment section 'default': key {key!r}" in (
        result.stderr
    )
    assert expected in result.stderr
