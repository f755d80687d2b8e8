from .harness import AUTH, BASE, ChatServer


async def test_models_list(server: ChatServer) -> None:
    resp = await server.http.get(f"{BASE}/models", headers=AUTH)
    assert resp.status_code == 200, resp.text
    chat = await server.create_chat()
    stream = await server.send(chat["id"], "hello there")
    print(stream.names, stream.events[-1].data)
    assert stream.names[0] == "stream_started"
