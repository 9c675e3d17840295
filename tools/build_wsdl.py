"""Generate the bundled WSDL from one table of operations.

The live Copernica WSDL cannot be fetched from our machines, so the bundled file
is authored from the facts in the API reference (docs/copernica-api-notes.md
§1, §3): SOAP 1.1, rpc/literal, one ``parameters``
part of type ``input_<Operation>`` and one ``result`` part of the shared type
``Result``.  Writing 45 operations by hand invites typos that zeep (which is
case-sensitive) would only reveal at call time, so the WSDL is generated from
the table below and a test checks the committed file matches this script.

Run: ``python tools/build_wsdl.py`` (rewrites copernica_sdk/_soap/wsdl/copernica.wsdl).
"""

from __future__ import annotations

import sys
from pathlib import Path

TNS = "http://soap.copernica.com/pom"
OUT = Path(__file__).resolve().parent.parent / "copernica_sdk" / "_soap" / "wsdl" / "copernica.wsdl"

# Parameter types used below: xsd scalars, or one of the complex types defined in
# COMPLEX_INPUT_TYPES.  A trailing "!" marks a required parameter (minOccurs=1).
PAGING = ["start:int", "length:int", "allproperties:boolean"]
SEARCH = ["requirements:Requirements!", "order:string", "asc:boolean", *PAGING]
CALLER = ["caller:Caller"]
FIELD_DEF = [
    "name:string!",
    "type:string",
    "value:string",
    "display:boolean",
    "ordered:boolean",
    "length:int",
    "textlines:int",
    "lines:int",
    "big:boolean",
    "hidden:boolean",
    "index:boolean",
    "specialcontent:string",
]
FIELD_UPDATE = ["id:int!", *(p.replace("!", "") for p in FIELD_DEF)]

OPERATIONS: dict[str, list[str]] = {
    "login": ["username:string!", "account:string", "password:string!"],
    # Account
    "Account_retrieve": ["id:int"],
    "Account_databases": PAGING,
    "Account_database": ["identifier:string!"],
    "Account_createDatabase": ["name:string!", "description:string"],
    # Database
    "Database_retrieve": ["id:int!"],
    "Database_update": ["id:int!", "name:string", "description:string", "unsubscribebehavior:string"],
    "Database_remove": ["id:int!"],
    "Database_fields": ["id:int!", "start:int", "length:int"],
    "Database_field": ["id:int!", "identifier:string!"],
    "Database_createField": ["id:int!", *FIELD_DEF],
    "Database_collections": ["id:int!", *PAGING],
    "Database_collection": ["id:int!", "identifier:string!"],
    "Database_createCollection": ["id:int!", "name:string!"],
    "Database_createProfile": ["id:int!", "fields:Map!", *CALLER],
    "Database_searchProfiles": ["id:int!", *SEARCH],
    "Database_updateProfiles": [
        "id:int!",
        "requirements:Requirements!",
        "fields:Map!",
        "interests:Map",
        "create:boolean",
        "async:boolean",
        *PAGING,
        *CALLER,
    ],
    "Database_distinctProfiles": [
        "id:int!",
        "fields:StringArray!",
        "order:string",
        "asc:boolean",
        "start:int",
        "length:int",
    ],
    "Database_removeProfiles": ["id:int!", "ids:IntArray!"],
    "Database_unsubscribeValues": ["id:int!"],
    "Database_setUnsubscribeValues": ["id:int!", "fields:Map!"],
    "Database_callbacks": ["id:int!", "start:int", "length:int"],
    "Database_createCallback": ["id:int!", "url:string!", "method:string", "expression:string"],
    "View_updateProfiles": [
        "id:int!",
        "requirements:Requirements!",
        "fields:Map!",
        "create:boolean",
        "async:boolean",
        *PAGING,
        *CALLER,
    ],
    # Fields
    "Field_update": FIELD_UPDATE,
    "CollectionField_update": FIELD_UPDATE,
    # Collection
    "Collection_retrieve": ["id:int!"],
    "Collection_remove": ["id:int!"],
    "Collection_fields": ["id:int!", "start:int", "length:int"],
    "Collection_field": ["id:int!", "identifier:string!"],
    "Collection_createField": ["id:int!", *FIELD_DEF],
    "Collection_searchSubProfiles": ["id:int!", *SEARCH],
    "Collection_subProfile": ["id:int!", "identifier:int!"],
    "Collection_removeSubProfiles": ["id:int!", "ids:IntArray!"],
    "Collection_unsubscribe": ["id:int!", "subprofile:Ref!"],
    # Profile
    "Profile_retrieve": ["id:int!"],
    "Profile_fields": ["id:int!"],
    "Profile_updateFields": ["id:int!", "fields:Map!", *CALLER, "timestamp:string"],
    "Profile_remove": ["id:int!"],
    "Profile_move": ["id:int!", "profile:Ref!"],
    "Profile_createSubProfile": ["id:int!", "collection:Ref!", "fields:Map!", *CALLER],
    "Profile_searchSubProfiles": [
        "id:int!",
        "collection:Ref",
        "miniview:Ref",
        *SEARCH,
    ],
    "Profile_updateSubProfiles": [
        "id:int!",
        "collection:Ref!",
        "requirements:Requirements!",
        "fields:Map!",
        "create:boolean",
        *PAGING,
        *CALLER,
    ],
    # SubProfile
    "SubProfile_retrieve": ["id:int!"],
    "SubProfile_updateFields": ["id:int!", "fields:Map!", *CALLER],
    "SubProfile_remove": ["id:int!"],
    "SubProfile_moveToProfile": ["id:int!", "profile:Ref!"],
}

