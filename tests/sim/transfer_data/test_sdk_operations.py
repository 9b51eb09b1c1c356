"""operation_ls / mkdir / rename / stat through an unmodified TransferClient."""

from __future__ import annotations

import globus_sdk
import pytest

from tests.sim.transfer_data.conftest import Harness


def ls_names(tc: globus_sdk.TransferClient, collection: str, **kwargs: object) -> list[str]:
    return [entry["name"] for entry in tc.operation_ls(collection, **kwargs)]


def test_tutorial_collection_lists_godata(harness: Harness, tc: globus_sdk.TransferClient) -> None:
    listing = tc.operation_ls(harness.collection_1, path="/~/")
    assert listing["DATA_TYPE"] == "file_list"
    assert listing["absolute_path"] == "/home/share/godata/"
    assert [e["name"] for e in listing] == ["file1.txt", "file2.txt", "file3.txt"]
    same = tc.operation_ls(harness.collection_1, path="/home/share/godata/")
    assert [e["name"] for e in same] == ["file1.txt", "file2.txt", "file3.txt"]


@pytest.fixture
def busy_dir(harness: Harness) -> str:
    fs = harness.collection(harness.collection_2).fs
    now = harness.sim.clock.now()
    for index in range(30):
        fs.write_file(f"/~/busy/f{index:02}.txt", now, size=index, parents=True)
        fs.write_file(f"/~/busy/f{index:02}.dat", now, size=100 + index)
    fs.write_file("/~/busy/.profile", now, content=b"secret-ish")
    fs.mkdir("/~/busy/subdir", now)
    return "/~/busy/"


def test_ls_filter_type_and_show_hidden(
    harness: Harness, tc: globus_sdk.TransferClient, busy_dir: str
) -> None:
    c2 = harness.collection_2
    txt = ls_names(tc, c2, path=busy_dir, filter="name:~*.txt")
    assert len(txt) == 30 and all(name.endswith(".txt") for name in txt)
    assert ls_names(tc, c2, path=busy_dir, filter={"type": "dir"}) == ["subdir"]
    assert ".profile" in ls_names(tc, c2, path=busy_dir)
    assert ".profile" not in ls_names(tc, c2, path=busy_dir, show_hidden=False)
    both = ls_names(tc, c2, path=busy_dir, filter=["name:f00.txt", "name:f29.dat"])
    assert both == ["f00.txt", "f29.dat"]


def test_ls_limit_offset_and_orderby(
    harness: Harness, tc: globus_sdk.TransferClient, busy_dir: str
) -> None:
    c2 = harness.collection_2
    everything = ls_names(tc, c2, path=busy_dir)
    page = tc.operation_ls(c2, path=busy_dir, limit=7, offset=10)
    assert [e["name"] for e in page] == everything[10:17]
    assert page["total"] == len(everything) == 62
    biggest = tc.operation_ls(c2, path=busy_dir, orderby="size DESC", filter="type:file", limit=1)
    assert biggest["DATA"][0]["name"] == "f29.dat"


def test_ls_errors(harness: Harness, tc: globus_sdk.TransferClient) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as missing:
        tc.operation_ls(harness.collection_1, path="/~/no/such/dir/")
    assert missing.value.http_status == 404
    assert missing.value.code == "ClientError.NotFound"
    with pytest.raises(globus_sdk.TransferAPIError) as not_dir:
        tc.operation_ls(harness.collection_1, path="/~/file1.txt")
    assert not_dir.value.http_status == 502
    assert not_dir.value.code == "ExternalError.DirListingFailed.NotDirectory"
    with pytest.raises(globus_sdk.TransferAPIError) as unknown:
        tc.operation_ls("00000000-0000-0000-0000-000000000000")
    assert unknown.value.http_status == 404
    assert unknown.value.raw_json is not None
    assert set(unknown.value.raw_json) >= {"code", "message", "request_id", "resource"}
    assert unknown.value.headers["Content-Type"].startswith("application/json")


def test_mkdir_rename_stat(harness: Harness, tc: globus_sdk.TransferClient) -> None:
    c1 = harness.collection_1
    made = tc.operation_mkdir(c1, "/~/project1/")
    assert made["code"] == "DirectoryCreated"
    with pytest.raises(globus_sdk.TransferAPIError) as again:
        tc.operation_mkdir(c1, "/~/project1/")
    assert again.value.http_status == 502 and again.value.code == "ExternalError.MkdirFailed.Exists"

    renamed = tc.operation_rename(c1, "/~/file1.txt", "/~/project1/data.txt")
    assert renamed["code"] == "FileRenamed"
    stat = tc.operation_stat(c1, "/~/project1/data.txt")
    assert (stat["name"], stat["type"], stat["size"]) == ("data.txt", "file", 4)
    assert tc.operation_stat(c1, "/~/project1")["type"] == "dir"
    with pytest.raises(globus_sdk.TransferAPIError) as gone:
        tc.operation_stat(c1, "/~/file1.txt")
    assert gone.value.http_status == 404 and gone.value.code == "NotFound"


def test_read_only_directory_is_permission_denied(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    fs = harness.collection(harness.collection_1).fs
    fs.mkdir("/~/readonly", harness.sim.clock.now(), permissions="0555")
    with pytest.raises(globus_sdk.TransferAPIError) as denied:
        tc.operation_mkdir(harness.collection_1, "/~/readonly/sub")
    assert denied.value.http_status == 403
    assert denied.value.code == "EndpointPermissionDenied"
