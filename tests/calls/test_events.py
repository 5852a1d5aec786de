"""The ledger's processing side: failures and the sweeper, replay, the broker being down,
and two workers on one call at once."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.enums import CallStatus, EventState, Outcome
from calls.models import Call, TranscriptTurn, WebhookEvent
from calls.services import events
from calls.services.events import webhook_event_process, webhook_event_replay, webhook_events_sweep
from calls.tasks import sweep_webhook_events
from tests.calls.conftest import post
from tests.calls.test_webhook_fixtures import ASSISTANT_VAPI_ID, PHONE_VAPI_ID
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory, WebhookEventFactory
from voiceops.celery import app
from voiceops.vapi.messages import parse_server_message

CALL_ID = "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"
CALL_FIXTURES = [
    "status-update-ringing.json",
    "status-update-in-progress.json",
    "transcript-final.json",
    "conversation-update.json",
    "hang.json",
    "user-interrupted.json",
    "status-update-ended.json",
    "end-of-call-report.json",
]


def stored(name: str, **overrides) -> WebhookEvent:
    """A received ledger row for a fixture, as the webhook view would have stored it."""
    body = json.dumps(load_fixture(name)).encode()
    parsed = parse_server_message(body, max_depth=64)
    event_id = events.webhook_event_record(parsed=parsed, body=body, headers={})
    event = WebhookEvent.objects.get(pk=event_id)
    if overrides:
        WebhookEvent.objects.filter(pk=event_id).update(**overrides)
        event.refresh_from_db()
    return event


@pytest.fixture
def failing_processor(monkeypatch):
    from calls.services import processors

    def explode(call, parsed):
        raise RuntimeError("processor bug")

    monkeypatch.setitem(processors.PROCESSORS, "status-update", explode)


@pytest.mark.django_db
def test_a_failure_is_recorded_and_failed_after_five_attempts(failing_processor):
    event = stored("status-update-ringing.json")
    for attempt in range(1, 6):
        state = webhook_event_process(event_id=event.pk)
        event.refresh_from_db()
        assert event.attempts == attempt
        assert "RuntimeError: processor bug" in event.error
        assert "Traceback" in event.traceback and "explode" in event.traceback
    assert state == EventState.FAILED == event.state
    assert webhook_event_process(event_id=event.pk) is None  # failed rows are left alone
    assert not Call.objects.exists()  # the failed attempt's writes were rolled back


@pytest.mark.django_db
def test_sweeper_processes_only_events_left_unprocessed_for_a_minute(time_machine):
    old = stored("status-update-ringing.json")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(seconds=61))
    fresh = stored("status-update-in-progress.json")
    assert webhook_events_sweep() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, fresh.state) == (EventState.PROCESSED, EventState.RECEIVED)
    assert Call.objects.get().status == CallStatus.RINGING


@pytest.mark.django_db
def test_sweeper_retries_a_failing_event_until_it_is_marked_failed(failing_processor, time_machine):
    event = stored("status-update-ringing.json")
    for _ in range(7):
        time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
        sweep_webhook_events.delay()
    event.refresh_from_db()
    assert (event.state, event.attempts) == (EventState.FAILED, 5)


@pytest.mark.django_db
def test_replay_reprocesses_a_failed_event_after_the_fix(monkeypatch):
    from calls.services import processors

    real = processors.PROCESSORS["status-update"]
    monkeypatch.setitem(processors.PROCESSORS, "status-update", lambda call, parsed: 1 / 0)
    event = stored("status-update-ringing.json", attempts=4)
    webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.state == EventState.FAILED
    monkeypatch.setitem(processors.PROCESSORS, "status-update", real)
    webhook_event_replay(event=event)
    assert (event.state, event.attempts, event.error, event.traceback) == (EventState.PROCESSED, 1, "", "")
    assert Call.objects.get().status == CallStatus.RINGING
    webhook_event_replay(event=event)  # replaying an applied event changes nothing
    assert Call.objects.count() == 1 and Call.objects.get().status == CallStatus.RINGING


@pytest.mark.django_db
def test_replay_of_a_report_does_not_duplicate_the_transcript():
    event = stored("end-of-call-report.json")
    webhook_event_process(event_id=event.pk)
    webhook_event_replay(event=event)
    assert TranscriptTurn.objects.count() == 12


@pytest.mark.django_db
def test_a_stored_body_that_is_no_longer_a_message_fails_at_once():
    event = WebhookEventFactory(body="[]")
    assert webhook_event_process(event_id=event.pk) == EventState.FAILED


@pytest.mark.django_db
def test_the_call_ended_hook_runs_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    from calls import hooks

    seen: list[str] = []
    monkeypatch.setattr(hooks, "on_call_ended", lambda *, call: seen.append(call.vapi_id))
    event = stored("status-update-ended.json")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhook_event_process(event_id=event.pk)
    assert seen == []
    for callback in callbacks:
        callback()
    assert seen == [CALL_ID]


# --- broker down ---------------------------------------------------------------------------


@pytest.fixture
def broker_down(monkeypatch):
    """Celery not eager and its broker URL on a closed local port: every publish fails."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    original = (app.conf.broker_url, app.conf.task_always_eager)

    def reset_pools():
        app.amqp._producer_pool = None
        app._pool = None

    reset_pools()
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    app.conf.task_always_eager = False
    yield
    app.conf.broker_url, app.conf.task_always_eager = original
    reset_pools()


