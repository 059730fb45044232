from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
def index() -> str:
    return "hello from monorepo-subdir"


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
