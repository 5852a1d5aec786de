"""Recipients from CSV: validate every row, report each rejection, then (unless dry run) write.

Why plain ``csv`` and not django-import-export: each row needs number normalisation with the
campaign's region, a time-zone inference, a customer upsert by number, do-not-call and consent
checks against existing customers, and "every other column becomes a variable". That is a
validation pipeline, not a model-field mapping; import-export's Resource would be bent around
it (and would add a dependency and admin mixins the API could not reuse). The same function
serves the admin upload and the API, with ``dry_run`` giving the preview.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from calls.campaigns.services.checks import known_time_zones, time_zones_for_number
from calls.enums import CampaignState
from calls.models import Campaign, CampaignRecipient, Customer
from calls.services.customers import customer_changes, customer_get_or_create, customer_update
from voiceops.errors import DomainError, InvalidState
from voiceops.phones import number_to_e164

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
RESERVED_COLUMNS = {"number", "name", "timezone"}


@dataclass
class RejectedRow:
    line: int
    number: str
    reason: str


@dataclass
class AcceptedRow:
    line: int
    number: str
    name: str
    time_zone: str
    variables: dict[str, str]
    new_customer: bool
    # What the row changes on a known customer (name, time zone): a non-empty value that differs.
    # An inferred time zone is not the row's word and never overwrites the customer's.
    customer_updates: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    dry_run: bool
    total_rows: int = 0
    accepted: list[AcceptedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    created_recipients: int = 0
    created_customers: int = 0
    updated_customers: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["accepted_count"] = len(self.accepted)
        data["rejected_count"] = len(self.rejected)
        return data


def _header(reader: csv.DictReader) -> list[str]:
    fields = [(name or "").strip() for name in (reader.fieldnames or [])]
    lowered = [f.lower() for f in fields]
    if "number" not in lowered:
        raise DomainError(
            "The CSV needs a header row with a 'number' column (optional: name, timezone, any variables).",
            code="csv_no_number_column",
        )
    duplicates = {f for f in lowered if f and lowered.count(f) > 1}
    if duplicates:
        raise DomainError(
            f"Duplicate column(s) in the header: {', '.join(sorted(duplicates))}.",
            code="csv_duplicate_columns",
        )
    return fields


def recipients_import(*, campaign: Campaign, csv_text: str, dry_run: bool) -> ImportReport:
    """Validate (and unless ``dry_run``, add) recipients. Accepted rows are written even when
    others are rejected; the report says which and why, so a confirm after a preview adds
    exactly the rows the preview listed as accepted."""
    if campaign.state in (CampaignState.COMPLETED, CampaignState.CANCELLED):
        raise InvalidState(
            f"Recipients cannot be added to a {campaign.get_state_display().lower()} campaign."
        )
    if len(csv_text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DomainError(f"The CSV is larger than {MAX_BYTES // (1024 * 1024)} MB.", code="csv_too_large")
    text = csv_text.lstrip("\ufeff")
    if not text.strip():
        raise DomainError("The CSV is empty.", code="csv_empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    fields = _header(reader)
    mapping = {original: original.strip() for original in (reader.fieldnames or [])}
    report = ImportReport(dry_run=dry_run)

    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise DomainError(
                    f"The CSV has more than {MAX_ROWS} rows; split it.", code="csv_too_many_rows"
                )
            clean = {
                mapping.get(k, str(k)).strip(): (v or "").strip() if isinstance(v, str) else ""
                for k, v in row.items()
                if k is not None
            }
            if row.get(None):  # more cells than header columns
                clean["__extra__"] = "x"
            if not any(clean.values()):
                continue
            rows.append((reader.line_num, clean))
    except csv.Error as exc:
        raise DomainError(f"The CSV cannot be read near line {reader.line_num}: {exc}.", code="csv_malformed")
    report.total_rows = len(rows)

    lower_fields = {f.lower(): f for f in fields}
    region = (campaign.default_region or settings.PHONENUMBER_DEFAULT_REGION).upper()
    numbers: dict[str, str | None] = {}
    for _, row in rows:
        raw = row.get(lower_fields["number"], "")
        # Valid, not merely possible: every accepted row is dialled and filed as a customer.
        numbers[raw] = number_to_e164(raw, region=region, strict=True) if raw else None
    known = {str(c.number): c for c in Customer.objects.filter(number__in=[n for n in numbers.values() if n])}
    already = {
        str(n) for n in CampaignRecipient.objects.filter(campaign=campaign).values_list("number", flat=True)
    }
    seen: set[str] = set()
    for line, row in rows:
        raw = row.get(lower_fields["number"], "")
        if "__extra__" in row:
            report.rejected.append(RejectedRow(line, raw, "More cells than header columns."))
            continue
        if not raw:
            report.rejected.append(RejectedRow(line, raw, "The number is empty."))
            continue
        number = numbers.get(raw)
        if number is None:
            report.rejected.append(RejectedRow(line, raw, f"Invalid number (region {region})."))
            continue
        if number in seen:
            report.rejected.append(
                RejectedRow(line, raw, f"Duplicate: {number} appears earlier in the file.")
            )
            continue
        if number in already:
            report.rejected.append(
                RejectedRow(line, raw, f"Duplicate: {number} is already in this campaign.")
            )
            continue
        customer = known.get(number)
        if customer is not None and customer.do_not_call:
            report.rejected.append(RejectedRow(line, raw, "On the do-not-call list."))
            continue
        if campaign.requires_consent and (customer is None or not customer.consent):
            report.rejected.append(
                RejectedRow(line, raw, "No consent recorded and the campaign requires it.")
            )
            continue
        tz = row.get(lower_fields.get("timezone", ""), "") if "timezone" in lower_fields else ""
        if tz and tz not in known_time_zones():
            report.rejected.append(
                RejectedRow(line, raw, f"Unknown time zone '{tz}' (use e.g. America/New_York).")
            )
            continue
        given_tz = tz
        if not tz:
            zones = time_zones_for_number(number)
            tz = zones[0] if len(zones) == 1 else ""
            if not zones:
                report.rejected.append(
                    RejectedRow(
                        line,
                        raw,
                        "No time zone given and none can be inferred from the number; add a timezone column.",
                    )
                )
                continue
        name = row.get(lower_fields["name"], "") if "name" in lower_fields else ""
        variables = {
            k: v for k, v in row.items() if k and k.lower() not in RESERVED_COLUMNS and k != "__extra__"
        }
        seen.add(number)
        updates = customer_changes(customer, name=name[:200], time_zone=given_tz) if customer else {}
        report.accepted.append(
            AcceptedRow(line, number, name[:200], tz, variables, customer is None, updates)
        )

    if not dry_run and report.accepted:
        _write(campaign=campaign, report=report, known=known)
    return report


def _write(*, campaign: Campaign, report: ImportReport, known: dict[str, Customer]) -> None:
    with transaction.atomic():
        for row in report.accepted:
            customer = known.get(row.number)
            if customer is None:
                customer, created = customer_get_or_create(
                    number=row.number, name=row.name, time_zone=row.time_zone
                )
                report.created_customers += int(created)
            elif row.customer_updates:
                customer_update(customer=customer, data=row.customer_updates)
                report.updated_customers += 1
            _, created = CampaignRecipient.objects.get_or_create(
                campaign=campaign,
                customer=customer,
                defaults={
                    "number": row.number,
                    "name": row.name or customer.name,
                    "time_zone": row.time_zone,
                    "variables": row.variables,
                },
            )
            report.created_recipients += int(created)
