"""Echoes WebSocket messages with its version, and keeps notes on the /data volume."""

import os
import socket
from pathlib import Path

from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect

VERSION = Path(__file__).with_name("version.txt").read_text().strip()
NOTES = Path(os.environ.get("NOTES_DIR", "/data/notes"))

app = FastAPI()


@app.get("/")
def index():
    return {"version": VERSION, "greeting": os.environ.get("GREETING", "hello"), "host": socket.gethostname()}


@app.put("/notes/{name}")
async def write_note(name: str, request: Request):
    NOTES.mkdir(parents=True, exist_ok=True)
    (NOTES / name).write_bytes(await request.body())
    return {"written": name}


@app.get("/notes/{name}")
def read_note(name: str):
    try:
        return Response((NOTES / name).read_bytes(), media_type="text/plain")
    except FileNotFoundError:
        return Response(status_code=404)


@app.websocket("/ws")
async def echo(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            await websocket.send_text(f"{VERSION}: {message}")
    except WebSocketDisconnect:
        pass
