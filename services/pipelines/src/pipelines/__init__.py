"""Conveyor pipelines service: pipelines, their stages and the items' moves between them."""
