"""The simulator serves the Globus Tutorial Collections under their real ids."""

from __future__ import annotations

import globus_sdk

from .simenv import GODATA

TUTORIAL_1 = "6c54cade-bde5-45c1-bdea-f4bd71dba2cc"
TUTORIAL_2 = "31ce9ba0-176d-45a5-add3-f37d233ba47d"


def test_the_tutorial_collections_have_their_real_ids_files_and_a_writable_home(simenv):
    env = simenv.server.env
    assert (env["ORBIT_SIM_COLLECTION_1"], env["ORBIT_SIM_COLLECTION_2"]) == (
        TUTORIAL_1,
        TUTORIAL_2,
    )
    token = simenv.user_tokens()["access_token"]
    client = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(token))
    for number, collection in enumerate((TUTORIAL_1, TUTORIAL_2), start=1):
        assert (
            client.get_endpoint(collection)["display_name"]
            == f"Globus Tutorial Collection {number}"
        )
        listing = client.operation_ls(collection, path=f"{GODATA}/")
        # (other tests of the session write into tutorial 2's /~/, which is godata)
        assert {"file1.txt", "file2.txt", "file3.txt"} <= {entry["name"] for entry in listing}
    client.operation_mkdir(TUTORIAL_2, "/~/tutorial-home-is-writable/")
    assert "tutorial-home-is-writable" in {
        entry["name"] for entry in client.operation_ls(TUTORIAL_2, path="/~/")
    }
