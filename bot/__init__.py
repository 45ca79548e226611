"""Dockhand's Slack side: parsing, authorization, rendering, ack and dispatch."""
