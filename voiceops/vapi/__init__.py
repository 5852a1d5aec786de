"""The boundary to Vapi: REST client, webhook authentication, message parsing, simulator."""
