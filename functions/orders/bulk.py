"""Many orders at once (docs/api.md §13): each order's single command, chosen from one batch read.

A bulk call reads its orders with one BatchGetItem per 100 ids (store.get_many), chooses each
order's command and looks up what it would do in the rules table (domain), and answers at once every
order that needs no write: absent or another seller's (404, indistinguishable), refused (409), or
"unchanged". The others get the single command's own write (store.apply, one conditional write), a
few at a time on a bounded pool of threads, inside the Lambda's remaining time: an order whose state
changed since the read is answered from the refused write's old item, as any race. So each result,
the events and the history are exactly the single command's.

A write that cannot be done in time (not started, or still in flight when the time is up) answers
NOT_DONE with a 503: sending the order again is safe, since every command is idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from orders import item, problems
from orders.domain import (
    Action,
    BulkAction,
    Caller,
    Details,
    Outcome,
    Refusal,
    State,
    Unchanged,
    bulk_action,
    planned_outcome,
)
from orders.dynamodb import StoreUnavailable
from orders.item import OrderItem
from orders.models import to_order
from orders.observability import logger
from orders.problems import ProblemAnswer
from orders.store import Applied, OrderNotFound, OrderStore, RefusalError

# Writes in flight at once: botocore's client keeps 10 connections (max_pool_connections), and a
# thread more than there are connections would only wait for one.
WRITERS = 10
# Time kept back from the Lambda's remaining time to build and send the answer (100 orders: ~0.1 s).
ANSWER_MARGIN_SECONDS = 1.0
# A write is not started with less time than this left: it could not be sure to finish.
WRITE_BUDGET_SECONDS = 0.5
# When the function is called without a context (tests of the pure parts): the template's timeout.
DEFAULT_SECONDS = 10.0

SUCCESS_STATUS = {
    Action.CANCEL: HTTPStatus.OK,
    Action.REQUEST_CANCELLATION: HTTPStatus.ACCEPTED,
    Action.APPROVE_CANCELLATION: HTTPStatus.OK,
    Action.REJECT_CANCELLATION: HTTPStatus.OK,
}


@dataclass(frozen=True)
class Command:
    """One order's single command: what to send, and what came with it."""

    order_id: str
    action: Action
    details: Details


@dataclass(frozen=True)
class Result:
    """One order's answer: the single command's status, with the order (as it stands) or the problem."""

    order_id: str
    status: HTTPStatus
    action: BulkAction
    order: OrderItem | None = None
    state: State | None = None
    problem: ProblemAnswer | None = None

    def body(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"order_id": self.order_id, "status": int(self.status), "action": self.action.value}
        if self.order is not None:
            shown["order"] = to_order(self.order, self.state).model_dump(mode="json")
        if self.problem is not None:
            shown["problem"] = self.problem.document.model_dump(mode="json", exclude_none=True)
        return shown


def deadline_of(context: Any) -> float:
    """The time.monotonic() by which the writes must be done: the Lambda's remaining time, less the margin."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining() / 1000 if callable(remaining) else DEFAULT_SECONDS
    return time.monotonic() + seconds - ANSWER_MARGIN_SECONDS


def run(
    store: OrderStore,
    caller: Caller,
    order_ids: Sequence[str],
    choose: Callable[[OrderItem], Command],
    *,
    deadline: float,
    dry_run: bool = False,
) -> list[Result]:
    """Each order's result, in the order of `order_ids`: one batch read, then the writes that are needed."""
    found = store.get_many(order_ids, deadline=deadline)
    results: dict[str, Result] = {}
    writes: list[tuple[Command, Outcome]] = []
    for order_id in order_ids:
        current = found.get(order_id)
        if current is None or not item.visible_to(current, caller):
            results[order_id] = not_found(order_id)
            continue
        command = choose(current)
        outcome = planned_outcome(item.state_of(current), command.action, item.growth_of(current))
        if dry_run or not _needs_write(outcome):
            results[order_id] = from_read(command, outcome, current)
        else:
            writes.append((command, outcome))
    results.update(write_all(store, caller, [command for command, _ in writes], deadline))
    return [results[order_id] for order_id in order_ids]


