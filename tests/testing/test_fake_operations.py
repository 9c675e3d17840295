"""Every operation the WSDL declares answers through plain zeep, and results keep the wire shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.fake_copernica.operations import HANDLERS
from copernica_sdk.testing.fake_copernica.wsdl import WSDL_PATH

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"


def _wsdl_operations() -> list[str]:
    root = etree.parse(str(WSDL_PATH)).getroot()
    port_type = root.find(f"{{{WSDL_NS}}}portType")
    assert port_type is not None
    return [op.get("name", "") for op in port_type.findall(f"{{{WSDL_NS}}}operation")]


OPERATIONS = _wsdl_operations()


def _required_members(wsdl: bytes, operation: str) -> list[tuple[str, str]]:
    """(name, type) of the required members of input_<operation>, from the served WSDL."""
    root = etree.fromstring(wsdl)
    for ctype in root.iter(f"{{{XSD_NS}}}complexType"):
        if ctype.get("name") == f"input_{operation}":
            return [
                (el.get("name", ""), el.get("type", "").rpartition(":")[2])
                for el in ctype.iter(f"{{{XSD_NS}}}element")
                if el.get("minOccurs") != "0"
            ]
    raise AssertionError(f"no input type for {operation}")


class World:
    """Ids of one of everything, so every operation has something real to act on."""

    def __init__(self, fake: FakeCopernica, client: zeep.Client) -> None:
        self.db = fake.create_database(
            "Shop",
            {"customer_id": {"type": "text", "index": True}, "email": "email"},
            {"Orders": {"order_id": "text"}},
        )
        token = fake.token
        svc = client.service
        self.field = svc.Database_field(
            parameters={"id": self.db, "identifier": "customer_id", "access_token": token}
        ).field.id
        coll = svc.Database_collection(
            parameters={"id": self.db, "identifier": "Orders", "access_token": token}
        )
        self.coll = coll.collection.id
        self.coll_field = svc.Collection_field(
            parameters={"id": self.coll, "identifier": "order_id", "access_token": token}
        ).collectionfield.id
        profiles = [
            svc.Database_createProfile(
                parameters={
                    "id": self.db,
                    "fields": {"pair": [{"key": "customer_id", "value": key}]},
                    "access_token": token,
                }
            ).profile.id
            for key in ("c1", "c2")
        ]
        self.profile, self.other_profile = profiles
        self.sub = svc.Profile_createSubProfile(
            parameters={
                "id": self.profile,
                "collection": {"id": self.coll},
                "fields": {"pair": [{"key": "order_id", "value": "o1"}]},
                "access_token": token,
            }
        ).subprofile.id

    def value_for(self, operation: str, name: str, type_name: str) -> Any:
        obj = operation.partition("_")[0]
        ids = {
            "Account": 1,
            "Database": self.db,
            "Collection": self.coll,
            "Profile": self.profile,
            "SubProfile": self.sub,
            "Field": self.field,
            "CollectionField": self.coll_field,
            "View": 1,
        }
        identifiers = {
            "Account_database": "Shop",
            "Database_field": "customer_id",
            "Database_collection": "Orders",
            "Collection_field": "order_id",
            "Collection_subProfile": self.sub,
        }
        refs = {"collection": self.coll, "profile": self.other_profile, "subprofile": self.sub}
        if name == "id":
            return ids[obj]
        if name == "identifier":
            return identifiers[operation]
        if type_name == "Ref":
            return {"id": refs[name]}
        if type_name == "Requirements":
            return {"requirement": [{"fieldname": "customer_id", "value": "c1", "operator": "="}]}
        if type_name == "Map":
            return {"pair": [{"key": "customer_id", "value": "c1"}]}
        if type_name == "StringArray":
            return {"item": ["customer_id"]}
        if type_name == "IntArray":
            return {"item": [self.other_profile]}
        return {
            "name": "Created",
            "url": "https://example.com/hook",
            "username": "api@example.com",
            "password": "secret",
        }[name]


def test_every_wsdl_operation_has_a_handler() -> None:
    assert set(HANDLERS) == set(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_answers_through_plain_zeep(fake: FakeCopernica, operation: str) -> None:
    client = zeep.Client(fake.wsdl_url)
    world = World(fake, client)
    fake.reset_calls()
    wsdl = client.transport.load(fake.wsdl_url)
    params = {
        name: world.value_for(operation, name, type_name)
        for name, type_name in _required_members(wsdl, operation)
    }
    if operation != "login":
        params["access_token"] = fake.token
    if operation == "View_updateProfiles":
        # Documented: the fake has no views.
        with pytest.raises(zeep.exceptions.Fault, match="No view with id 1"):
            getattr(client.service, operation)(parameters=params)
        return
    getattr(client.service, operation)(parameters=params)
    assert fake.calls[operation] == 1


def test_wsdl_is_served_as_text_xml_with_the_fake_address(fake: FakeCopernica, kit: Any) -> None:
    response = kit.session.get(fake.wsdl_url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == fake.url


def test_served_wsdl_differs_from_the_bundled_one_only_in_its_address(
    fake: FakeCopernica, kit: Any
) -> None:
    bundled = etree.fromstring(Path(WSDL_PATH).read_bytes())
    served = etree.fromstring(kit.session.get(fake.wsdl_url).content)
    for root in (bundled, served):
        for address in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
            address.set("location", "X")
    assert etree.tostring(served, method="c14n") == etree.tostring(bundled, method="c14n")


def test_result_element_is_present_even_when_empty(kit: Any) -> None:
    response = kit.raw("Account_database", "<identifier>missing</identifier>")
    assert response.status_code == 200
    result = kit.result_of(response)
    assert len(result) == 0


def test_response_envelope_uses_soap_env_and_ns1_prefixes(kit: Any) -> None:
    response = kit.raw("Account_databases", "")
    text = response.text
    assert "<SOAP-ENV:Envelope" in text
    assert "<ns1:Account_databasesResponse><result>" in text


def test_empty_page_still_has_items_element(kit: Any) -> None:
    result = kit.result_of(kit.raw("Account_databases", ""))
    assert [child.tag for child in result] == ["start", "length", "total", "items"]
    assert result.findtext("total") == "0"


def test_allproperties_is_echoed_only_when_requested(kit: Any) -> None:
    kit.seed_shop()
    without = kit.result_of(kit.raw("Account_databases", ""))
    with_all = kit.result_of(kit.raw("Account_databases", "<allproperties>true</allproperties>"))
    assert without.find("allproperties") is None
    assert with_all.findtext("allproperties") == "1"


def test_booleans_are_php_cast_one_or_empty(kit: Any) -> None:
    db = kit.seed_shop()
    field = kit.call("Database_field", id=db, identifier="customer_id").field
    assert field.index == "1"
    assert field.hidden is None  # an empty element: PHP's cast of false


def test_single_item_page_is_still_a_list_in_zeep(kit: Any) -> None:
    kit.seed_shop()
    result = kit.call("Account_databases")
    assert isinstance(result["items"]["database"], list)
    assert len(result["items"]["database"]) == 1
