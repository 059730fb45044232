from litestar import Litestar, get


@get("/")
async def index() -> str:
    return "hello from litestar-pyproject"


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[index, health])
