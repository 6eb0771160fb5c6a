"""Response bodies of the catalogue API: products, and which product an item refers to."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field


class CatalogueProduct(ApiModel):
    """A product of the tenant's catalogue."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "prod-6e1a3c9b7d2f",
                    "name": "Heat meter installation",
                    "sku": "HM-INSTALL-01",
                    "base_price": "4500.00",
                    "currency": "RUB",
                    "version": 2,
                }
            ]
        },
    )

    id: str
    name: str
    sku: str
    base_price: str = Field(description='a decimal as a string, e.g. "4500.00"')
    currency: str = Field(description="ISO 4217 code of the price")
    version: int = Field(description="the product's version; the ETag")


class ItemProductBinding(ApiModel):
    """The product an item (of a catalogue-bound type) refers to."""

    item_id: str
    product_id: str | None = Field(description="null: none")