@pytest.mark.django_db
def test_with_the_broker_down_webhooks_are_answered_and_stored_and_the_sweeper_processes_them(
    broker_down, client, django_capture_on_commit_callbacks, caplog, time_machine
):
    for name in CALL_FIXTURES:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, load_fixture(name))
        assert response.status_code == 200 and response.json() == {}
    assert WebhookEvent.objects.filter(state=EventState.RECEIVED).count() == len(CALL_FIXTURES)
    assert not Call.objects.exists()
    failures = [r for r in caplog.records if "webhook.enqueue_failed" in str(r.msg)]
    skipped = [r for r in caplog.records if "webhook.enqueue_skipped" in str(r.msg)]
    assert len(failures) == 1 and len(skipped) == len(CALL_FIXTURES) - 1  # publishing paused after a failure

    app.conf.broker_url, app.conf.task_always_eager = (app.conf.broker_url, True)  # Redis is back
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
    sweep_webhook_events.delay()
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {EventState.PROCESSED}
    call = Call.objects.get(vapi_id=CALL_ID)
    assert (call.status, call.outcome, call.has_final_report) == (CallStatus.ENDED, Outcome.COMPLETED, True)


# --- two workers on one call ---------------------------------------------------------------


def _run_in_threads(targets) -> list[BaseException]:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def runner(target):
        try:
            barrier.wait(timeout=10)
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_events_of_one_unknown_call_at_once_do_not_corrupt_it():
    ids = [stored(name).pk for name in CALL_FIXTURES]
    halves = [ids[0::2], ids[1::2]]
    errors = _run_in_threads([lambda h=h: [webhook_event_process(event_id=i) for i in h] for h in halves])
    assert errors == []
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {EventState.PROCESSED}
    call = Call.objects.get()
    assert (call.status, call.ended_reason, call.outcome) == (
        "ended",
        "assistant-said-end-call-phrase",
        "completed",
    )
    assert call.has_final_report and call.customer is not None and call.started_at is not None
    assert TranscriptTurn.objects.filter(call=call).count() == 12


@pytest.mark.django_db(transaction=True)
def test_the_same_event_claimed_by_two_workers_is_applied_once():
    event = stored("transcript-final.json")
    results: list[str | None] = []
    errors = _run_in_threads([lambda: results.append(webhook_event_process(event_id=event.pk))] * 2)
    assert errors == []
    event.refresh_from_db()
    assert event.attempts == 1 and event.state == EventState.PROCESSED
    assert TranscriptTurn.objects.count() == 1
    assert results.count(EventState.PROCESSED) == 1 and results.count(None) == 1


# --- notify dispatch: no Redis on the request path -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_notify_dispatch_wakes_the_ledger_worker_without_celery(settings, client, monkeypatch):
    from django.core.management import call_command

    settings.VAPI_WEBHOOK_DISPATCH = "notify"
    published: list[int] = []
    monkeypatch.setattr(events, "_publish", published.append)
    worker_errors = _run_in_threads(
        [lambda: call_command("webhook_worker", "--max-seconds", "3", "--poll", "30")]
        + [lambda: [post(client, load_fixture(n)) for n in CALL_FIXTURES]]
    )
    assert worker_errors == []
    assert published == []
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {EventState.PROCESSED}
    assert Call.objects.get().status == CallStatus.ENDED


def _ended_status_of(call_id: str) -> bytes:
    message = load_fixture("status-update-ended.json")
    message["message"]["call"]["id"] = call_id
    return json.dumps(message).encode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("group_commit", [False, True])
def test_the_notify_payload_says_ended_for_an_ended_status_only(settings, group_commit):
    import psycopg

    settings.VAPI_WEBHOOK_DISPATCH = "notify"
    settings.VAPI_WEBHOOK_GROUP_COMMIT = group_commit
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as listener:
        listener.execute(f"LISTEN {events.NOTIFY_CHANNEL}")
        for body in (
            json.dumps(load_fixture("transcript-final.json")).encode(),
            _ended_status_of("notify-1"),
        ):
            parsed = parse_server_message(body, max_depth=64)
            _run_in_threads([lambda: events.webhook_event_record(parsed=parsed, body=body, headers={})])
        payloads = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
    assert payloads == ["", events.NOTIFY_ENDED]


