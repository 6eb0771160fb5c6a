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
 *
 * Reads its own writes: every write answers a `Conveyor-Consistency` token, which the client keeps
 * and sends with its next requests, so a service answers only once it has applied what this client
 * wrote elsewhere (a pipeline right after its type, a board right after an item).
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

/** The header that carries a consistency token (docs/api-conventions.md). */
export const CONSISTENCY_HEADER = "Conveyor-Consistency";

/**
 * The tokens a client has been given, merged: the newest entry per topic (`topic/event/at`), at most
 * 16 of them. Share one between clients that should read each other's writes.
 */
export class ConsistencyTokens {
  private readonly byTopic = new Map<string, string>();

  /** Take in the token of an answer (nothing happens without one). */
  remember(token: string | null): void {
    for (const entry of (token ?? "").split(",")) {
      const topic = entry.trim().split("/")[0];
      if (topic) {
        this.byTopic.delete(topic);
        this.byTopic.set(topic, entry.trim());
      }
    }
    while (this.byTopic.size > 16) {
      const oldest = this.byTopic.keys().next().value;
      if (oldest === undefined) break;
      this.byTopic.delete(oldest);
    }
  }

  /** The header value to send, or undefined before any write. */
  current(): string | undefined {
    return this.byTopic.size > 0 ? [...this.byTopic.values()].join(",") : undefined;
  }
}

export interface ConveyorClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:8000` (no path). */
  baseUrl: string;
  /** A bearer token, or a function giving the current one (called before every request). */
  token: string | (() => string | Promise<string>);
  /** A `fetch` of your own (tests, instrumentation); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
  /** Where the client keeps its consistency tokens; its own unless given; `false`: do not send them. */
  consistency?: ConsistencyTokens | false;
}

export type ConveyorClient = Client<paths>;

/** A client for the whole public API that sends the caller's token with every request. */
export function createConveyorClient(options: ConveyorClientOptions): ConveyorClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const tokens = options.consistency === false ? undefined : (options.consistency ?? new ConsistencyTokens());
  const authenticate: Middleware = {
    async onRequest({ request }) {
      const token = typeof options.token === "function" ? await options.token() : options.token;
      request.headers.set("Authorization", `Bearer ${token}`);
      const consistency = tokens?.current();
      if (consistency !== undefined) {
        request.headers.set(CONSISTENCY_HEADER, consistency);
      }
      return request;
    },
    onResponse({ response }) {
      tokens?.remember(response.headers.get(CONSISTENCY_HEADER));
      return response;
    },
  };
  client.use(authenticate);
  return client;
}

/** The `ETag` of an answer as `If-Match` wants it back (a stale one is refused). */
export function versionOf(response: Response): string | undefined {
  return response.headers.get("ETag") ?? undefined;
}