# Entity types returned inside Result.  Booleans travel as PHP-cast strings ('1' or ''),
# so they are declared as strings; the SDK's parser converts them.
ENTITY_TYPES: dict[str, list[str]] = {
    "Account": ["id:int", "name:string", "description:string", "created:string", "active:string"],
    "Database": [
        "id:int",
        "name:string",
        "description:string",
        "archived:string",
        "created:string",
        "unsubscribebehavior:string",
        "countprofiles:int",
        "lastbuilt:string",
    ],
    "Collection": [
        "id:int",
        "name:string",
        "database:int",
        "weight:int",
        "created:string",
        "unsubscribebehavior:string",
        "countsubprofiles:int",
    ],
    "Field": [
        "id:int",
        "name:string",
        "type:string",
        "value:string",
        "displayed:string",
        "ordered:string",
        "length:int",
        "lines:int",
        "big:string",
        "hidden:string",
        "index:string",
        "specialcontent:string",
    ],
    "Profile": [
        "id:int",
        "code:string",
        "extra:string",
        "database:int",
        "created:string",
        "modified:string",
        "lastexport:string",
        "fields:Map",
        "interests:Map",
    ],
    "Subprofile": [
        "id:int",
        "code:string",
        "profile:int",
        "collection:int",
        "created:string",
        "modified:string",
        "lastexport:string",
        "fields:Map",
    ],
    "Callback": ["id:int", "url:string", "method:string", "expression:string"],
}

RESULT_MEMBERS = [
    "value:string",
    "array:StringArray",
    "map:Map",
    "start:int",
    "length:int",
    "total:int",
    "allproperties:string",
    "items:Items",
    "account:Account",
    "database:Database",
    "collection:Collection",
    "field:Field",
    "collectionfield:Field",
    "profile:Profile",
    "subprofile:Subprofile",
    "callback:Callback",
]

ITEM_ELEMENTS = [
    ("database", "Database"),
    ("collection", "Collection"),
    ("field", "Field"),
    ("collectionfield", "Field"),
    ("profile", "Profile"),
    ("subprofile", "Subprofile"),
    ("callback", "Callback"),
]

XSD_SCALARS = {"int", "string", "boolean"}


def _type_ref(type_name: str) -> str:
    return f"xsd:{type_name}" if type_name in XSD_SCALARS else f"tns:{type_name}"


def _element(spec: str, indent: str) -> str:
    name, _, type_name = spec.partition(":")
    required = type_name.endswith("!")
    type_name = type_name.rstrip("!")
    min_occurs = "1" if required else "0"
    return f'{indent}<xsd:element name="{name}" type="{_type_ref(type_name)}" minOccurs="{min_occurs}"/>'


def _complex(name: str, members: list[str], indent: str = "      ") -> str:
    lines = [f'{indent}<xsd:complexType name="{name}">', f"{indent}  <xsd:sequence>"]
    lines += [_element(m, indent + "    ") for m in members]
    lines += [f"{indent}  </xsd:sequence>", f"{indent}</xsd:complexType>"]
    return "\n".join(lines)


