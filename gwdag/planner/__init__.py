"""The planner: routing alerts to handlers, the state store, plans and their
rendering into DAGs."""
