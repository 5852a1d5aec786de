"""A local stand-in for Vapi: its REST API, and the server messages of every call it places.

Use ``python manage.py vapi_simulator --port 8200`` for a dev session (voiceops points at it
with ``VAPI_BASE_URL=http://127.0.0.1:8200``), or in tests::

    from voiceops.simulator.runner import running_simulator

    with running_simulator(server_url=url + "/webhooks/vapi/", secret="s", time_factor=200) as sim:
        client = VapiClient(base_url=sim.base_url)

It is an installed app only so that its management commands (``vapi_simulator``,
``demo_setup``) are found; this module imports nothing, so registering the app loads none of
the simulator into web or worker processes. No production module imports this package.
"""
