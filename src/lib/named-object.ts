// The object a name addresses, reached by its id alone. Under wrangler dev, miniflare wraps
// every object reached through a name-carrying id with a write of that name, under
// blockConcurrencyWhile, each time the object starts: for a job, a commit and two isolate
// entries more. The id is the name's either way, so it is the same object (its storage
// too), locally and deployed; only `ctx.id.name` is left unset, which nothing here reads.
export function idOfName(namespace: DurableObjectNamespace, name: string): DurableObjectId {
  return namespace.idFromString(namespace.idFromName(name).toString());
}
