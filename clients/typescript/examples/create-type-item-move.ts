/**
 * A type, an item and a move, through the one origin with the typed client:
 *
 *     make run                                   # the API on http://127.0.0.1:8000
 *     export CONVEYOR_TOKEN=$(make -s token ARGS="--tenant acme --user alice --roles admin")
 *     cd clients/typescript && npm run build && CONVEYOR_API=http://127.0.0.1:8000 npm run example
 *
 * Prints one JSON line: the type, the item, the stage it started on and the one it moved to. Each
 * step reads what the previous one wrote in another service at once: the client passes the
 * consistency token of every answer on to its next request.
 * tests/e2e/test_public_origin.py runs it against the five services behind the gateway.
 */
import { createConveyorClient, versionOf, type Problem } from "../src/index.js";

function setting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`set ${name}`);
  }
  return value;
}

function failed(step: string, problem: unknown): Error {
  const { status, title, detail } = (problem ?? {}) as Partial<Problem>;
  return new Error(`${step}: ${status ?? "?"} ${title ?? ""} ${detail ?? ""}`.trim());
}

const api = createConveyorClient({ baseUrl: setting("CONVEYOR_API"), token: setting("CONVEYOR_TOKEN") });

const code = `deal_${Date.now().toString(36)}`;
const created = await api.POST("/v1/entity-types", { body: { code, name: "Deal" } });
if (created.error) {
  throw failed("create the entity type", created.error);
}
const typeId = created.data.id;

// Pipelines gives every new type a default pipeline when it hears of the type. The client sends the
// creation's consistency token along, so pipelines answers once it has: no polling.
const pipelines = await api.GET("/v1/pipelines", { params: { query: { entity_type_id: typeId } } });
const pipeline = pipelines.data?.items.find((candidate) => candidate.is_default);
if (pipeline === undefined) {
  throw failed("find the type's default pipeline", pipelines.error);
}
const [first, second] = pipeline.stages;
if (first === undefined || second === undefined) {
  throw new Error("the default pipeline has fewer than two stages");
}

const title = `First deal of ${code}`;
const item = await api.POST("/v1/items", { body: { entity_type_id: typeId, title } });
if (item.error) {
  throw failed("create the item", item.error);
}
const itemId = item.data.id;

// The item's place on the board, with the version a move must name (its ETag).
const placement = await api.GET("/v1/placements/{item_id}", { params: { path: { item_id: itemId } } });
const version = versionOf(placement.response);
if (placement.error || version === undefined) {
  throw failed("read the item's place on the board", placement.error);
}
const placed = { stage: placement.data.stage_id, version };

const moved = await api.POST("/v1/placements/{item_id}/move", {
  params: { path: { item_id: itemId }, header: { "if-match": placed.version } },
  body: { to_stage_id: second.id },
});
if (moved.error) {
  throw failed("move the item", moved.error);
}

console.log(
  JSON.stringify({
    type_id: typeId,
    item_id: itemId,
    title,
    first_stage_id: placed.stage,
    moved_to_stage_id: moved.data.stage_id,
  }),
);
