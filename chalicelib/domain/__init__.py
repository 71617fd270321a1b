"""Domain: projects, sessions, handoffs, metrics. No Chalice here; storage below, routes above."""
