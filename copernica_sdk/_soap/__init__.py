"""The SOAP layer: the only package that imports zeep or handles raw XML."""
