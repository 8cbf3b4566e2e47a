"""The `pipelines:` section: a writer naming an unknown source, and auth given twice, are
one-line config errors naming the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import config_from
from watchdog.errors import ConfigError

BASE = """\
env: test
warehouses:
  wh: {type: duckdb, settings: {path: w.duckdb}}
sinks: {}
pipelines:
  sources:
    airflow_prod: {type: airflow, url: 'https://airflow.example.com', token: '${TOKEN}'}
"""


def test_a_writer_of_an_unknown_source_says_which_it_meant(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        config_from(tmp_path, BASE.replace("${TOKEN}", "abcdef") + "  writes:\n"
                    "    - {source: airflow_prd, job: dag/task, tables: [main.t]}\n")
    text = str(err.value)
    assert "config.yaml" in text and "pipelines" in text
    assert "'airflow_prd' is not a source; did you mean 'airflow_prod'?" in text


def test_token_and_basic_auth_together_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("token: '${TOKEN}'", "token: abcdef, username: u, password: p")
    with pytest.raises(ConfigError, match="either 'token' or 'username' and 'password'"):
        config_from(tmp_path, text)


def test_a_valid_section_loads(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    config = config_from(tmp_path, BASE.replace("${TOKEN}", "abcdef") + (
        "    dbt_prod: {type: dbt, target: target, warehouse: wh}\n"
        "  writes:\n    - {source: airflow_prod, job: dag/task, tables: [main.t]}\n"
        "monitors:\n  - {id: p, kind: pipeline, warehouse: wh, table: main.t, every: 1d}\n"))
    assert set(config.pipelines.sources) == {"airflow_prod", "dbt_prod"}
    monitor = config.monitor("p")
    assert monitor.recover_after == 1  # one good run resolves a pipeline alert
