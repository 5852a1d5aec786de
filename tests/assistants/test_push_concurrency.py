"""Two pushes of one assistant at the same time create it in Vapi once (row lock)."""

from __future__ import annotations

import json
import threading
import time

import pytest
import responses
from django.db import connection

from assistants.services import assistant_push
from tests.assistants.conftest import ASSISTANT_ID, VAPI, calls_to
from tests.factories import AssistantFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_pushes_create_once(vapi):
    assistant = AssistantFactory()

    def slow_create(request):
        time.sleep(0.3)  # keep the first push inside its transaction while the second arrives
        return (201, {}, json.dumps({"id": ASSISTANT_ID}))

    vapi.add_callback(responses.POST, f"{VAPI}/assistant", callback=slow_create)
    results, errors = [], []

    def push() -> None:
        try:
            results.append(assistant_push(assistant=type(assistant).objects.get(pk=assistant.pk)).action)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(results) == ["created", "unchanged"]
    assert len(calls_to(vapi, "POST", "/assistant")) == 1
