// Query strings are read one value per name; a name given twice (`since=1&since=2`) is
// refused rather than read as its first value, which the client may not have meant.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors";

export const singleQueryValues: MiddlewareHandler = async (c, next) => {
  const names = new Set<string>();
  for (const name of new URL(c.req.url).searchParams.keys()) {
    if (names.has(name)) {
      // The name is the client's own text: named only when it is one of ours.
      const known = /^[a-zA-Z]{1,20}$/.test(name) ? ` (${name})` : "";
      throw new ApiError(400, "invalid_query", `Give each query parameter once${known}`);
    }
    names.add(name);
  }
  await next();
};
