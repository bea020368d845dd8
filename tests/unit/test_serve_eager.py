"""livewidget.serve.eager: a coroutine run at once, finished in a task only if it must wait."""

from __future__ import annotations

import asyncio

import pytest

from livewidget.serve import eager


async def add(log: list[str], item: str) -> str:
    log.append(item)
    return item


async def wait_then_add(log: list[str], future: asyncio.Future[str]) -> str:
    log.append("before")
    value = await future
    log.append(value)
    return value.upper()


def test_a_coroutine_that_does_not_wait_has_run_when_start_returns() -> None:
    log: list[str] = []

    async def main() -> None:
        assert eager.start(add(log, "sent")) is None
        assert log == ["sent"]  # on the caller's stack, before any other task ran

    asyncio.run(main())


def test_what_a_coroutine_raises_before_it_waits_is_raised_by_start() -> None:
    async def fails() -> None:
        raise ConnectionResetError("the page went")

    async def main() -> None:
        with pytest.raises(ConnectionResetError, match="the page went"):
            eager.start(fails())

    asyncio.run(main())


def test_a_coroutine_that_waits_is_finished_by_a_task_with_the_futures_result() -> None:
    log: list[str] = []

    async def main() -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        rest = eager.start(wait_then_add(log, future))
        assert rest is not None
        assert log == ["before"]
        task = asyncio.get_running_loop().create_task(rest)
        await asyncio.sleep(0)
        future.set_result("written")
        return await task

    assert asyncio.run(main()) == "WRITTEN"
    assert log == ["before", "written"]


def test_a_coroutine_that_yields_to_the_loop_goes_on_after_other_callbacks() -> None:
    log: list[str] = []

    async def polite() -> int:
        log.append("first")
        await asyncio.sleep(0)
        log.append("third")
        return 3

    async def main() -> int:
        rest = eager.start(polite())
        assert rest is not None
        asyncio.get_running_loop().call_soon(log.append, "second")
        return await asyncio.get_running_loop().create_task(rest)

    assert asyncio.run(main()) == 3
    assert log == ["first", "second", "third"]


def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    log: list[str] = []

    async def waits_forever() -> None:
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            log.append("cancelled inside")
            raise

    async def main() -> None:
        rest = eager.start(waits_forever())
        assert rest is not None
        task = asyncio.get_running_loop().create_task(rest)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert log == ["cancelled inside"]


def test_an_error_after_the_wait_reaches_the_task() -> None:
    async def fails_later(future: asyncio.Future[None]) -> None:
        await future
        raise BrokenPipeError("gone meanwhile")

    async def main() -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        rest = eager.start(fails_later(future))
        assert rest is not None
        task = asyncio.get_running_loop().create_task(rest)
        future.set_result(None)
        with pytest.raises(BrokenPipeError, match="gone meanwhile"):
            await task

    asyncio.run(main())
