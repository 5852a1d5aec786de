"""Writes of the campaign area, one module per step. Import from the module, not from here.

- ``control``: ``campaign_start/pause/resume/cancel/delete``, ``outbound_kill_switch_set``
- ``recipients``: ``recipients_import`` (CSV, with a row-by-row report)
- ``dispatch``: ``campaign_dispatch_due`` (reserve under the caps, then ``sending`` dials)
- ``dialing``: one attempt to Vapi and back (``attempt_dial``, ``attempt_accept``, reconcile)
- ``ended``: ``call_ended_apply`` and the refill of freed slots
- ``outcomes``, ``reached``, ``refusals``: what an ended (or refused) call means for the recipient
- ``checks``: the compliance gate and the decision ledger; ``budget``: the org's concurrency
- ``predial``: the answer to Vapi's pre-dial question; ``outbound``: one call placed now
- ``recovery``: crash recovery of attempts, from the beat tick
- ``transitions``: the state changes several of the above share (a leaf; see its docstring)

Module-level imports only, with one exception: ``ended.campaign_dispatch_enqueue`` imports
``calls.campaigns.tasks`` when called (services enqueue tasks, tasks call services).
"""
