"""Connectors shipped with copernica-sync: one subpackage per source (shop, CMS, file)."""
