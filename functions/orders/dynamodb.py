"""What both rooms of the package (the orders and the sellers' notifications) use from DynamoDB.

- `call`: one request, with throttling that outlasted the SDK's retries turned into `StoreUnavailable`
  (a 503), and `refused_item`: the old item a failed condition hands back.
- Times as the tables store them (`now`, `timestamp`): ISO 8601 in UTC with microseconds, so that
  strings sort as times.
- DynamoDB's typed JSON, both ways (`to_item`, `from_item`): text, whole numbers, flags, nulls,
  lists, maps and sets of text. boto3.dynamodb.types does this for every type, but importing boto3
  costs each cold start more than these lines do; the client itself is botocore's (settings.py).
- `Table`: a table of the service, its name and client read from settings when first used.
- Page tokens (`encode_page_token`, `decode_page_token`): the opaque `next_token` of every listing,
  base64url of the last item's position as JSON, checked field by field when it comes back.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)

Item = dict[str, Any]
Result = TypeVar("Result")


class StoreUnavailable(Exception):
    """DynamoDB kept throttling after the SDK's retries; nothing was written."""


class InvalidPageToken(ValueError):
    """A `next_token` this API did not issue."""


class Table:
    """One of the service's tables. Its name and client come from settings when used (unless given), so that
    `settings.reset()` reaches a store made before it; subclasses name the setting that holds the name."""

    def __init__(self, table_name: str | None = None, client: DynamoDBClient | None = None):
        self._table_name = table_name
        self._client = client

    def _configured_name(self) -> str:
        raise NotImplementedError

    @property
    def table_name(self) -> str:
        return self._table_name or self._configured_name()

    @property
    def client(self) -> DynamoDBClient:
        from orders.settings import dynamodb

        return self._client or dynamodb()


def call(operation: Callable[..., Result], **kwargs: Any) -> Result:
    """One DynamoDB request; throttling that outlasted the SDK's retries is StoreUnavailable (a 503)."""
    try:
        return operation(**kwargs)
    except ClientError as error:
        if error_code(error) in THROTTLING_CODES:
            raise StoreUnavailable(str(error)) from error
        raise


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def refused_item(error: ClientError) -> Item | None:
    """The item a failed condition found (None: there was none); any other error goes on up."""
    if error_code(error) != "ConditionalCheckFailedException":
        raise error
    old = error.response.get("Item")
    return from_item(old) if isinstance(old, Mapping) else None


# -- times -------------------------------------------------------------------------------------


def now() -> str:
    return timestamp(datetime.now(UTC))


def timestamp(moment: datetime) -> str:
    """The stored form of a time: ISO 8601 in UTC with microseconds, so that strings sort as times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def seconds_after(at: str, seconds: float) -> str:
    return timestamp(datetime.fromisoformat(at.replace("Z", "+00:00")) + timedelta(seconds=seconds))


# The stored form of a time, as `timestamp` writes it.
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z", re.ASCII)


# -- typed JSON --------------------------------------------------------------------------------


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


def from_attribute(attribute: Mapping[str, Any]) -> Any:
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


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item (or a map of expression values) as DynamoDB JSON."""
    return {name: to_attribute(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any] | None) -> Item | None:
    """A whole item (a read, a refused write's old item, a stream image) as plain values; None stays None."""
    if item is None:
        return None
    return {name: from_attribute(attribute) for name, attribute in item.items()}


def from_items(items: list[dict[str, Any]]) -> list[Item]:
    """A page of items (a Query's, a batch's) as plain values."""
    return [{name: from_attribute(attribute) for name, attribute in item.items()} for item in items]


# -- page tokens -------------------------------------------------------------------------------


def encode_page_token(position: Mapping[str, str]) -> str:
    """The opaque token of a position in a listing: base64url (unpadded) of its JSON."""
    text = json.dumps(dict(position), separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_page_token(token: str, fields: Mapping[str, re.Pattern[str]]) -> dict[str, str]:
    """The position a token names, each of `fields` present and matching its pattern; InvalidPageToken otherwise.

    A token this API issued always passes; anything else (not base64, not JSON, a field missing,
    empty or of another shape) is refused before it reaches DynamoDB as an ExclusiveStartKey.
    """
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, RecursionError) as error:
        raise InvalidPageToken("next_token is not a token this API issued") from error
    if not isinstance(position, dict) or position.keys() != fields.keys():
        raise InvalidPageToken("next_token is not a token this API issued")
    for name, pattern in fields.items():
        value = position[name]
        if not (isinstance(value, str) and pattern.fullmatch(value)):
            raise InvalidPageToken("next_token is not a token this API issued")
    return position
