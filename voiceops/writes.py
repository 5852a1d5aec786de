"""Writing validated fields to a model row: the mechanics the named write services share.

A service decides what a write means (which fields are stamped, what is refused); these two
functions only apply the fields. Many-to-many fields are set once the row exists, and an update
saves the fields it was given (plus ``auto_now`` stamps) and nothing else, so a change another
writer made meanwhile to other fields (a pause, a do-not-call listing) is not written back over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction

Row = TypeVar("Row", bound=models.Model)


def _split(model: type[models.Model], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    many = {f.name for f in model._meta.many_to_many}
    return {k: v for k, v in data.items() if k not in many}, {k: v for k, v in data.items() if k in many}


def row_create(model: type[Row], data: Mapping[str, Any]) -> Row:
    fields, many = _split(model, data)
    with transaction.atomic(savepoint=False):
        row = model._default_manager.create(**fields)
        for name, values in many.items():
            getattr(row, name).set(values)
    return row


def row_update(row: Row, data: Mapping[str, Any]) -> Row:
    fields, many = _split(type(row), data)
    stamps = [f.name for f in row._meta.concrete_fields if getattr(f, "auto_now", False)]
    with transaction.atomic(savepoint=False):
        for name, value in fields.items():
            setattr(row, name, value)
        if fields:
            row.save(update_fields=[*fields, *stamps])  # save(): the change enters the history
        for name, values in many.items():
            getattr(row, name).set(values)
    return row
