from flask import Flask, Response, request
from tasks import DONE_FILE, record

app = Flask(__name__)


@app.get("/")
def index():
    return "hello from celery-procfile\n"


@app.get("/enqueue")
def enqueue():
    name = request.args.get("name", "job")
    record.delay(name)
    return {"enqueued": name}, 202


@app.get("/done")
def done():
    try:
        text = DONE_FILE.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    return Response(text, mimetype="text/plain")
