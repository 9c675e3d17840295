"""Test kit for partners: a fake Copernica SOAP service and recorded SOAP fixtures."""
