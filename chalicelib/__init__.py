"""Multi-Session Orchestrator: everything the Chalice app imports lives here."""