@pytest.mark.django_db(transaction=True)
def test_an_ended_status_arriving_mid_batch_is_processed_next(settings, monkeypatch):
    """The ledger worker looks at the queue again when an ended status is noticed, so the status
    that frees a campaign's slot waits behind the event in hand, not behind the whole pick."""
    settings.VAPI_WEBHOOK_DISPATCH = "notify"
    backlog = [stored(name).pk for name in CALL_FIXTURES if not name.startswith("status-update")]
    from calls.management.commands.webhook_worker import _ended_arrived, _listen

    _listen()  # as the ledger worker does, on this test's connection
    order: list[int] = []
    original = events.webhook_event_process
    body = _ended_status_of("mid-batch-ended")

    def process(*, event_id: int) -> str | None:
        order.append(event_id)
        if len(order) == 1:  # Vapi ends another call while the worker is on the first event
            parsed = parse_server_message(body, max_depth=64)
            _run_in_threads([lambda: events.webhook_event_record(parsed=parsed, body=body, headers={})])
        return original(event_id=event_id)

    monkeypatch.setattr(events, "webhook_event_process", process)
    assert events.webhook_events_process_pending(limit=50, ended_arrived=_ended_arrived) == len(backlog) + 1
    ended = WebhookEvent.objects.get(vapi_call_id="mid-batch-ended").pk
    assert order == [backlog[0], ended, *backlog[1:]]


# --- group commit --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_group_commit_stores_concurrent_webhooks_once_each(settings, django_capture_on_commit_callbacks):
    from calls.services.ingest import webhook_receive

    settings.VAPI_WEBHOOK_GROUP_COMMIT = True
    settings.VAPI_WEBHOOK_DISPATCH = "notify"  # nothing to publish; the rows are what we check
    bodies = []
    for i in range(12):
        message = load_fixture("status-update-ringing.json")
        message["message"]["call"]["id"] = f"group-commit-call-{i % 8}"  # 4 duplicates among 12
        bodies.append(json.dumps(message).encode())

    def send(body):
        return lambda: webhook_receive(parsed=parse_server_message(body, max_depth=64), body=body, headers={})

    errors = _run_in_threads([send(body) for body in bodies])
    assert errors == []
    assert WebhookEvent.objects.count() == 8
    assert set(WebhookEvent.objects.values_list("vapi_call_id", flat=True)) == {
        f"group-commit-call-{i}" for i in range(8)
    }


@pytest.mark.django_db(transaction=True)
def test_group_commit_reports_duplicates_within_one_batch_and_survives_errors(settings):
    from calls.services import group_commit
    from calls.services.events import ledger_row

    settings.VAPI_WEBHOOK_GROUP_COMMIT = True
    body = json.dumps(load_fixture("status-update-ringing.json")).encode()
    parsed = parse_server_message(body, max_depth=64)
    row = ledger_row(parsed=parsed, body=body, headers={})
    futures = []
    from concurrent.futures import Future

    for _ in range(3):
        future: Future = Future()
        futures.append(future)
    group_commit._GroupCommitter._write([(list(row), None, f) for f in futures])
    results = [f.result() for f in futures]
    assert results[0] is not None and results[1:] == [None, None]
    bad = list(row)
    bad[3] = "not json"
    with pytest.raises(Exception):  # noqa: B017 - the database refuses it; the waiter gets the error
        group_commit.group_insert(row=bad, notify=None)
    assert (
        group_commit.group_insert(
            row=ledger_row(
                parsed=parse_server_message(json.dumps(load_fixture("hang.json")).encode(), max_depth=64),
                body=json.dumps(load_fixture("hang.json")).encode(),
                headers={},
            ),
            notify=None,
        )
        is not None
    )


@pytest.mark.django_db
def test_replay_command_replays_failed_events(monkeypatch):
    from io import StringIO

    from django.core.management import CommandError, call_command

    event = stored("status-update-ringing.json", state=EventState.FAILED, attempts=5, error="old bug")
    out = StringIO()
    call_command("webhook_replay", "--failed", stdout=out)
    event.refresh_from_db()
    assert event.state == EventState.PROCESSED and "1 processed" in out.getvalue()
    with pytest.raises(CommandError, match="No webhook event with id 999999"):
        call_command("webhook_replay", "999999")
    with pytest.raises(CommandError):
        call_command("webhook_replay")


