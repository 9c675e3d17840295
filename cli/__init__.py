"""The ``copernica-sync`` command line (click).  Heavy modules load inside commands."""
