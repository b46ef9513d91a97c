"""A FastAPI app run as a Lambda function through Mangum, the way AWS users deploy one.

``handler`` serves an API's ``$default`` stage. On a named stage API Gateway keeps the stage in
the path it sends (``/prod/items/7``) and Mangum hands that path to the app unchanged, so every
route would answer 404; Mangum's ``api_gateway_base_path`` strips it, and is what users serving
a named stage set. Hence ``prod_handler``, for a stage named ``prod``.

The module ends as it would on AWS: Mangum runs the app on the calling thread's event loop,
which Lambda's runtime thread has, and so has every thread Propylon calls a handler on.
"""

from fastapi import FastAPI, HTTPException, Response
from mangum import Mangum
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float


@app.get("/items/{item_id}")
def read_item(item_id: int, q: str | None = None) -> dict[str, int | str | None]:
    return {"item_id": item_id, "q": q}


@app.post("/items", status_code=201)
def create_item(item: Item, response: Response) -> Item:
    response.headers["x-item-name"] = item.name
    return item


@app.get("/login")
def login(response: Response) -> dict[str, bool]:
    response.set_cookie("session", "abc123", httponly=True)
    response.set_cookie("theme", "dark", max_age=3600)
    return {"ok": True}


@app.get("/missing/{item_id}")
def missing(item_id: int) -> None:
    raise HTTPException(status_code=404, detail=f"item {item_id} not found")


handler = Mangum(app)
prod_handler = Mangum(app, api_gateway_base_path="/prod")
