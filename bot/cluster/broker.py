"""Rasa's Pika event broker, made to survive RabbitMQ outages without losing events.

Configured in ``deploy/endpoints.cluster.yml``::

    event_broker:
      type: bot.cluster.broker.ReliablePikaEventBroker
      url: 127.0.0.1
      port: 5672
      username: guest
      password: guest
      exchange_name: ehuzheng-events
      queues: [ehuzheng_console_events]

Same exchange, queues and message format as :class:`rasa.core.brokers.pika.PikaEventBroker`
(a durable fanout exchange, durable queues, persistent JSON messages), with three changes:

- start-up never waits for RabbitMQ and never gives up: a replica serves chats at once and
  connects (again) in the background, retrying with back-off for as long as it takes;
- ``publish`` only appends to an in-memory buffer; one pump task sends the buffer in order,
  in pipelined batches, and drops an event only after RabbitMQ confirmed it (publisher
  confirms). After an outage the buffer is sent again; an event whose confirm was lost may
  arrive twice, which the consumer ignores (each carries its ``tracker_event_id``);
- on shutdown the buffer is flushed (bounded by ``close_timeout``).

The buffer is bounded (``max_buffered`` events); beyond it the oldest events are dropped with
an error in the log. The console reconciles against the tracker store after an outage, so
even those are not lost for it.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import AbstractEventLoop
from collections import deque
from typing import Any

import aio_pika
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.cluster.amqp import quiet_amqp_errors

logger = logging.getLogger(__name__)

BATCH = 200


class ReliablePikaEventBroker(PikaEventBroker):
    """A :class:`PikaEventBroker` that buffers, retries and confirms (see module docs).

    Args:
        host: RabbitMQ host (or an ``amqp://`` URL).
        username: RabbitMQ user.
        password: its password.
        max_buffered: most events kept while RabbitMQ is unreachable.
        max_backoff: longest pause between two connection attempts (seconds).
        close_timeout: how long shutdown waits for the buffer to drain (seconds).
        **kwargs: ``port``, ``queues``, ``exchange_name`` … as for Rasa's broker.
    """

    def __init__(
        self,
        host: str,
        username: str,
        password: str,
        max_buffered: int = 100_000,
        max_backoff: float = 5.0,
        close_timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        """Create the broker (nothing connects until the pump starts)."""
        kwargs.pop("should_keep_unpublished_messages", None)
        super().__init__(host, username, password, **kwargs)
        self.max_buffered = int(max_buffered)
        self.max_backoff = float(max_backoff)
        self.close_timeout = float(close_timeout)
        self._buffer: deque[dict[str, Any]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._plain_connection: aio_pika.abc.AbstractConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self.confirm_timeout = 10.0
        self.dropped = 0
        self.published = 0

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig | None,
        event_loop: AbstractEventLoop | None = None,
    ) -> ReliablePikaEventBroker | None:
        """Create the broker and start its pump (returns at once, even if RabbitMQ is down)."""
        if broker_config is None:
            return None
        broker = cls(broker_config.url, **broker_config.kwargs)
        broker.start()
        return broker

    def start(self) -> None:
        """Start the pump task on the running event loop."""
        self._loop = asyncio.get_running_loop()
        quiet_amqp_errors(self._loop)
        self._wakeup = asyncio.Event()
        self._pump_task = self._loop.create_task(self._pump())

    @property
    def buffered(self) -> int:
        """Events waiting for RabbitMQ's confirm."""
        return len(self._buffer)

    def is_ready(self) -> bool:
        """Whether a connection to RabbitMQ is open right now."""
        # aio_pika's Connection.is_closed stays False when the server goes away; the
        # channel's does not.
        channel = self._channel
        return channel is not None and not channel.is_closed

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Queue ``event`` for publishing (never blocks, never raises; any thread)."""
        loop = self._loop
        if self._wakeup is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                # From the tracker store's worker thread: hand over to the broker's loop
                # (call_soon_threadsafe keeps the order).
                loop.call_soon_threadsafe(self._append, event)
                return
        self._append(event)

    def _append(self, event: dict[str, Any]) -> None:
        if len(self._buffer) >= self.max_buffered:
            self._buffer.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.error(
                    "event broker: buffer full (%d events), dropped %d oldest so far",
                    self.max_buffered,
                    self.dropped,
                )
        self._buffer.append(event)
        if self._wakeup is not None:
            self._wakeup.set()

    async def _open(self) -> None:
        self._plain_connection = await aio_pika.connect(
            url=self._configure_url(),
            host=self.host,
            port=self.port,
            login=self.username,
            password=self.password,
            timeout=5,
        )
        channel = await self._plain_connection.channel(publisher_confirms=True)
        self._exchange = await self._set_up_exchange(channel)  # type: ignore[arg-type]
        self._channel = channel
        logger.info("event broker: connected to RabbitMQ at %s:%s", self.host, self.port)

    async def _discard_connection(self) -> None:
        conn, self._plain_connection, self._exchange = self._plain_connection, None, None
        self._channel = None
        if conn is not None and not conn.is_closed:
            try:
                await asyncio.wait_for(conn.close(), timeout=2)
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    async def _send_batch(self) -> None:
        batch = [self._buffer[i] for i in range(min(BATCH, len(self._buffer)))]
        exchange = self._exchange
        assert exchange is not None
        sends = asyncio.gather(
            *(exchange.publish(self._message(e, None), "") for e in batch),
            return_exceptions=True,
        )
        # Confirms pending when the connection dies are never resolved: watch the channel.
        deadline = asyncio.get_running_loop().time() + self.confirm_timeout
        while not sends.done():
            await asyncio.wait({sends}, timeout=0.2)
            channel_gone = self._channel is None or self._channel.is_closed
            if not sends.done() and (channel_gone or asyncio.get_running_loop().time() > deadline):
                sends.cancel()
                raise ConnectionError("RabbitMQ did not confirm (connection lost or timeout)")
        results = sends.result()
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]
        # Only now are they RabbitMQ's: drop exactly those (publish() only appends).
        for _ in batch:
            self._buffer.popleft()
        self.published += len(batch)

    async def _pump(self) -> None:
        assert self._wakeup is not None
        delay = 0.5
        outage_logged = False
        while True:
            try:
                if not self.is_ready():
                    await self._discard_connection()
                    await self._open()
                    if outage_logged:
                        logger.warning(
                            "event broker: RabbitMQ is back; sending %d buffered events",
                            len(self._buffer),
                        )
                    delay, outage_logged = 0.5, False
                while self._buffer:
                    await self._send_batch()
                self._wakeup.clear()
                if not self._buffer:
                    await self._wakeup.wait()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - RabbitMQ away: keep the events, retry
                if not outage_logged:
                    logger.error(
                        "event broker: RabbitMQ unreachable (%s); buffering events and retrying",
                        type(err).__name__,
                    )
                    outage_logged = True
                await self._discard_connection()
                await asyncio.sleep(delay)
                delay = min(self.max_backoff, delay * 2)

    async def flush(self, timeout: float) -> bool:
        """Wait until every buffered event is confirmed, at most ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._buffer and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return not self._buffer

    async def close(self) -> None:
        """Flush what is buffered (bounded), stop the pump, close the connection."""
        if self._pump_task is not None:
            if not await self.flush(self.close_timeout):
                logger.error(
                    "event broker: %d events not confirmed by RabbitMQ at shutdown",
                    len(self._buffer),
                )
            self._pump_task.cancel()
            try:
                await self._pump_task
            except asyncio.CancelledError:
                pass
            self._pump_task = None
        await self._discard_connection()
