"""State survives a restart of the fake when a SQLite file is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import zeep

from copernica_sdk.testing.fake_copernica import FakeCopernica


def _seed(fake: FakeCopernica) -> tuple[int, int]:
    client = zeep.Client(fake.wsdl_url)
    svc, token = client.service, fake.token
    db = fake.create_database(
        "Shop", {"customer_id": {"type": "text", "index": True}}, {"Orders": {"order_id": "text"}}
    )
    coll = svc.Database_collection(
        parameters={"id": db, "identifier": "Orders", "access_token": token}
    ).collection.id
    pid = svc.Database_createProfile(
        parameters={
            "id": db,
            "fields": {"pair": [{"key": "customer_id", "value": "c1"}]},
            "access_token": token,
        }
    ).profile.id
    svc.Profile_createSubProfile(
        parameters={
            "id": pid,
            "collection": {"id": coll},
            "fields": {"pair": [{"key": "order_id", "value": "o1"}]},
            "access_token": token,
        }
    )
    return db, pid


def test_restarted_fake_sees_the_same_databases_profiles_and_subprofiles(tmp_path: Path) -> None:
    path = tmp_path / "fake.sqlite"
    with FakeCopernica(state_path=path) as fake:
        db, _ = _seed(fake)
        before = (fake.profiles("Shop"), fake.subprofiles("Orders"))
    with FakeCopernica(state_path=path) as again:
        assert (again.profiles("Shop"), again.subprofiles("Orders")) == before
        found = zeep.Client(again.wsdl_url).service.Database_searchProfiles(
            parameters={
                "id": db,
                "requirements": {"requirement": [{"fieldname": "customer_id", "value": "C1"}]},
                "access_token": again.token,
            }
        )
        assert found.total == 1


def test_restarted_fake_continues_the_id_sequences(tmp_path: Path) -> None:
    path = tmp_path / "fake.sqlite"
    with FakeCopernica(state_path=path) as fake:
        _, pid = _seed(fake)
    with FakeCopernica(state_path=path) as again:
        svc = zeep.Client(again.wsdl_url).service
        db = svc.Account_database(
            parameters={"identifier": "Shop", "access_token": again.token}
        ).database.id
        new = svc.Database_createProfile(
            parameters={"id": db, "fields": {"pair": []}, "access_token": again.token}
        )
        assert new.profile.id == pid + 1
        assert new.profile.code != again.profiles("Shop")[0]["code"]


def test_removals_are_persisted(tmp_path: Path) -> None:
    path = tmp_path / "fake.sqlite"
    with FakeCopernica(state_path=path) as fake:
        _, pid = _seed(fake)
        zeep.Client(fake.wsdl_url).service.Profile_remove(
            parameters={"id": pid, "access_token": fake.token}
        )
    with FakeCopernica(state_path=path) as again:
        assert again.profiles("Shop") == []
        assert again.subprofiles("Orders") == []


def test_stop_and_start_of_one_instance_keeps_writing_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.sqlite"
    fake = FakeCopernica(state_path=path)
    fake.start()
    fake.stop()
    fake.create_database("MadeWhileStopped")
    fake.start()
    fake.stop()
    with FakeCopernica(state_path=path) as again:
        again.profiles("MadeWhileStopped")


def test_without_a_state_path_a_new_fake_starts_empty() -> None:
    with FakeCopernica() as fake:
        fake.create_database("Shop")
    with FakeCopernica() as again, pytest.raises(KeyError):
        again.profiles("Shop")
