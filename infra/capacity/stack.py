"""What `make capacity` reads in a template: the orders table's keys and indexes, the stage's throttle,
which function serves each route, memory sizes, the stream's and the queues' event source mappings,
the topic's subscriptions. The template is read by infra/template.py (cfn-lint's decoder); this only
looks things up in the document, so that any template file can be read (`--template PATH`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.template import ORDERS_TABLE, TEMPLATE, template

ALL, KEYS_ONLY, INCLUDE = "ALL", "KEYS_ONLY", "INCLUDE"
_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Index:
    """A global secondary index: its key attributes (partition key first) and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    non_key: frozenset[str] = frozenset()  # INCLUDE's NonKeyAttributes

    @property
    def partition_key(self) -> str:
        return self.keys[0]

    def projects(self, attribute: str, table_keys: tuple[str, ...]) -> bool:
        """Whether an index entry holds `attribute` (its own keys and the table's always)."""
        if self.projection == ALL or attribute in self.keys or attribute in table_keys:
            return True
        return self.projection == INCLUDE and attribute in self.non_key

    def describe(self) -> str:
        projected = f"INCLUDE {len(self.non_key)} attributes" if self.projection == INCLUDE else self.projection
        return f"{self.name} ({' + '.join(self.keys)}, {projected})"


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]
    stream: str | None  # StreamViewType, None without a stream

    def index(self, name: str) -> Index:
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(name)


@dataclass(frozen=True)
class Throttle:
    rate: float
    burst: float
    where: str  # which MethodSettings entry


@dataclass(frozen=True)
class EventSource:
    """A Lambda event source mapping: the function it invokes, its batch size, and what it reads."""

    function: str
    batch_size: int
    parallelization: int
    source: str  # the queue's or the table's logical id


def _keys(schema: list[Mapping[str, str]]) -> tuple[str, ...]:
    ordered = sorted(schema, key=lambda key: key["KeyType"] != "HASH")
    return tuple(key["AttributeName"] for key in ordered)


def _logical_id(value: Any) -> str:
    """The logical id a !GetAtt or !Ref names ("DeliveryQueue.Arn", ["DeliveryQueue", "Arn"], {"Ref": ...})."""
    if isinstance(value, Mapping):
        [(_, argument)] = value.items()
        return _logical_id(argument)
    if isinstance(value, list):
        return str(value[0])
    return str(value).split(".", 1)[0]


@dataclass(frozen=True)
class Stack:
    """A template document, and where it was read from."""

    document: Mapping[str, Any]
    path: Path = TEMPLATE

    @classmethod
    def read(cls, path: Path = TEMPLATE) -> Stack:
        return cls(template(path.resolve()), path)

    def resources(self, kind: str) -> dict[str, Mapping[str, Any]]:
        return {name: body for name, body in self.document["Resources"].items() if body["Type"] == kind}

    def table(self, logical_id: str = ORDERS_TABLE) -> TableSpec:
        properties = self.document["Resources"][logical_id]["Properties"]
        indexes = tuple(
            Index(
                name=index["IndexName"],
                keys=_keys(index["KeySchema"]),
                projection=index["Projection"]["ProjectionType"],
                non_key=frozenset(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in properties.get("GlobalSecondaryIndexes", ())
        )
        stream = properties.get("StreamSpecification", {}).get("StreamViewType")
        return TableSpec(logical_id, _keys(properties["KeySchema"]), indexes, stream)

    def stage_throttle(self) -> Throttle | None:
        """The stage's throttle for every method (MethodSettings' "/*" "*" entry), if it sets one."""
        [(name, api)] = self.resources("AWS::Serverless::Api").items()
        for setting in api["Properties"].get("MethodSettings", ()):
            every_method = setting.get("ResourcePath") == "/*" and setting.get("HttpMethod") == "*"
            if every_method and "ThrottlingRateLimit" in setting:
                return Throttle(
                    float(setting["ThrottlingRateLimit"]),
                    float(setting.get("ThrottlingBurstLimit", 0)),
                    f"{name} MethodSettings /* *",
                )
        return None

    def other_throttles(self) -> list[str]:
        """MethodSettings entries for single methods, and usage plans: named, not modelled."""
        [(name, api)] = self.resources("AWS::Serverless::Api").items()
        found = [
            f"{name} MethodSettings {setting.get('HttpMethod')} {setting.get('ResourcePath')}"
            for setting in api["Properties"].get("MethodSettings", ())
            if (setting.get("ResourcePath"), setting.get("HttpMethod")) != ("/*", "*")
            and "ThrottlingRateLimit" in setting
        ]
        found += [f"usage plan {plan}" for plan in self.resources("AWS::ApiGateway::UsagePlan")]
        if api["Properties"].get("Auth", {}).get("UsagePlan"):
            found.append(f"{name} Auth.UsagePlan")
        return found

    def cors_max_age(self) -> str | None:
        [(_, api)] = self.resources("AWS::Serverless::Api").items()
        age = api["Properties"].get("Cors", {}).get("MaxAge")
        return str(age).strip("'") if age is not None else None

    def functions_by_route(self) -> dict[str, str]:
        """ "METHOD /path" -> the function's logical id, for every Api event."""
        return {
            f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}": name
            for name, function in self.resources("AWS::Serverless::Function").items()
            for event in function["Properties"].get("Events", {}).values()
            if event["Type"] == "Api"
        }

    def function_setting(self, function: str, name: str) -> Any:
        properties = self.document["Resources"][function]["Properties"]
        return properties.get(name, self.document.get("Globals", {}).get("Function", {}).get(name))

    def memory(self, function: str) -> int:
        return int(self.function_setting(function, "MemorySize") or 128)

    def _mappings(self, kind: str) -> list[EventSource]:
        return [
            EventSource(
                function=name,
                batch_size=int(event["Properties"].get("BatchSize", 100 if kind == "DynamoDB" else 10)),
                parallelization=int(event["Properties"].get("ParallelizationFactor", 1)),
                source=_logical_id(event["Properties"].get("Stream") or event["Properties"].get("Queue")),
            )
            for name, function in self.resources("AWS::Serverless::Function").items()
            for event in function["Properties"].get("Events", {}).values()
            if event["Type"] == kind
        ]

    def stream_mapping(self) -> EventSource:
        [mapping] = self._mappings("DynamoDB")
        return mapping

    def queue_mappings(self) -> dict[str, EventSource]:
        """Queue logical id -> the mapping of the function that reads it."""
        return {mapping.source: mapping for mapping in self._mappings("SQS")}

    def subscriptions(self) -> dict[str, frozenset[str] | None]:
        """Each queue subscribed to a topic -> the event types its filter policy lets through (None: all)."""
        found: dict[str, frozenset[str] | None] = {}
        for subscription in self.resources("AWS::SNS::Subscription").values():
            properties = subscription["Properties"]
            if properties.get("Protocol") != "sqs":
                continue
            types = properties.get("FilterPolicy", {}).get("event_type")
            found[_logical_id(properties["Endpoint"])] = frozenset(types) if types is not None else None
        return found

    def schedule_seconds(self, function: str) -> float:
        """Seconds between two runs of a function's Schedule event (a rate() expression)."""
        for event in self.document["Resources"][function]["Properties"].get("Events", {}).values():
            if event["Type"] == "Schedule":
                found = _RATE.fullmatch(event["Properties"]["Schedule"])
                if found:
                    return int(found["value"]) * _UNIT_SECONDS[found["unit"].rstrip("s")]
        raise KeyError(f"{function} has no rate() schedule")

    def parameter(self, name: str) -> str:
        return str(self.document.get("Parameters", {})[name].get("Default", ""))
