"""DynamoDB's typed JSON, both ways, for what the stores write: text, whole numbers, flags, nulls, lists, maps,
and sets of text (a frozenset: the channels a delivery has reached).

The store encodes its writes and decodes its reads with it, and the notifier decodes the
stream's images with it, so a value reads back the same whichever way it arrives.
boto3.dynamodb.types does this for every type, but importing boto3 costs each cold start more
than these lines do; the client itself is botocore's (settings.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def to_attribute(value: Any) -> dict[str, Any]:
    """`value` as one typed attribute value: `2` is `{"N": "2"}`."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attribute(inner) for inner in value]}
    if isinstance(value, dict):
        return {"M": {name: to_attribute(inner) for name, inner in value.items()}}
    if isinstance(value, set | frozenset) and value and all(isinstance(inner, str) for inner in value):
        return {"SS": sorted(value)}
    raise TypeError(f"the store holds no {type(value).__name__}: {value!r}")


def from_attribute(attribute: dict[str, Any]) -> Any:
    """The plain value of one typed attribute value: `{"N": "2"}` is `2`."""
    [(kind, value)] = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "M":
        return {name: from_attribute(inner) for name, inner in value.items()}
    if kind == "L":
        return [from_attribute(inner) for inner in value]
    if kind == "NULL":
        return None
    if kind == "BOOL":
        return value
    if kind == "SS":
        return frozenset(value)
    raise TypeError(f"the store holds no DynamoDB {kind}")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A whole item (or a map of expression values) as DynamoDB JSON."""
    return {name: to_attribute(value) for name, value in values.items()}


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A whole item (a read, a refused write's old item, a stream image) as plain values; None stays None."""
    if item is None:
        return None
    return {name: from_attribute(attribute) for name, attribute in item.items()}
