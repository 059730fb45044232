import os

from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    return web.Response(text="hello from aiohttp-pip\n")


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


app = web.Application()
app.add_routes(routes)


if __name__ == "__main__":
    web.run_app(app, port=int(os.environ.get("PORT", "8080")))
