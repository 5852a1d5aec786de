"""Inbound routing of routed numbers: opening hours, ordered rules, the decision recorded on the call."""
