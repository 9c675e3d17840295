"""A stateful fake of Copernica's SOAP API for tests, served over real loopback HTTP.

It speaks the real wire protocol (SOAP 1.1, rpc/literal, the bundled WSDL), so a
zeep client built from ``fake.wsdl_url`` works unchanged::

    from copernica_sdk.testing.fake_copernica import FakeCopernica

    with FakeCopernica() as fake:
        client = zeep.Client(fake.wsdl_url)
        ...

See docs/testing.md, "The fake Copernica service".
"""

from .faults import FAULT_KINDS, FaultPlan
from .fieldtypes import FIELD_TYPES
from .server import FakeCopernica

__all__ = ["FAULT_KINDS", "FIELD_TYPES", "FakeCopernica", "FaultPlan"]
