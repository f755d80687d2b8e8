"""The shared deadline timer behind the timeout step (P-6.3 step 4)."""

from __future__ import annotations

import asyncio

import pytest

from fabrikit.modules.api_gateway.api.deadlines import Deadlines


async def _guarded(deadlines: Deadlines, at_in: float | None, work: float) -> str:
    loop = asyncio.get_running_loop()
    deadline = deadlines.watch(None if at_in is None else loop.time() + at_in)
    try:
        await asyncio.sleep(work)
        return "done"
    except asyncio.CancelledError:
        if deadline.cancelled_by_me():
            return "timed out"
        raise
    finally:
        deadline.release()


async def test_a_request_past_its_deadline_is_cancelled_within_the_resolution() -> None:
    deadlines = Deadlines(resolution=0.02)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _guarded(deadlines, 0.1, 5) == "timed out"
    assert 0.1 <= loop.time() - started < 0.1 + 0.02 + 0.05


async def test_requests_within_their_deadline_or_without_one_finish() -> None:
    deadlines = Deadlines(resolution=0.01)
    results = await asyncio.gather(_guarded(deadlines, 0.5, 0.05), _guarded(deadlines, None, 0.05))
    assert results == ["done", "done"]
    assert not deadlines._pending  # released: nothing left to watch, the ticker stops


async def test_moving_and_lifting_a_deadline() -> None:
    deadlines = Deadlines(resolution=0.01)
    loop = asyncio.get_running_loop()

    async def moved(to: float | None) -> str:
        deadline = deadlines.watch(loop.time() + 0.05)
        deadline.move(None if to is None else loop.time() + to)
        try:
            await asyncio.sleep(0.15)
            return "done"
        except asyncio.CancelledError:
            assert deadline.cancelled_by_me()
            return "timed out"
        finally:
            deadline.release()

    assert await moved(None) == "done"  # lifted (an operation with timeout_s=0)
    assert await moved(0.5) == "done"  # later
    assert await moved(0.02) == "timed out"  # earlier


async def test_a_released_request_is_never_cancelled() -> None:
    """The head went out: a stream outlives the deadline."""
    deadlines = Deadlines(resolution=0.01)
    loop = asyncio.get_running_loop()

    async def stream() -> str:
        deadline = deadlines.watch(loop.time() + 0.03)
        deadline.release()
        await asyncio.sleep(0.1)
        return "streamed"

    assert await stream() == "streamed"


async def test_a_cancellation_from_outside_is_not_taken_for_a_timeout() -> None:
    """A client that went away cancels the request task too: that cancellation must propagate."""
    deadlines = Deadlines(resolution=0.01)
    task = asyncio.create_task(_guarded(deadlines, 0.02, 5))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.06)
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_outside_cancellation_wins_over_an_expired_deadline() -> None:
    deadlines = Deadlines(resolution=60)  # the ticker never fires on its own here
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(_guarded(deadlines, 0.0, 5))
    await asyncio.sleep(0)  # the request is waiting
    deadlines._tick(loop)  # its deadline passed: cancelled by the deadline
    task.cancel()  # and by the client that went away, before the task ran again
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_ticker_restarts_after_going_idle() -> None:
    deadlines = Deadlines(resolution=0.01)
    assert await _guarded(deadlines, None, 0.03) == "done"
    await asyncio.sleep(0.03)  # the ticker found nothing to watch and stopped
    assert deadlines._ticker_loop is None
    assert await _guarded(deadlines, 0.02, 5) == "timed out"
