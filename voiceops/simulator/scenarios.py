"""Caller scenarios and the outbound outcome mix, loaded from YAML/JSON files.

A scenario is a script of turns (``bot``, ``user``, ``tool``, ``transfer``, ``pause``, ``hangup``)
with ``{placeholders}``; see ``scenarios/README.md``. A tool turn carries argument
*hints*; the caller's words become arguments the way an LLM would fill them: the
assistant's tool schema decides which properties exist, and each property takes the
hint of the same name or, failing that, the hint its name points at (``date``,
``time``, ``start``, ``phone``...). So scenarios keep working whatever the tools
name their parameters, and a tool the assistant does not have is never called.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

JSON = dict[str, Any]
SCENARIO_DIR = Path(__file__).parent / "scenarios"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_:.\-]*)\}")
OUTCOMES = ("answered", "busy", "no-answer", "voicemail", "failed")
DEFAULT_ENDED_REASONS = {
    "busy": ["customer-busy"],
    "no-answer": ["customer-did-not-answer"],
    "voicemail": ["voicemail"],
    "failed": ["twilio-failed-to-connect-call"],
}


class ScenarioError(ValueError):
    """A scenario or mix file that cannot be used, with the reason."""


@dataclass
class Scenario:
    name: str
    description: str = ""
    turns: list[JSON] = field(default_factory=list)
    vars: JSON = field(default_factory=dict)
    analysis: JSON = field(default_factory=dict)
    ended_reason: str = "customer-ended-call"
    goal: str = ""
    analysis_failed: JSON = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: JSON, *, name: str = "") -> Scenario:
        if not isinstance(data, dict) or not isinstance(data.get("turns"), list) or not data["turns"]:
            raise ScenarioError(f"scenario {name or data!r} needs a non-empty 'turns' list")
        for index, turn in enumerate(data["turns"]):
            if not isinstance(turn, dict) or not (
                {"bot", "user", "tool", "transfer", "pause", "hangup"} & set(turn)
            ):
                raise ScenarioError(
                    f"scenario {name}: turn {index} must have bot, user, tool, pause or hangup"
                )
        return cls(
            name=str(data.get("name") or name),
            description=str(data.get("description", "")),
            turns=list(data["turns"]),
            vars=dict(data.get("vars") or {}),
            analysis=dict(data.get("analysis") or {}),
            ended_reason=str(data.get("endedReason") or "customer-ended-call"),
            goal=str(data.get("goal") or ""),
            analysis_failed=dict(data.get("analysisFailed") or {}),
        )


@dataclass
class OutcomeMix:
    """Weights of outbound outcomes, the ended reasons of each, and the callers of answered calls."""

    outcomes: dict[str, float]
    ended_reasons: dict[str, list[str]]
    callers: dict[str, float]
    caller_vars: dict[str, JSON] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: JSON) -> OutcomeMix:
        outcomes: dict[str, float] = {}
        reasons = {k: list(v) for k, v in DEFAULT_ENDED_REASONS.items()}
        for name, spec in (data.get("outcomes") or {"answered": 1}).items():
            if name not in OUTCOMES:
                raise ScenarioError(f"unknown outcome {name!r}; use one of {', '.join(OUTCOMES)}")
            spec = spec if isinstance(spec, dict) else {"weight": spec}
            outcomes[name] = float(spec.get("weight", 0))
            if spec.get("endedReasons"):
                reasons[name] = [str(r) for r in spec["endedReasons"]]
        callers: dict[str, float] = {}
        caller_vars: dict[str, JSON] = {}
        for name, spec in (data.get("callers") or {}).items():
            spec = spec if isinstance(spec, dict) else {"weight": spec}
            callers[name] = float(spec.get("weight", 1))
            caller_vars[name] = dict(spec.get("vars") or {})
        if not callers:
            raise ScenarioError("the mix needs at least one caller under 'callers'")
        if sum(outcomes.values()) <= 0:
            raise ScenarioError("the outcome weights must add up to more than 0")
        return cls(outcomes=outcomes, ended_reasons=reasons, callers=callers, caller_vars=caller_vars)

    def draw(self, rng: random.Random) -> tuple[str, str, str]:
        """(outcome, ended reason, caller scenario name) for one outbound call."""
        outcome = rng.choices(list(self.outcomes), weights=list(self.outcomes.values()))[0]
        caller = rng.choices(list(self.callers), weights=list(self.callers.values()))[0]
        reason = rng.choice(self.ended_reasons[outcome]) if outcome != "answered" else ""
        return outcome, reason, caller


def _read(path: Path) -> JSON:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}")
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top level")
    return data


def load_scenarios(directory: Path | None = None) -> dict[str, Scenario]:
    """Every ``*.yaml``/``*.json`` scenario file of the directory except the mix files."""
    found: dict[str, Scenario] = {}
    for path in sorted((directory or SCENARIO_DIR).glob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or path.stem.startswith("mix"):
            continue
        scenario = Scenario.from_dict(_read(path), name=path.stem)
        found[scenario.name] = scenario
    return found


def load_mix(name_or_path: str = "mix-default", directory: Path | None = None) -> OutcomeMix:
    """A mix by path, or by name from the scenario directory (then from the built-in one)."""
    path = Path(name_or_path)
    for folder in (directory, SCENARIO_DIR):
        if not path.exists() and folder is not None:
            path = folder / f"{name_or_path}.yaml"
    if not path.exists():
        raise ScenarioError(f"no outcome mix {name_or_path!r} (looked in {directory or SCENARIO_DIR})")
    return OutcomeMix.from_dict(_read(path))


def lookup(name: str, context: JSON, default: str) -> Any:
    """A placeholder's value; a ``var:`` the call did not set is empty (the caller says nothing)."""
    if name in context:
        return context[name]
    return "" if name.startswith("var:") else default


