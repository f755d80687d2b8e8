"""Chats (C-6), the messages list (C-7) and reactions (C-14)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from fabrikit.kernel.http import authenticated

from ..domain.service_api import ChatDetail, CreateChatBody, ReactionBody, ReactionView, UpdateChatBody
from .deps import Deps, security_of
from .errors import chat_id_of, child_id_of
from .params import CursorParam, FilterParam, LimitParam, OrderByParam, SelectParam, list_params
from .problems import problems

_JSON = ("application/json",)


def chat_handlers(deps: Deps) -> list[Any]:
    service = deps.service

    @post(
        "/chats",
        status_code=201,
        opt=authenticated("mini_chat.chats.create", validation_status=400, allowed_content_types=_JSON),
        responses=problems(400, 403, 503),
        summary="Create a chat",
    )
    async def create_chat(
        request: Request[Any, Any, Any], data: JSONBody[CreateChatBody]
    ) -> Response[ChatDetail]:
        chat = await service.create_chat(security_of(request), data)
        location = f"{request.url.path.rstrip('/')}/{chat.id}"
        return Response(chat, status_code=201, headers={"Location": location})

    @get(
        "/chats",
        opt=authenticated("mini_chat.chats.list", validation_status=400),
        responses=problems(400, 403, 422),
        summary="List chats",
    )
    async def list_chats(
        request: Request[Any, Any, Any],
        filter_: FilterParam = None,
        orderby: OrderByParam = None,
        cursor: CursorParam = None,
        limit: LimitParam = None,
        select: SelectParam = None,
    ) -> dict[str, Any]:
        page = await service.list_chats(
            security_of(request), list_params(filter_, orderby, cursor, limit, select)
        )
        return page.body()

    @get(
        "/chats/{chat_id:str}",
        opt=authenticated("mini_chat.chats.get"),
        responses=problems(403, 404),
        summary="Get a chat",
    )
    async def get_chat(request: Request[Any, Any, Any], chat_id: FromPath[str]) -> ChatDetail:
        return await service.get_chat(security_of(request), chat_id_of(chat_id))

    @patch(
        "/chats/{chat_id:str}",
        opt=authenticated("mini_chat.chats.update", validation_status=400, allowed_content_types=_JSON),
        responses=problems(400, 403, 404),
        summary="Rename a chat",
    )
    async def update_chat(
        request: Request[Any, Any, Any], chat_id: FromPath[str], data: JSONBody[UpdateChatBody]
    ) -> ChatDetail:
        return await service.update_chat(security_of(request), chat_id_of(chat_id), data)

    @delete(
        "/chats/{chat_id:str}",
        status_code=204,
        opt=authenticated("mini_chat.chats.delete"),
        responses=problems(403, 404),
        summary="Delete a chat",
    )
    async def delete_chat(request: Request[Any, Any, Any], chat_id: FromPath[str]) -> None:
        await service.delete_chat(security_of(request), chat_id_of(chat_id))

    @get(
        "/chats/{chat_id:str}/messages",
        opt=authenticated("mini_chat.messages.list", validation_status=400),
        responses=problems(400, 403, 404, 422),
        summary="List a chat's messages",
    )
    async def list_messages(
        request: Request[Any, Any, Any],
        chat_id: FromPath[str],
        filter_: FilterParam = None,
        orderby: OrderByParam = None,
        cursor: CursorParam = None,
        limit: LimitParam = None,
        select: SelectParam = None,
    ) -> dict[str, Any]:
        page = await service.list_messages(
            security_of(request), chat_id_of(chat_id), list_params(filter_, orderby, cursor, limit, select)
        )
        return page.body()

    @put(
        "/chats/{chat_id:str}/messages/{message_id:str}/reaction",
        opt=authenticated("mini_chat.reactions.set", validation_status=400, allowed_content_types=_JSON),
        responses=problems(400, 403, 404),
        summary="Like or dislike an assistant message",
    )
    async def put_reaction(
        request: Request[Any, Any, Any],
        chat_id: FromPath[str],
        message_id: FromPath[str],
        data: JSONBody[ReactionBody],
    ) -> ReactionView:
        return await service.put_reaction(
            security_of(request), chat_id_of(chat_id), child_id_of(message_id), data
        )

    @delete(
        "/chats/{chat_id:str}/messages/{message_id:str}/reaction",
        status_code=204,
        opt=authenticated("mini_chat.reactions.delete"),
        responses=problems(403, 404),
        summary="Remove the caller's reaction",
    )
    async def delete_reaction(
        request: Request[Any, Any, Any], chat_id: FromPath[str], message_id: FromPath[str]
    ) -> None:
        await service.delete_reaction(security_of(request), chat_id_of(chat_id), child_id_of(message_id))

    return [
        create_chat,
        list_chats,
        get_chat,
        update_chat,
        delete_chat,
        list_messages,
        put_reaction,
        delete_reaction,
    ]
