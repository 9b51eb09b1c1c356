""" "local" resolves to the variable, then Globus Connect Personal, then the config file."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI

from orbit_globus.transfer.local_collection import ENV_VAR, resolve_local_collection
from orbit_globus.transfer.plugin import PluginGlobus

ENV_ID = "11111111-1111-1111-1111-111111111111"
GCP_ID = "22222222-2222-2222-2222-222222222222"
FILE_ID = "33333333-3333-3333-3333-333333333333"


def install_gcp(home, endpoint_id=GCP_ID):
    lta = home / ".globusonline" / "lta"
    lta.mkdir(parents=True)
    (lta / "client-id.txt").write_text(endpoint_id + "\n")


def install_config(home, endpoint_id=FILE_ID):
    conf = home / ".radical" / "orbit"
    conf.mkdir(parents=True)
    (conf / "globus.json").write_text(json.dumps({"local_collection": endpoint_id}))


def test_nothing_configured_means_none(isolated_home):
    assert resolve_local_collection() is None


def test_config_file(isolated_home):
    install_config(isolated_home)
    assert resolve_local_collection() == FILE_ID


def test_globus_connect_personal_wins_over_the_config_file(isolated_home):
    install_config(isolated_home)
    install_gcp(isolated_home)
    assert resolve_local_collection() == GCP_ID


def test_the_variable_wins_over_everything(isolated_home, monkeypatch):
    install_config(isolated_home)
    install_gcp(isolated_home)
    monkeypatch.setenv(ENV_VAR, ENV_ID)
    assert resolve_local_collection() == ENV_ID


@pytest.mark.parametrize(
    "content", ["not json", "[1, 2]", '{"other": 1}', '{"local_collection": ""}']
)
def test_a_bad_config_file_is_ignored(isolated_home, content):
    conf = isolated_home / ".radical" / "orbit"
    conf.mkdir(parents=True)
    (conf / "globus.json").write_text(content)
    assert resolve_local_collection() is None


def test_the_plugin_discovers_it_at_start_up(isolated_home):
    install_gcp(isolated_home)
    assert PluginGlobus(FastAPI()).local_collection == GCP_ID