def render(value: Any, context: JSON) -> Any:
    """Fill ``{name}`` placeholders in strings (recursively); ``{var:x}`` reads variableValues."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole and not isinstance(context.get(whole.group(1)), str) and whole.group(1) in context:
            return context[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(lookup(m.group(1), context, m.group(0))), value)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def base_context(
    *,
    now: dt.datetime,
    rng: random.Random,
    customer: JSON,
    variables: JSON,
    assistant: JSON,
    scenario_vars: JSON,
) -> JSON:
    """Placeholders available to every turn of one call."""
    tomorrow = (now + dt.timedelta(days=1)).date()
    name = str(customer.get("name") or variables.get("customerName") or "")
    slot_minutes = rng.randrange(9 * 60, 17 * 60, 30)
    context: JSON = {
        "today": now.date().isoformat(),
        "tomorrow": tomorrow.isoformat(),
        "tomorrow_weekday": tomorrow.strftime("%A"),
        "slot": f"{slot_minutes // 60:02d}:{slot_minutes % 60:02d}",
        "caller_number": str(customer.get("number") or ""),
        "customer_name": name,
        "first_name": name.split(" ")[0] if name else "",
        "firstMessage": str(assistant.get("firstMessage") or "Hello, how can I help you today?"),
        "endCallMessage": str(assistant.get("endCallMessage") or "Thanks for calling. Goodbye!"),
        "voicemailMessage": str(
            assistant.get("voicemailMessage") or "Sorry we missed you; we will call back."
        ),
        "result": "",
    }
    for key, value in variables.items():
        context[f"var:{key}"] = value
    for key, value in scenario_vars.items():
        context[key] = render(value, context)
    return context


# Which hints a schema property may take when no hint has its exact name.
SYNONYMS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"zone|tz", re.I), ("time_zone", "timezone")),
    (re.compile(r"(start|datetime|date_time|_at$|when|slot)", re.I), ("starts_at", "datetime")),
    (re.compile(r"date|day", re.I), ("date",)),
    (re.compile(r"time|hour", re.I), ("time",)),
    (re.compile(r"phone|number|caller", re.I), ("phone", "caller_number")),
    (re.compile(r"resource|staff|provider|with", re.I), ("resource",)),
    (re.compile(r"name", re.I), ("name",)),
    (re.compile(r"customer", re.I), ("customer_id",)),
    (re.compile(r"reason|note|comment", re.I), ("reason", "notes")),
    (re.compile(r"confirm|code|appointment", re.I), ("confirmation_code",)),
    (re.compile(r"limit|count|max|num", re.I), ("count",)),
]


def fill_arguments(hints: JSON, parameters: JSON | None) -> JSON:
    """Arguments the model would send: schema properties filled from the caller's hints."""
    hints = {k: v for k, v in hints.items() if v not in ("", None)}
    properties = (parameters or {}).get("properties") if isinstance(parameters, dict) else None
    if not isinstance(properties, dict) or not properties:
        return dict(hints)
    arguments: JSON = {}
    for prop, schema in properties.items():
        value = hints.get(prop)
        if value is None:
            for pattern, candidates in SYNONYMS:
                if pattern.search(prop):  # the first pattern the name matches decides
                    value = next((hints[c] for c in candidates if c in hints), None)
                    break
        if value is None:
            continue
        kind = schema.get("type") if isinstance(schema, dict) else None
        if kind == "integer":
            try:
                value = int(value)
            except (TypeError, ValueError):
                continue
        elif kind == "string":
            value = str(value)
        arguments[prop] = value
    return arguments