def _needs_write(outcome: Outcome) -> bool:
    return not isinstance(outcome, Refusal | Unchanged)


def not_found(order_id: str) -> Result:
    return Result(order_id, HTTPStatus.NOT_FOUND, BulkAction.NOT_FOUND, problem=problems.order_not_found(order_id))


def from_read(command: Command, outcome: Outcome, current: OrderItem) -> Result:
    """The answer the single command gives (or, for a change, would give) the order as it was read."""
    if isinstance(outcome, Refusal):
        problem = problems.refused(outcome, command.action, current)
        return Result(command.order_id, HTTPStatus.CONFLICT, BulkAction.REFUSED, problem=problem)
    status = SUCCESS_STATUS[command.action]
    return Result(command.order_id, status, bulk_action(outcome), order=current, state=item.state_of(current))


def write_all(store: OrderStore, caller: Caller, commands: list[Command], deadline: float) -> dict[str, Result]:
    """Each command's single write, WRITERS at a time; what is not done by `deadline` is NOT_DONE."""
    if not commands:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(WRITERS, len(commands)), thread_name_prefix="bulk-write")
    futures = {command.order_id: pool.submit(write_one, store, caller, command, deadline) for command in commands}
    wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
    # Nothing waits for a write still in flight: the answer goes now, and the write (if it lands) is a
    # change its single command would have made, which a repeat of the call answers UNCHANGED.
    pool.shutdown(wait=False, cancel_futures=True)
    return {order_id: _settled(order_id, future) for order_id, future in futures.items()}


def _settled(order_id: str, future: Future[Result]) -> Result:
    if not future.done() or future.cancelled():
        started = not future.cancelled()
        logger.warning("bulk write not done in time", extra={"order_id": order_id, "in_flight": started})
        return not_done(order_id, started)
    error = future.exception()
    if error is not None:
        # One order's unexpected failure is its own 500, never the whole call's.
        logger.exception("bulk write failed", exc_info=error, extra={"order_id": order_id})
        return Result(
            order_id, HTTPStatus.INTERNAL_SERVER_ERROR, BulkAction.NOT_DONE, problem=problems.internal_error()
        )
    return future.result()


def write_one(store: OrderStore, caller: Caller, command: Command, deadline: float) -> Result:
    """The single command's write and its answer: the order as written or as it stood, or the problem."""
    if time.monotonic() + WRITE_BUDGET_SECONDS > deadline:
        return not_done(command.order_id, started=False)
    try:
        applied: Applied = store.apply(command.order_id, command.action, caller, command.details)
    except OrderNotFound:
        return not_found(command.order_id)
    except RefusalError as refused:
        problem = problems.refused(refused.refusal, refused.action, refused.order)
        return Result(command.order_id, HTTPStatus.CONFLICT, BulkAction.REFUSED, problem=problem)
    except StoreUnavailable as error:
        logger.warning("bulk write throttled", extra={"order_id": command.order_id, "error": str(error)})
        return not_done(command.order_id, started=True)
    status = SUCCESS_STATUS[command.action]
    return Result(command.order_id, status, bulk_action(applied.outcome), order=applied.order, state=applied.state)


def not_done(order_id: str, started: bool) -> Result:
    """503 for one order: its command could not be completed; a repeat is safe (the commands are idempotent)."""
    detail = (
        f"The change to order {order_id} did not complete in time, and may or may not have been made. "
        if started
        else f"There was no time left to change order {order_id}; nothing was changed. "
    ) + "Send it again: a repeat is safe."
    answer = problems.problem(HTTPStatus.SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", detail, title="Not done in time")
    return Result(order_id, HTTPStatus.SERVICE_UNAVAILABLE, BulkAction.NOT_DONE, problem=answer)


def summary(results: Iterable[Result], names: Mapping[BulkAction, str]) -> dict[str, int]:
    """How many results took each action, under the summary's names (`names`: every action counted)."""
    counts = dict.fromkeys(names.values(), 0)
    for result in results:
        counts[names[result.action]] += 1
    return counts
