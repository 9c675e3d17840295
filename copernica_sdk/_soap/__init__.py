"""The SOAP layer: the only package that imports zeep or handles raw XML."""

from .connection import SoapConnection
from .document import BUNDLED_WSDL
from .parse import SoapResult

__all__ = ["BUNDLED_WSDL", "SoapConnection", "SoapResult"]
