"""The aiohttp app and :class:`MockLlmServer` (M-1.3, M-3, M-8).

Disconnects (M-8.3) are detected by aiohttp's ``handler_cancellation``: when the client's socket closes,
the handler task is cancelled at whatever it awaits (a latency sleep, a stall, a hang, a write), so
generation stops at once and the record shows the events written so far.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
from aiohttp import BodyPartReader, web

from fabrikit.kernel.errors import DomainError

from .chat_stream import ChatEncoder
from .config import MockLlmConfig
from .directives import DirectiveError, Directives, extract_directives, parse_directive_list
from .errors import (
    ControlForbidden,
    InvalidApiKey,
    InvalidRequest,
    UnknownDirective,
    UnknownObject,
    UploadTooLarge,
    directive_error_body,
    error_body,
)
from .files import FileStore, UploadSink, UploadTooLargeError, VectorStore
from .plan import Api, BadRequest, ReplyPlan, last_user_text, plan_reply
from .recorder import MultipartPart, Record, Recorder, Script, ScriptEntry, ScriptRequest
from .responses_stream import ResponsesEncoder
from .scheduler import EventSink, run_stream

PORT_KEY = "modules.mock-llm.config.port"
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
UPLOAD_CHUNK = 64 * 1024
# Large enough for any chat context a test sends; uploads are streamed and bounded separately.
JSON_BODY_LIMIT = 64 * 1024 * 1024

Handler = Callable[[web.Request, Record], Awaitable[web.StreamResponse]]


class _Dropped(web.Response):
    """Returned after the handler closed the connection itself: nothing reaches the client."""


class PortInUseError(OSError):
    """The configured port is taken (M-1.1); the message names the config key."""


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body), status=status, content_type="application/json", headers=headers
    )


class MockLlmServer:
    """An OpenAI-compatible fake provider on loopback; ``async with MockLlmServer(config) as mock: ...``."""

    def __init__(self, config: MockLlmConfig | None = None) -> None:
        self.config = config or MockLlmConfig()
        self._recorder = Recorder(self.config.record_limit)
        self._script = Script()
        self._files = FileStore()
        self._default = parse_directive_list(self.config.default_directives)
        self._models = {name: parse_directive_list(text) for name, text in self.config.models.items()}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle --
    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self._build_app(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise PortInUseError(
                exc.errno,
                f"{PORT_KEY}: cannot listen on {self.config.host}:{self.config.port}: {exc.strerror}",
            ) from exc
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for task in list(self._tasks):
            task.cancel()
        await runner.cleanup()

    async def __aenter__(self) -> MockLlmServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("MockLlmServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port`` (no ``/v1``; OpenAI SDKs want :attr:`openai_base_url`)."""
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    # -- control (same semantics as /_mock/…) ----------------------------------------------------------------
    def requests(self, path_prefix: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return [msgspec.to_builtins(r) for r in self._recorder.items(path_prefix, limit)]

    def last_request(self) -> dict[str, Any] | None:
        record = self._recorder.last()
        return msgspec.to_builtins(record) if record else None

    def clear_requests(self) -> None:
        self._recorder.clear()

    def script(self, items: Sequence[ScriptEntry | dict[str, Any]]) -> None:
        """Queue script entries (M-8.2); dicts are validated like ``POST /_mock/script`` bodies."""
        entries = [
            item if isinstance(item, ScriptEntry) else msgspec.convert(item, ScriptEntry) for item in items
        ]
        self._script.extend(entries)

    def reset(self) -> None:
        self._recorder.reset()
        self._script.clear()
        self._files.clear()

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = msgspec.to_builtins(self._recorder.stats)
        return result

    def file_content(self, file_id: str) -> bytes | None:
        """The kept (≤ 1 MiB) content of an uploaded file."""
        stored = self._files.files.get(file_id)
        return stored.content if stored else None

    # -- app --
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=max(self.config.max_upload_bytes, JSON_BODY_LIMIT))
        add = app.router.add_route
        api = self._api
        for prefix in ("/v1", "/openai"):
            add("POST", f"{prefix}/responses", api(self._responses))
            add("POST", f"{prefix}/chat/completions", api(self._chat))
            add("POST", f"{prefix}/files", api(self._create_file))
            add("GET", f"{prefix}/files", api(self._list_files))
            add("GET", f"{prefix}/files/{{file_id}}", api(self._get_file))
            add("GET", f"{prefix}/files/{{file_id}}/content", api(self._file_content))
            add("DELETE", f"{prefix}/files/{{file_id}}", api(self._delete_file))
            add("POST", f"{prefix}/vector_stores", api(self._create_store))
            add("GET", f"{prefix}/vector_stores/{{vs_id}}", api(self._get_store))
            add("DELETE", f"{prefix}/vector_stores/{{vs_id}}", api(self._delete_store))
            add("POST", f"{prefix}/vector_stores/{{vs_id}}/files", api(self._add_store_file))
            add("GET", f"{prefix}/vector_stores/{{vs_id}}/files", api(self._list_store_files))
            add("GET", f"{prefix}/vector_stores/{{vs_id}}/files/{{file_id}}", api(self._get_store_file))
            add("DELETE", f"{prefix}/vector_stores/{{vs_id}}/files/{{file_id}}", api(self._delete_store_file))
            add("GET", f"{prefix}/models", api(self._models_list))
        add("POST", "/openai/deployments/{deployment}/responses", api(self._responses))
        add("POST", "/openai/deployments/{deployment}/chat/completions", api(self._chat))
        control = self._control
        add("GET", "/_mock/requests", control(self._ctl_requests))
        add("DELETE", "/_mock/requests", control(self._ctl_clear))
        add("GET", "/_mock/requests/last", control(self._ctl_last))
        add("POST", "/_mock/script", control(self._ctl_script))
        add("POST", "/_mock/reset", control(self._ctl_reset))
        add("GET", "/_mock/health", control(self._ctl_health))
        add("GET", "/_mock/stats", control(self._ctl_stats))
        add("*", "/{tail:.*}", api(self._unknown_path))
        return app

    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            record = self._recorder.new(
                received_at=time.time(),
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
            )
            try:
                self._check_request(request)
                response = await handler(request, record)
            except DomainError as exc:
                response = _json(error_body(exc), status=exc.status)
            except asyncio.CancelledError:
                self._mark_disconnected(record)
                raise
            finally:
                if task is not None:
                    self._tasks.discard(task)
            if record.outcome.status is None and not isinstance(response, _Dropped):
                record.outcome.status = response.status
            return response

        return wrapped

    def _check_request(self, request: web.Request) -> None:
        if request.path.startswith("/openai/") and "api-version" not in request.query:
            raise InvalidRequest("the api-version query parameter is required", param="api-version")
        expected = self.config.expected_api_key
        if expected is None:
            return
        given = request.headers.get("api-key")
        auth = request.headers.get("Authorization", "")
        if given is None and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        if given is None or not hmac.compare_digest(given.encode(), expected.reveal().encode()):
            raise InvalidApiKey("Incorrect API key provided.")

    def _mark_disconnected(self, record: Record) -> None:
        if not record.outcome.disconnected:
            record.outcome.disconnected = True
            self._recorder.stats.disconnects += 1

    def _control(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                if not _is_loopback(request.remote):
                    raise ControlForbidden("control endpoints answer loopback clients only")
                return await handler(request)
            except DomainError as exc:
                return _json(error_body(exc), status=exc.status)

        return wrapped

    # -- directives --
    def _directives(
        self,
        request: web.Request,
        record: Record,
        model: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> tuple[Directives, ScriptEntry | None]:
        directives = Directives().merged(self._default)
        if model is not None and model in self._models:
            directives = directives.merged(self._models[model])
        if message:
            directives = directives.merged(message)
        entry = self._script.take(request.method, request.path)
        if entry is not None:
            directives = directives.merged(parse_directive_list(entry.directives))
        record.directives = directives.to_builtins()
        if entry is not None and entry.text is not None:
            record.directives["text"] = entry.text
        return directives, entry

    async def _steer(
        self, request: web.Request, record: Record, directives: Directives
    ) -> web.Response | None:
        """Apply ``hang`` and ``error=STATUS``, shared by every endpoint; ``None`` means answer normally."""
        if directives.hang:
            await asyncio.sleep(self.config.hang_max_secs)
            return self._drop(request, record)
        if directives.error is not None:
            headers = {"Retry-After": "1"} if directives.error == 429 else None
            return _json(directive_error_body(directives.error), status=directives.error, headers=headers)
        return None

    def _drop(self, request: web.Request, record: Record) -> web.Response:
        """Close the connection without (finishing) an answer."""
        if request.transport is not None:
            request.transport.close()
        return _Dropped(status=204)

    # -- LLM endpoints --
    async def _responses(self, request: web.Request, record: Record) -> web.StreamResponse:
        return await self._llm(request, record, "responses")

    async def _chat(self, request: web.Request, record: Record) -> web.StreamResponse:
        return await self._llm(request, record, "chat")

    async def _llm(self, request: web.Request, record: Record, api: Api) -> web.StreamResponse:
        body = await self._read_json(request, record)
        deployment = request.match_info.get("deployment")
        if deployment and not body.get("model"):
            body["model"] = deployment
        try:
            user_text = last_user_text(api, body)
            reply_text, updates = extract_directives(user_text)
        except BadRequest as exc:
            raise InvalidRequest(str(exc), param=exc.param) from None
        except DirectiveError as exc:
            raise UnknownDirective(str(exc), param="input" if api == "responses" else "messages") from None
        directives, entry = self._directives(request, record, body["model"], updates)
        steered = await self._steer(request, record, directives)
        if steered is not None:
            return steered
        try:
            plan = plan_reply(
                api,
                body,
                directives,
                reply_text=reply_text,
                script_text=entry.text if entry else None,
                auto_tools=self.config.auto_tools,
                words_per_delta=self.config.words_per_delta,
                store_files=self._files.files_in_stores,
            )
        except BadRequest as exc:
            raise InvalidRequest(str(exc), param=exc.param) from None
        encoder = ResponsesEncoder(plan) if api == "responses" else ChatEncoder(plan)
        if body.get("stream") is True and not directives.non_sse:
            return await self._stream(request, record, plan, encoder)
        return await self._whole(request, record, plan, encoder)

    async def _whole(
        self, request: web.Request, record: Record, plan: ReplyPlan, encoder: ResponsesEncoder | ChatEncoder
    ) -> web.StreamResponse:
        interruption = plan.interruption()
        await asyncio.sleep((plan.directives.ttft + plan.directives.latency * plan.deltas) / 1000)
        if interruption is not None:
            kind, _ = interruption
            if kind == "fail":
                record.outcome.terminal = "failed"
                return _json(directive_error_body(500), status=500)
            if kind == "stall":
                await asyncio.sleep(self.config.hang_max_secs)
            return self._drop(request, record)
        body = encoder.final_response()
        record.outcome.terminal = body.get("status") or body["choices"][0]["finish_reason"]
        return _json(body)

    async def _stream(
        self, request: web.Request, record: Record, plan: ReplyPlan, encoder: ResponsesEncoder | ChatEncoder
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        start = loop.time()
        response = web.StreamResponse(status=200, headers=SSE_HEADERS)
        await response.prepare(request)
        record.outcome.status = 200
        stats = self._recorder.stats
        outcome = record.outcome

        def on_sent(count: int) -> None:
            outcome.events_sent += count
            stats.events_sent += count

        sink = EventSink(response.write, self.config.coalesce_bytes, on_sent)
        stats.open_streams += 1
        try:
            end = await run_stream(encoder, plan, sink, start=start, stall_secs=self.config.hang_max_secs)
        except ConnectionResetError:
            self._mark_disconnected(record)
            return response
        finally:
            stats.open_streams -= 1
        if end in ("closed", "failed"):
            outcome.terminal = encoder.terminal
            await response.write_eof()
            return response
        self._drop(request, record)
        return response

    async def _read_json(self, request: web.Request, record: Record) -> dict[str, Any]:
        raw = await request.read()
        record.body_bytes = len(raw)
        try:
            body = msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            raise InvalidRequest("the request body is not valid JSON") from None
        if len(raw) <= self.config.record_body_max_bytes:
            record.json = body
        else:
            record.json_truncated = True
        if not isinstance(body, dict):
            raise InvalidRequest("the request body must be a JSON object")
        return body

    # -- files --
    async def _create_file(self, request: web.Request, record: Record) -> web.StreamResponse:
        directives, _ = self._directives(request, record)
        steered = await self._steer(request, record, directives)
        if steered is not None:
            return steered
        if not request.content_type.startswith("multipart/"):
            raise InvalidRequest("expected a multipart/form-data body with 'file' and 'purpose'")
        reader = await request.multipart()
        parts: list[MultipartPart] = []
        record.multipart = parts
        upload: tuple[str, str, UploadSink] | None = None
        purpose: str | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise InvalidRequest("nested multipart bodies are not supported")
            sink = UploadSink(self.config.max_upload_bytes)
            try:
                while chunk := await part.read_chunk(UPLOAD_CHUNK):
                    sink.feed(chunk)
            except UploadTooLargeError as exc:
                raise UploadTooLarge(str(exc)) from None
            content_type = part.headers.get("Content-Type")
            parts.append(
                MultipartPart(
                    name=part.name,
                    filename=part.filename,
                    content_type=content_type,
                    size=sink.size,
                    sha256=sink.sha256,
                )
            )
            record.body_bytes += sink.size
            if part.name == "file":
                upload = (part.filename or "upload.bin", content_type or "application/octet-stream", sink)
            elif part.name == "purpose":
                purpose = sink.content.decode(errors="replace")
        if upload is None:
            raise InvalidRequest("missing required multipart field 'file'", param="file")
        if not purpose:
            raise InvalidRequest("missing required multipart field 'purpose'", param="purpose")
        filename, content_type, sink = upload
        return _json(self._files.add_file(filename, purpose, content_type, sink).to_api())

    async def _list_files(self, request: web.Request, record: Record) -> web.StreamResponse:
        return await self._simple(request, record, lambda: {"object": "list", "data": self._file_list()})

    def _file_list(self) -> list[dict[str, Any]]:
        return [stored.to_api() for stored in self._files.files.values()]

    async def _get_file(self, request: web.Request, record: Record) -> web.StreamResponse:
        return await self._simple(request, record, lambda: self._file(request).to_api())

    async def _file_content(self, request: web.Request, record: Record) -> web.StreamResponse:
        directives, _ = self._directives(request, record)
        steered = await self._steer(request, record, directives)
        if steered is not None:
            return steered
        stored = self._file(request)
        return web.Response(body=stored.content, content_type=stored.content_type)

    async def _delete_file(self, request: web.Request, record: Record) -> web.StreamResponse:
        def delete() -> dict[str, Any]:
            stored = self._file(request)
            del self._files.files[stored.id]
            return {"id": stored.id, "object": "file", "deleted": True}

        return await self._simple(request, record, delete)

    def _file(self, request: web.Request, file_id: str | None = None) -> Any:
        file_id = file_id or request.match_info["file_id"]
        stored = self._files.files.get(file_id)
        if stored is None:
            raise UnknownObject(f"No such File object: {file_id}", param="file_id")
        return stored

    async def _simple(
        self, request: web.Request, record: Record, answer: Callable[[], dict[str, Any]]
    ) -> web.StreamResponse:
        directives, _ = self._directives(request, record)
        steered = await self._steer(request, record, directives)
        return steered if steered is not None else _json(answer())

    # -- vector stores --
    def _store(self, request: web.Request) -> VectorStore:
        vs_id = request.match_info["vs_id"]
        store = self._files.stores.get(vs_id)
        if store is None:
            raise UnknownObject(f"No such vector store: {vs_id}", param="vector_store_id")
        return store

    async def _create_store(self, request: web.Request, record: Record) -> web.StreamResponse:
        body = await self._read_json(request, record) if request.can_read_body else {}
        directives, _ = self._directives(request, record)
        steered = await self._steer(request, record, directives)
        if steered is not None:
            return steered
        name, file_ids, metadata = body.get("name"), body.get("file_ids") or [], body.get("metadata")
        if name is not None and not isinstance(name, str):
            raise InvalidRequest("name must be a string", param="name")
        if not isinstance(file_ids, list) or not all(isinstance(f, str) for f in file_ids):
            raise InvalidRequest("file_ids must be an array of strings", param="file_ids")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidRequest("metadata must be an object", param="metadata")
        files = [self._file(request, file_id) for file_id in file_ids]
        store = self._files.create_store(name, metadata)
        status = directives.vs_file_status or "completed"
        for stored in files:
            self._files.add_to_store(store, stored, None, status)
        return _json(store.to_api())

    async def _get_store(self, request: web.Request, record: Record) -> web.StreamResponse:
        return await self._simple(request, record, lambda: self._store(request).to_api())

    async def _delete_store(self, request: web.Request, record: Record) -> web.StreamResponse:
        def delete() -> dict[str, Any]:
            store = self._store(request)
            del self._files.stores[store.id]
            return {"id": store.id, "object": "vector_store.deleted", "deleted": True}

        return await self._simple(request, record, delete)

    async def _add_store_file(self, request: web.Request, record: Record) -> web.StreamResponse:
        body = await self._read_json(request, record)
        directives, _ = self._directives(request, record)
        steered = await self._steer(request, record, directives)
        if steered is not None:
            return steered
        store = self._store(request)
        file_id, attributes = body.get("file_id"), body.get("attributes")
        if not isinstance(file_id, str):
            raise InvalidRequest("missing required parameter: 'file_id'", param="file_id")
        if attributes is not None and not isinstance(attributes, dict):
            raise InvalidRequest("attributes must be an object", param="attributes")
        stored = self._file(request, file_id)
        entry = self._files.add_to_store(store, stored, attributes, directives.vs_file_status or "completed")
        return _json(entry.to_api())

    async def _list_store_files(self, request: web.Request, record: Record) -> web.StreamResponse:
        def listing() -> dict[str, Any]:
            return {"object": "list", "data": [e.to_api() for e in self._store(request).files.values()]}

        return await self._simple(request, record, listing)

    async def _get_store_file(self, request: web.Request, record: Record) -> web.StreamResponse:
        return await self._simple(request, record, lambda: self._store_entry(request).to_api())

    async def _delete_store_file(self, request: web.Request, record: Record) -> web.StreamResponse:
        def delete() -> dict[str, Any]:
            entry = self._store_entry(request)
            del self._store(request).files[entry.id]
            return {"id": entry.id, "object": "vector_store.file.deleted", "deleted": True}

        return await self._simple(request, record, delete)

    def _store_entry(self, request: web.Request) -> Any:
        store = self._store(request)
        file_id = request.match_info["file_id"]
        entry = store.files.get(file_id)
        if entry is None:
            raise UnknownObject(f"No such file {file_id} in vector store {store.id}", param="file_id")
        return entry

    # -- misc --
    async def _models_list(self, request: web.Request, record: Record) -> web.StreamResponse:
        names = [*self.config.models, "mock"]
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "mock-llm"} for name in names]
        return await self._simple(request, record, lambda: {"object": "list", "data": data})

    async def _unknown_path(self, request: web.Request, record: Record) -> web.StreamResponse:
        raise UnknownObject(f"Unknown request URL: {request.method} {request.path}", param=None)

    # -- control endpoints --
    async def _ctl_requests(self, request: web.Request) -> web.StreamResponse:
        limit_text = request.query.get("limit")
        limit = None
        if limit_text:
            if not limit_text.isdigit() or int(limit_text) < 1:
                raise InvalidRequest("limit must be a positive integer", param="limit")
            limit = int(limit_text)
        return _json({"items": self.requests(request.query.get("path_prefix") or None, limit)})

    async def _ctl_last(self, request: web.Request) -> web.StreamResponse:
        last = self.last_request()
        if last is None:
            raise UnknownObject("no request recorded yet")
        return _json(last)

    async def _ctl_clear(self, request: web.Request) -> web.StreamResponse:
        self.clear_requests()
        return web.Response(status=204)

    async def _ctl_script(self, request: web.Request) -> web.StreamResponse:
        try:
            body = msgspec.json.decode(await request.read(), type=ScriptRequest)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise InvalidRequest(f"invalid script: {exc}") from None
        self._script.extend(body.items)
        return web.Response(status=204)

    async def _ctl_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.Response(status=204)

    async def _ctl_health(self, request: web.Request) -> web.StreamResponse:
        return _json({"status": "ok"})

    async def _ctl_stats(self, request: web.Request) -> web.StreamResponse:
        return _json(self.stats())


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False
