"""Tunnel conf files (SPEC 3.1): format, permissions, atomic rewrite, typed accessors."""

import os
import stat
import uuid
from pathlib import Path

import pytest

from orbit_globus.streams import conf as conf_mod
from orbit_globus.streams.conf import TunnelConf, conf_dir, parse_conf_text
from orbit_globus.streams.errors import StreamsError

TUNNEL = "0e8a675b-6b84-4220-89e4-a6a7a0d823fb"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_dir_defaults_to_home_and_env_and_base_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GLOBUS_STREAMS_DIR", raising=False)
    assert conf_dir() == tmp_path / ".globus" / "streams"
    monkeypatch.setenv("GLOBUS_STREAMS_DIR", str(tmp_path / "env"))
    assert conf_dir() == tmp_path / "env"
    assert conf_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_save_creates_private_dir_and_file(tmp_path):
    base = tmp_path / "a" / "streams"
    conf = TunnelConf.new(TUNNEL, base)
    conf.set(role="initiator", lankey="s3cret", fake_port=3664)
    conf.save()
    assert conf.path == base / f"{TUNNEL}.conf"
    assert mode_of(base) == 0o700
    assert mode_of(conf.path) == 0o600
    assert conf.path.read_text() == "role=initiator\nlankey=s3cret\nfake_port=3664\n"


def test_save_under_permissive_umask_is_still_private(tmp_path):
    old = os.umask(0)
    try:
        conf = TunnelConf.new(TUNNEL, tmp_path / "d")
        conf.set(role="listener")
        conf.save()
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "d") == 0o700
    assert mode_of(conf.path) == 0o600


def test_values_with_equals_round_trip(tmp_path):
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.set(lankey="ab==cd=", globus_contact="a.example:1,b.example:2")
    conf.save()
    again = TunnelConf.load(TUNNEL, tmp_path)
    assert again.lankey == "ab==cd="
    assert again.globus_contacts == ["a.example:1", "b.example:2"]


def test_unknown_keys_survive_rewrite(tmp_path):
    path = tmp_path / f"{TUNNEL}.conf"
    path.write_text("future_key=x=y\nrole=initiator\n")
    path.chmod(0o600)
    conf = TunnelConf.load(TUNNEL, tmp_path)
    conf.set(update_time=5)
    conf.save()
    assert path.read_text() == "role=initiator\nupdate_time=5\nfuture_key=x=y\n"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644])
def test_reader_refuses_group_or_other_access(tmp_path, mode):
    path = tmp_path / f"{TUNNEL}.conf"
    path.write_text("lankey=secretvalue\n")
    path.chmod(mode)
    with pytest.raises(StreamsError) as info:
        TunnelConf.load(TUNNEL, tmp_path)
    message = str(info.value)
    assert f"{mode:04o}" in message and "chmod 600" in message
    assert "secretvalue" not in message and "\n" not in message


def test_reader_refuses_symlink(tmp_path):
    real = tmp_path / "real"
    real.write_text("role=initiator\n")
    real.chmod(0o600)
    (tmp_path / f"{TUNNEL}.conf").symlink_to(real)
    with pytest.raises(StreamsError):
        TunnelConf.load(TUNNEL, tmp_path)


def test_missing_conf_names_the_initialize_command(tmp_path):
    with pytest.raises(StreamsError, match=f"globus-streams environment initialize {TUNNEL}"):
        TunnelConf.load(TUNNEL, tmp_path)
    assert TunnelConf.load_if_exists(TUNNEL, tmp_path) is None


def test_tunnel_id_must_be_a_uuid(tmp_path):
    with pytest.raises(StreamsError, match="expected a UUID"):
        TunnelConf.new("../../etc/passwd", tmp_path)
    assert TunnelConf.new(TUNNEL.upper(), tmp_path).tunnel_id == TUNNEL


def test_parse_splits_at_first_equals_and_rejects_junk():
    assert parse_conf_text("a=b=c\n\n# note\nempty=\n") == {"a": "b=c", "empty": ""}
    with pytest.raises(StreamsError, match="line 1"):
        parse_conf_text("no equals here\n")


def test_newline_in_value_is_refused(tmp_path):
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.set(lankey="a\nrole=listener")
    with pytest.raises(StreamsError):
        conf.save()
    assert not conf.path.exists()


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.set(role="initiator")
    conf.save()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(conf_mod.os, "replace", broken_replace)
    conf.set(role="listener")
    with pytest.raises(OSError):
        conf.save()
    assert conf.path.read_text() == "role=initiator\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{TUNNEL}.conf"]


def test_write_goes_through_a_temp_file_in_the_same_dir(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src).parent, Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(conf_mod.os, "replace", spy)
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.save()
    assert seen == [(tmp_path, conf.path)]


def test_typed_accessors_and_freshness(tmp_path):
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.set(
        role="listener",
        connector_contact_string="127.0.0.1:5000",
        update_time=1000,
        connector_contact_string_ttl=60,
        tunnel_expiration_time=2000,
        fake_port="",
    )
    assert conf.is_listener and conf.fake_port is None and conf.update_time == 1000
    assert conf.contact_is_fresh(now=1059) and not conf.contact_is_fresh(now=1060)
    assert not conf.is_expired(now=1999) and conf.is_expired(now=2000)


def test_repr_and_masked_hide_the_secret(tmp_path):
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.set(role="initiator", lankey="topsecret", lankey_id=str(uuid.uuid4()))
    assert "topsecret" not in repr(conf)
    assert conf.masked()["lankey"] == "********"
    conf.set(lankey="")
    assert conf.masked()["lankey"] == ""


def test_iter_confs_lists_tunnel_files_only(tmp_path):
    for name in (f"{TUNNEL}.conf", "notauuid.conf", f".{TUNNEL}.conf.x.tmp", "other.txt"):
        (tmp_path / name).write_text("")
    assert list(conf_mod.iter_confs(tmp_path)) == [TUNNEL]
