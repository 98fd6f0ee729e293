"""Test kits shipped with hyperfleet: every executor (and yours) can run the same checks."""
