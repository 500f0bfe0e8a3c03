"""Rasa's Redis lock store with every change of a lock made atomically, so that several Rasa
replicas can share it. Configured in endpoints.yml (LOCK_STORE_TYPE)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose read-change-write steps are Redis transactions (WATCH/MULTI/EXEC).

    Rasa 3.6's RedisLockStore reads a conversation's lock, changes it and writes it back with
    separate commands. Two replicas can interleave there: a ticket one of them issued is lost
    when the other writes back its older copy (both then process the person's messages at once),
    or one deletes the lock just after the other queued a ticket, which then fails with "Could not
    acquire lock" and the message is not processed (RasaHQ/rasa#9213; Rasa's fix for it was
    reverted from Rasa Open Source). Here a step is retried when the lock changed meanwhile."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        # Rasa builds a lock store named by module path with the endpoint config only.
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(
        self, conversation_id: str, step: Callable[[TicketLock | None], tuple[TicketLock | None, T]]
    ) -> T:
        """Apply `step` to the stored lock atomically; it returns (the lock to store, or None to
        delete it; a result)."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> T:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            changed, result = step(lock)
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())
            return result

        result: T = self.red.transaction(transaction, key, value_from_callable=True)
        return result

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock | None, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # as RedisLockStore: the turn fails with a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def prune(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, prune)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give up the ticket, and delete the lock if no other ticket waits: in one step, so that
        a ticket queued meanwhile by another replica keeps its lock."""

        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish)
