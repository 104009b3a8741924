"""moto's DynamoDB, patched for the tests and the local stack: atomic like DynamoDB, quick to answer, and no
request growing with the table.

- **Atomic.** DynamoDB evaluates a write's condition and applies the write as one atomic step per
  item. moto checks the condition, copies the item and writes it without a lock, so two threads can
  both pass the same condition (measured: 3 double winners in 100 races). Races are the point of
  this service, so each moto DynamoDB request runs under one lock: a coarser guarantee than
  DynamoDB's per-item one, never a weaker one. The stream's requests take the same lock: a read of the
  stream sees a transaction's records after it has written them all or put them all back, never between.
- **Quick to answer.** moto 5.2 turns every response into JSON by walking botocore's output shape
  member by member: 143 ms to serialise a Query of 20 orders (measured with cProfile), some
  ten times what finding them costs, and the largest cost of every listing in the test suite and
  in `make run`. The results that carry items (`DynamoResult`: GetItem, Query, Scan, the writes'
  returned attributes, the batch and transaction reads) are already plain DynamoDB JSON once moto
  has turned them into dicts, so they are written with `json.dumps`, exactly as the shape-walking
  serializer would write them (tests/integration/test_moto_dynamodb.py holds the two to the same bodies).
  A result `json.dumps` cannot write (bytes, say) takes moto's own way, and so does every error.
  The stream's GetRecords (every poll of the notifier's event source mapping) is written the same way,
  its record times as the serializer writes them (seconds since the epoch, to the millisecond).
- **Linear in the item.** moto's `DynamoType.to_regular_json` deep-copies a value and then each nested
  value again at every level below it, and its `size` of a map rebuilds every value below it: both grow
  with the square of an item's depth and size, and every read and write of an order calls them. The
  largest order (docs/api.md §15: 100 edits, 108 history entries) took 0.34 s a write in moto, most of a
  test's minute. The quick ones walk the value once and give the same answers (held to moto's own in
  tests/integration/test_moto_dynamodb.py, over generated values); `copy.deepcopy` of a value, which
  moto does at each write, keeps a member two lists share shared, as moto's own. An item's size limit is checked
  once as it is built, not once per attribute (the sum of n attributes' sizes n times over), and the
  update-expression validators find each node's processor without making their map again at each node.
  An index's projection of an item reads the attributes it keeps, once each; moto read the whole item
  again for each of them (the orders' indexes keep 15 to 17: every order of every page of a listing).
- **No request grows with the table.** moto keeps a deep copy of each table a TransactWriteItems names,
  to put back if the transaction fails: every split, channel and bulk write copied every order (or
  every notification) there was, slower the longer `make run` ran. It keeps copies of the items the
  transaction names, and where each table's stream ended, and puts those back instead: the same items
  and stream records after a failure, at the cost of the transaction's own items. One difference from
  moto's way, on purpose: the table and its stream stay the same objects. moto's copy came with a new
  stream, so an iterator taken before the failure (the local stack's stream poller keeps its own) went on
  reading the old one: it was handed the failed transaction's records, and never a later write.
"""

from __future__ import annotations

import base64
import calendar
import copy
import functools
import json
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

_lock = threading.RLock()
_installed = False
# moto's own ways, kept for the tests that hold the quick ones to them.
moto_execute_result: Any = None
moto_to_regular_json: Any = None
moto_size: Any = None
moto_deepcopy: Any = None
moto_item_init: Any = None
moto_update_parse: Any = None
moto_condition_lex: Any = None
moto_project: Any = None
moto_transact_write_items: Any = None
MOTO_ITEM_SIZE_LIMIT = 405_000  # moto's LimitedSizeDict: "between 409 and 410 KB", measured on DynamoDB


