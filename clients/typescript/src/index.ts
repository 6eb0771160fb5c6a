/**
 * Conveyor's public API, typed: one client for all five services behind one origin
 * (`make run` serves it on http://127.0.0.1:8000; a cluster behind its Ingress).
 *
 * The types in `schema.d.ts` are generated from `docs/openapi.json` by openapi-typescript
 * (`npm run generate`); calls go through openapi-fetch, so a path, its parameters, its body and its
 * answer are all checked by the compiler.
 *
 *     const api = createConveyorClient({ baseUrl: "http://127.0.0.1:8000", token });
 *     const { data, error } = await api.POST("/v1/entity-types", { body: { ... } });
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";

/** A schema of the API by its name in the document, e.g. `Schema<"CalendarEntry">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/** An RFC 9457 problem, as every error of the API is answered. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [member: string]: unknown;
}

export interface ConveyorClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:8000` (no path). */
  baseUrl: string;
  /** A bearer token, or a function giving the current one (called before every request). */
  token: string | (() => string | Promise<string>);
  /** A `fetch` of your own (tests, instrumentation); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
}

export type ConveyorClient = Client<paths>;

/** A client for the whole public API that sends the caller's token with every request. */
export function createConveyorClient(options: ConveyorClientOptions): ConveyorClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const authenticate: Middleware = {
    async onRequest({ request }) {
      const token = typeof options.token === "function" ? await options.token() : options.token;
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(authenticate);
  return client;
}

/** The `ETag` of an answer as `If-Match` wants it back (a stale one is refused). */
export function versionOf(response: Response): string | undefined {
  return response.headers.get("ETag") ?? undefined;
}