def _list_type(name: str, item: str, item_type: str, indent: str = "      ") -> str:
    return "\n".join(
        [
            f'{indent}<xsd:complexType name="{name}">',
            f"{indent}  <xsd:sequence>",
            f'{indent}    <xsd:element name="{item}" type="{item_type}" minOccurs="0" maxOccurs="unbounded"/>',
            f"{indent}  </xsd:sequence>",
            f"{indent}</xsd:complexType>",
        ]
    )


def build() -> str:
    types: list[str] = [
        _complex("Pair", ["key:string!", "value:string!"]),
        _list_type("Map", "pair", "tns:Pair"),
        _complex(
            "Requirement",
            ["fieldname:string!", "value:string!", "operator:string", "casesensitive:boolean"],
        ),
        _list_type("Requirements", "requirement", "tns:Requirement"),
        _complex("Ref", ["id:int!"]),
        _list_type("IntArray", "item", "xsd:int"),
        _list_type("StringArray", "item", "xsd:string"),
        _complex("Caller", ["followups:boolean", "caller:string", "identity:string"]),
    ]
    types += [_complex(name, members) for name, members in ENTITY_TYPES.items()]
    items = [
        '      <xsd:complexType name="Items">',
        "        <xsd:sequence>",
        *(
            f'          <xsd:element name="{el}" type="tns:{t}" minOccurs="0" maxOccurs="unbounded"/>'
            for el, t in ITEM_ELEMENTS
        ),
        "        </xsd:sequence>",
        "      </xsd:complexType>",
    ]
    types.append("\n".join(items))
    types.append(_complex("Result", RESULT_MEMBERS))
    # access_token is an optional member of every input type (docs/copernica-api-notes.md §2).
    types += [
        _complex(f"input_{op}", [*params, "access_token:string"]) for op, params in OPERATIONS.items()
    ]

    messages: list[str] = []
    port_ops: list[str] = []
    binding_ops: list[str] = []
    for op in OPERATIONS:
        messages.append(
            f'  <wsdl:message name="{op}Request">\n'
            f'    <wsdl:part name="parameters" type="tns:input_{op}"/>\n'
            f"  </wsdl:message>\n"
            f'  <wsdl:message name="{op}Response">\n'
            f'    <wsdl:part name="result" type="tns:Result"/>\n'
            f"  </wsdl:message>"
        )
        port_ops.append(
            f'    <wsdl:operation name="{op}">\n'
            f'      <wsdl:input message="tns:{op}Request"/>\n'
            f'      <wsdl:output message="tns:{op}Response"/>\n'
            f"    </wsdl:operation>"
        )
        binding_ops.append(
            f'    <wsdl:operation name="{op}">\n'
            f'      <soap:operation soapAction="{TNS}#{op}"/>\n'
            f'      <wsdl:input><soap:body use="literal" namespace="{TNS}"/></wsdl:input>\n'
            f'      <wsdl:output><soap:body use="literal" namespace="{TNS}"/></wsdl:output>\n'
            f"    </wsdl:operation>"
        )

    nl = "\n"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!--
  Copernica SOAP API ("POM"), as documented.  GENERATED by tools/build_wsdl.py; do not edit.
  Authored from the public API reference because the live WSDL could not be fetched:
  SOAP 1.1, rpc/literal, one `parameters` part of type input_<Operation>, one `result`
  part of type Result.  The target namespace is an assumption; the service address is
  replaced at run time (the SDK calls create_service, the fake serves its own address).
-->
<wsdl:definitions name="POM_SOAP_API"
    targetNamespace="{TNS}"
    xmlns:tns="{TNS}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="{TNS}" elementFormDefault="unqualified">
{nl.join(types)}
    </xsd:schema>
  </wsdl:types>
{nl.join(messages)}
  <wsdl:portType name="POMPortType">
{nl.join(port_ops)}
  </wsdl:portType>
  <wsdl:binding name="POMBinding" type="tns:POMPortType">
    <soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
{nl.join(binding_ops)}
  </wsdl:binding>
  <wsdl:service name="POM_SOAP_API">
    <wsdl:port name="POMPort" binding="tns:POMBinding">
      <soap:address location="https://soap.copernica.com/"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


def main() -> int:
    text = build()
    if "--check" in sys.argv:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(OPERATIONS)} operations, {len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