def patch_dynamodb() -> None:
    """Idempotent: every DynamoDB and DynamoDB Streams request moto serves runs under one re-entrant lock, and
    its item results are written as JSON directly."""
    global _installed, moto_execute_result
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.core.serialize import JSONSerializer
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    original_execute = moto_execute_result = DynamoResult.execute_result

    @functools.wraps(original_execute)
    def quick(self: ActionResult, context: Any) -> Any:
        if not issubclass(context.serializer_class, JSONSerializer):
            return original_execute(self, context)
        try:
            body = json.dumps(self.result, default=_epoch_seconds)
        except (TypeError, ValueError):
            return original_execute(self, context)
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        status = context.operation_model.http.get("responseCode", 200)
        return status, {"Content-Type": f"application/x-amz-json-{version}"}, body

    class QuickResult(ActionResult):  # type: ignore[misc] # moto's types are not followed (pyproject.toml)
        """A stream's GetRecords result, written as DynamoResult's are."""

    setattr(QuickResult, "execute_result", quick)  # noqa: B010 - the quick writer, as DynamoResult's
    original_records = DynamoDBStreamsHandler.get_records

    @functools.wraps(original_records)
    def records(self: DynamoDBStreamsHandler) -> ActionResult:
        return QuickResult(original_records(self).result)

    setattr(DynamoHandler, "call_action", _atomic(DynamoHandler.call_action))  # noqa: B010 - moto's class, on purpose
    setattr(DynamoDBStreamsHandler, "call_action", _atomic(DynamoDBStreamsHandler.call_action))  # noqa: B010 - likewise
    setattr(DynamoResult, "execute_result", quick)  # noqa: B010 - likewise
    setattr(DynamoDBStreamsHandler, "get_records", records)  # noqa: B010 - likewise
    _walk_items_once()
    _build_items_once()
    _find_each_nodes_processor_once()
    _parse_each_expression_once()
    _project_each_attribute_once()
    _roll_back_only_what_a_transaction_names()
    _installed = True


def _atomic(call_action: Callable[..., Any]) -> Callable[..., Any]:
    """A handler's `call_action`, run under the one lock."""

    @functools.wraps(call_action)
    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return call_action(self, *args, **kwargs)

    return atomic


def _walk_items_once() -> None:
    """moto's DynamoType read, sized and copied in one walk of the value (the module's third point).

    The walks keep their own stack instead of recursing: CPython 3.11 keeps frames in 16 KiB chunks that
    it maps and unmaps as the stack crosses a chunk's edge, and a recursion over an order's history that
    went back and forth across one made 1,700 mmap/munmap pairs a second (strace), slow in a process with
    threads (a pytest-xdist worker, the local stack): the largest order's test took 25 s there, 8 s alone.
    """
    global moto_to_regular_json, moto_size, moto_deepcopy
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize, number_size

    moto_to_regular_json, moto_size = DynamoType.to_regular_json, DynamoType.size
    moto_deepcopy = DynamoType.__deepcopy__

    def to_regular_json(self: DynamoType) -> dict[str, Any]:
        return cast("dict[str, Any]", _rebuilt(self, _plain))

    def deepcopy(self: DynamoType, memo: dict[int, Any] | None = None) -> DynamoType:
        return cast(DynamoType, _rebuilt(self, _copied, {} if memo is None else memo))

    def size(self: DynamoType) -> int:
        return _size(self, bytesize, number_size)

    setattr(DynamoType, "to_regular_json", to_regular_json)  # noqa: B010 - a patch of moto's class, on purpose
    setattr(DynamoType, "size", size)  # noqa: B010 - likewise
    setattr(DynamoType, "__deepcopy__", deepcopy)  # noqa: B010 - likewise


