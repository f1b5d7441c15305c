"""Two small services the demo calls over HTTP: inventory and pricing.

They are FastAPI apps of their own, reached in the same process through
``httpx.ASGITransport`` (no network, nothing to start), with a short sleep
standing in for a real service's latency so that calling them one after
another or together makes a visible difference.
"""

import asyncio

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

INVENTORY_URL = "http://inventory.internal"
PRICING_URL = "http://pricing.internal"
INVENTORY_LATENCY = 0.010
PRICING_LATENCY = 0.015


class Stock(BaseModel):
    sku: int
    available: int


class Price(BaseModel):
    sku: int
    price_cents: int
    currency: str = "EUR"


inventory_app = FastAPI(title="inventory service")
pricing_app = FastAPI(title="pricing service")


@inventory_app.get("/stock/{sku}", response_model=Stock)
async def stock(sku: int) -> Stock:
    """How many are in the warehouse (a sku's stock is derived from its number)."""
    await asyncio.sleep(INVENTORY_LATENCY)
    return Stock(sku=sku, available=(sku * 7) % 23)


@pricing_app.get("/prices/{sku}", response_model=Price)
async def price(sku: int) -> Price:
    """Today's price; an unknown sku (over 10 000) is a 404, as a real service would say."""
    await asyncio.sleep(PRICING_LATENCY)
    if sku > 10_000:
        raise HTTPException(status_code=404, detail="unknown sku")
    return Price(sku=sku, price_cents=199 + sku % 50 * 10)