@pytest.mark.django_db(transaction=True)
def test_group_commit_that_does_not_finish_in_time_is_not_acknowledged(client, settings, monkeypatch):
    """A commit stuck behind a lock: 503 (Vapi retries), never a 500, never an ack before commit."""
    import psycopg

    from calls.services import group_commit

    settings.VAPI_WEBHOOK_GROUP_COMMIT = True
    settings.VAPI_WEBHOOK_DISPATCH = "notify"
    monkeypatch.setattr(group_commit, "_WAIT_SECONDS", 0.5)
    body = json.dumps(load_fixture("status-update-ringing.json")).encode()
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    )
    try:
        blocker.execute("LOCK TABLE calls_webhookevent IN ACCESS EXCLUSIVE MODE")
        refused = post(client, body)
        assert refused.status_code == 503 and refused.json()["code"] == "storage_unavailable"
    finally:
        blocker.rollback()
        blocker.close()
    retried = post(client, body)
    assert retried.status_code == 200
    assert WebhookEvent.objects.count() == 1  # the late commit and the retry are one event
    group_commit.group_commit_stop()


@pytest.mark.django_db(transaction=True)
def test_a_status_update_of_a_known_call_is_applied_in_one_update_of_the_call():
    """The ledger's cost per event is its round trips: claim, lock the call, one UPDATE of it
    (status with the rest), mark the event, commit; no savepoint around the processing, and
    the claim and the mark planned once per connection."""
    AssistantFactory(vapi_id=ASSISTANT_VAPI_ID, pushed_version=1)
    PhoneNumberFactory(vapi_id=PHONE_VAPI_ID)
    webhook_event_process(event_id=stored("status-update-ringing.json").pk)
    event = stored("status-update-in-progress.json")
    with CaptureQueriesContext(connection) as queries:
        assert webhook_event_process(event_id=event.pk) == EventState.PROCESSED
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    # The claim and the mark were prepared with the first event; the call's UPDATE names its fields.
    assert statements == ["BEGIN", "EXECUTE", "SELECT", "UPDATE", "EXECUTE", "COMMIT"], statements
    call = Call.objects.get(vapi_id=CALL_ID)
    assert call.status == CallStatus.IN_PROGRESS and call.started_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_failure_rolls_back_the_whole_transaction_and_is_recorded_in_its_own(failing_processor):
    """Outside a test transaction, as the ledger worker runs: no savepoint per event, so the
    failed event's writes go with the rolled-back transaction and the failure is still kept."""
    event = stored("status-update-ringing.json")
    assert webhook_event_process(event_id=event.pk) == EventState.RECEIVED
    event.refresh_from_db()
    assert event.attempts == 1 and "RuntimeError: processor bug" in event.error
    assert not Call.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_first_event_of_a_call_creates_and_links_it_in_few_statements():
    """A new call: the lock's miss, one INSERT ... ON CONFLICT (no get_or_create SELECT and
    savepoint), the lock, the tool records' links, then the ids (not the whole rows, whose
    columns cost milliseconds of Python) of its assistant and number, and its customer."""
    assistant = AssistantFactory(vapi_id=ASSISTANT_VAPI_ID, pushed_version=3)
    phone = PhoneNumberFactory(vapi_id=PHONE_VAPI_ID)
    event = stored("status-update-ringing.json")
    with CaptureQueriesContext(connection) as queries:
        assert webhook_event_process(event_id=event.pk) == EventState.PROCESSED
    sql = [q["sql"] for q in queries.captured_queries]
    heads = [" ".join(s.split(None, 3)[:3]) for s in sql]
    calls = [s for s in sql if s.startswith('INSERT INTO "calls_call"')]
    assert len(calls) == 1 and "ON CONFLICT DO NOTHING" in calls[0], heads
    assert 'SELECT "assistants_assistant"."id" AS' in heads, heads
    assert 'SELECT "assistants_phonenumber"."id" AS' in heads, heads
    # 17 with a new customer (its savepoint, INSERT, history row, release); 22 before.
    assert len(sql) <= 17, heads
    call = Call.objects.get(vapi_id=CALL_ID)
    assert (call.assistant_id, call.assistant_version, call.phone_number_id) == (assistant.pk, 3, phone.pk)
    assert call.customer is not None


@pytest.mark.django_db(transaction=True)
def test_a_tool_call_before_the_call_row_is_linked_when_the_first_event_creates_it(client):
    """The call row is created by the ledger after a tool call stored its invocation."""
    from tests.tools.conftest import tool_call, tool_message
    from tools.models import ToolInvocation

    post(client, {"message": tool_message(tool_call("get_customer_info"), vapi_call_id=CALL_ID)})
    assert ToolInvocation.objects.get().call_id is None
    webhook_event_process(event_id=stored("status-update-ringing.json").pk)
    assert ToolInvocation.objects.get().call_id == Call.objects.get(vapi_id=CALL_ID).pk