def _build_items_once() -> None:
    """moto checks an item against DynamoDB's size limit at each attribute it puts in, sizing again every
    attribute already there: an item of n attributes is sized n²/2 times as it is built, and moto builds one
    at every write. Sized once here, with the same answer: the running sum only grows as attributes go in,
    so it passes moto's limit at the last one or not at all."""
    global moto_item_init
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    moto_item_init = Item.__init__

    def __init__(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > MOTO_ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict(values)  # dict's own update: no check per attribute

    setattr(Item, "__init__", __init__)  # noqa: B010 - a patch of moto's class, on purpose


def _find_each_nodes_processor_once() -> None:
    """moto's update-expression validators make their map of node types to processors twice for each node of
    the expression they walk (ten walks a write); the map never changes: each validator makes it once."""
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    def processors(self: DepthFirstTraverser) -> dict[type, Callable[[Any], Any]]:
        found = self.__dict__.get("_processors")
        if found is None:
            found = self.__dict__["_processors"] = self._processing_map()
        return cast("dict[type, Callable[[Any], Any]]", found)

    def nodes_to_be_processed(self: DepthFirstTraverser) -> tuple[type, ...]:
        return tuple(processors(self))

    def process(self: DepthFirstTraverser, node: Any) -> Any:
        for kind, processor in processors(self).items():
            if isinstance(node, kind):
                return processor(node)
        return None

    setattr(DepthFirstTraverser, "nodes_to_be_processed", nodes_to_be_processed)  # noqa: B010 - moto's class
    setattr(DepthFirstTraverser, "process", process)  # noqa: B010 - likewise


def _parse_each_expression_once() -> None:
    """moto parses an update expression twice a write (once to list its names and values, once to apply it)
    and splits a condition into its words at every write, a regular expression tried at each word; our
    writes use a few dozen expressions, over and over. An update expression's tree is parsed once: moto only
    reads it and deep-copies it before its validators change anything. A condition's words are found once;
    each parse gets new nodes, as moto's own lexer makes them (a word, its kind, no children yet)."""
    global moto_update_parse, moto_condition_lex
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    moto_update_parse = UpdateExpressionParser.make
    moto_condition_lex = ConditionExpressionParser._lex_condition_expression
    parsed = functools.lru_cache(maxsize=_EXPRESSIONS)(moto_update_parse)

    @functools.lru_cache(maxsize=_EXPRESSIONS)
    def words(expression: str) -> tuple[tuple[str, str], ...]:
        lexed = moto_condition_lex(ConditionExpressionParser(expression, None, None))
        return tuple((node.nonterminal, node.text) for node in lexed)

    def lex(self: ConditionExpressionParser) -> deque[Any]:
        node, literal = self.Node, self.Kind.LITERAL
        return deque(
            node(nonterminal=kind, kind=literal, text=text, value=text, children=[])
            for kind, text in words(self.condition_expression or "")
        )

    setattr(UpdateExpressionParser, "make", staticmethod(parsed))  # noqa: B010 - a patch of moto's class, on purpose
    setattr(ConditionExpressionParser, "_lex_condition_expression", lex)  # noqa: B010 - likewise


def _project_each_attribute_once() -> None:
    """moto projects an item (an index's projection, a ProjectionExpression) by reading the whole item into
    plain values once per name it keeps, then taking that name's value. A projection of plain top-level names
    (what an index keeps: every query of the orders' indexes projects each item it returns) reads each kept
    attribute once instead, as moto reads it (to plain values and back), in the same order. Nested paths and
    list elements take moto's own way. (moto reads every attribute, kept or not: one it cannot read, a number
    of more than 38 digits that DynamoDB would have refused but moto stored, failed its projection, and fails
    this one only if kept.)"""
    global moto_project
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.dynamo_type import Item

    moto_project = Item.project

    def project(self: Item, projection_expressions: list[list[str]]) -> Item:
        names = [path[0] for path in projection_expressions if len(path) == 1 and "[" not in path[0]]
        if len(names) != len(projection_expressions):
            return cast(Item, moto_project(self, projection_expressions))
        kept = {
            name: dynamo_type.deserializer.deserialize(self.attrs[name].to_regular_json())
            for name in dict.fromkeys(names)
            if name in self.attrs
        }
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=dynamo_type.serializer.serialize(kept)["M"])

    setattr(Item, "project", project)  # noqa: B010 - a patch of moto's class, on purpose


