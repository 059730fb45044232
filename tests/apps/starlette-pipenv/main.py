from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("hello from starlette-pipenv\n")


async def health(request):
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/", index),
        Route("/health", health),
    ]
)