def _roll_back_only_what_a_transaction_names() -> None:
    """moto's TransactWriteItems deep-copies each table it names before it writes, and puts the copies in the
    tables' places if any write fails. Here the copies are of what the writes can change: the items at the
    transaction's keys (or that there was none) and the length of each table's stream. moto's own copies of
    the tables are not made (its `copy.deepcopy` hands a table back as it is, within the transaction only);
    moto's code runs as it is otherwise. A transaction whose keys cannot be read (a malformed request, which
    moto refuses in its own way) takes moto's way, copies and all."""
    global moto_transact_write_items
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    moto_transact_write_items = DynamoDBBackend.transact_write_items
    by_reference = threading.local()

    class _Copy:
        """The `copy` module as moto's DynamoDB backend sees it: a table is not copied inside a transaction."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            if isinstance(value, Table) and getattr(by_reference, "tables", False):
                return value
            return copy.deepcopy(value, memo)

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        try:
            restore = _what_a_transaction_can_change(self, transact_items)
        except Exception:  # noqa: BLE001 - a key moto cannot read either: moto's way, which refuses it
            moto_transact_write_items(self, transact_items)
            return
        by_reference.tables = True
        try:
            moto_transact_write_items(self, transact_items)
        except BaseException:
            restore()
            raise
        finally:
            by_reference.tables = False

    setattr(models, "copy", _Copy())  # noqa: B010 - the backend module's `copy`, on purpose
    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010 - moto's class


def _what_a_transaction_can_change(backend: Any, transact_items: list[dict[str, Any]]) -> Callable[[], None]:
    """Copies of the items a transaction names and the length of each named table's stream, and the function
    that puts them back. Raises if an item's key cannot be read, as moto would."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[Callable[[], None]] = []
    streams: dict[int, tuple[Any, list[Any], int]] = {}
    for entry in transact_items:
        [(kind, operation)] = entry.items()
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            continue  # moto refuses the transaction without writing
        key = operation["Item"] if kind == "Put" else operation["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        saved.append(_item_restorer(table, hash_key, range_key))
        shard = table.stream_shard
        if shard is not None and id(shard) not in streams:
            streams[id(shard)] = (shard, shard.items, len(shard.items))

    def restore() -> None:
        for put_back in saved:
            put_back()
        for shard, records, length in streams.values():
            del records[length:]
            shard.items = records

    return restore


def _item_restorer(table: Any, hash_key: Any, range_key: Any) -> Callable[[], None]:
    """What puts a copy of the item at one key as it is now back there (or takes away what was written
    there, if nothing is now), once."""
    items = table.items
    if range_key is None:
        was = copy.deepcopy(items[hash_key]) if hash_key in items else None

        def put_back() -> None:
            if was is None:
                items.pop(hash_key, None)
            else:
                items[hash_key] = was

        return put_back
    had_hash = hash_key in items
    was = copy.deepcopy(items[hash_key][range_key]) if had_hash and range_key in items[hash_key] else None

    def put_back_ranged() -> None:
        if not had_hash:
            items.pop(hash_key, None)  # moto's reads at a new key leave an empty entry; the copy had none
        elif was is None:
            items[hash_key].pop(range_key, None)
        else:
            items[hash_key][range_key] = was

    return put_back_ranged


# The expressions each parse is kept for, the most recently used: the store and the notifier use some
# forty; a test that makes up expressions (generated names, say) only pushes the oldest out.
_EXPRESSIONS = 1024


def _size(value: Any, bytesize: Callable[[Any], int], number_size: Callable[[str], int]) -> int:
    """An attribute value's size in DynamoDB's reckoning, as moto's `DynamoType.size` counts it (with its
    `bytesize` and `number_size`)."""
    node, total, pending = type(value), 0, [value]
    while pending:
        value = pending.pop()
        if type(value) is not node:
            value = node(value)
        kind, inner = value.type, value.value
        if kind == "N":
            total += number_size(str(inner))
        elif kind in ("SS", "NS", "BS"):
            pending.extend(node({kind[0]: member}) for member in inner)
        elif kind == "L":
            pending.extend(inner)
        elif kind == "M":
            total += sum(bytesize(key) for key in inner)
            pending.extend(inner.values())
        else:
            total += 1 if isinstance(inner, bool) else bytesize(inner)
    return total


def _plain(value: Any) -> tuple[Any, Any]:
    """A DynamoType's plain DynamoDB JSON, its members to come (moto's `to_regular_json`, a node at a time)."""
    inner = value.value
    if isinstance(inner, dict | list):
        members = dict.fromkeys(inner) if isinstance(inner, dict) else [None] * len(inner)
        return {value.type: members}, members
    if value.is_binary() and isinstance(inner, str):
        inner = base64.b64decode(inner)
    return {value.type: inner}, None


def _copied(value: Any) -> tuple[Any, Any]:
    """A DynamoType's copy, its members to come (moto's `__deepcopy__`, a node at a time)."""
    result = object.__new__(type(value))
    result.type, inner = value.type, value.value
    if value.is_list() or value.is_map():
        result.value = dict.fromkeys(inner) if value.is_map() else [None] * len(inner)
        return result, result.value
    result.value = list(inner) if value.is_set() else inner
    return result, None


def _rebuilt(tree: Any, rebuild: Callable[[Any], tuple[Any, Any]], memo: dict[int, Any] | None = None) -> Any:
    """`tree` rebuilt without recursion: `rebuild(node)` gives a node's new form and the empty dict (its keys
    in order) or list its members go into, or None; whatever in the tree is not a node (a DynamoType, or
    the tree's own type) is deep-copied. With a `memo`, a node met twice is rebuilt once, as
    `copy.deepcopy` keeps it: moto's `list_append` leaves one member in two lists."""
    node_type, root = type(tree), cast("dict[str, Any]", {})
    pending: list[tuple[Any, Any, Any]] = [(root, "tree", tree)]
    while pending:
        into, at, value = pending.pop()
        if not isinstance(value, node_type):
            into[at] = copy.deepcopy(value, memo)
            continue
        if memo is not None and id(value) in memo:
            into[at] = memo[id(value)]
            continue
        into[at], members = rebuild(value)
        if memo is not None:
            memo[id(value)] = into[at]
        if isinstance(members, dict):
            pending.extend((members, key, member) for key, member in value.value.items())
        elif members is not None:
            pending.extend((members, index, member) for index, member in enumerate(value.value))
    return root["tree"]


def _epoch_seconds(value: Any) -> int | float:
    """A time as moto's JSON serializer writes one: seconds since the epoch, truncated to the millisecond."""
    if not isinstance(value, datetime):
        raise TypeError(f"no JSON for {type(value).__name__}")
    seconds = calendar.timegm(value.utctimetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
