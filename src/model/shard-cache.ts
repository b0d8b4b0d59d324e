/**
 * Model files in Cache Storage, keyed by their sha256: a second visit loads without the network,
 * and a rebuilt model (new hashes) can never be served a stale shard.
 */
export interface ShardCache {
  get(sha256: string): Promise<ArrayBuffer | undefined>;
  put(sha256: string, bytes: ArrayBuffer): Promise<void>;
  /** model.json itself, for offline loads: kept under its own URL. */
  getText(url: string): Promise<string | undefined>;
  putText(url: string, text: string): Promise<void>;
  /** Deletes every entry but these shards and model.json files. */
  retain(sha256s: readonly string[]): Promise<void>;
}

const shardKey = (base: string, sha256: string) => `${base}sha256/${sha256}`;

/** The cache named `name`, or undefined where there is no Cache Storage (Node, insecure origins). */
export async function openShardCache(name: string, base: string): Promise<ShardCache | undefined> {
  if (typeof caches === 'undefined') return undefined;
  let cache: Cache;
  try {
    cache = await caches.open(name);
  } catch {
    return undefined; // e.g. storage disabled by the user
  }
  const read = async (key: string) => (await cache.match(key)) ?? undefined;
  // A full disk or a private window must not break loading: caching is best effort.
  const write = (key: string, body: BodyInit) => cache.put(key, new Response(body)).catch(() => undefined);
  return {
    get: async (sha256) => (await read(shardKey(base, sha256)))?.arrayBuffer(),
    put: (sha256, bytes) => write(shardKey(base, sha256), bytes),
    getText: async (url) => (await read(url))?.text(),
    putText: (url, text) => write(url, text),
    async retain(sha256s) {
      const keep = new Set(sha256s.map((s) => shardKey(base, s)));
      for (const request of await cache.keys()) {
        if (request.url.startsWith(`${base}sha256/`) && !keep.has(request.url)) await cache.delete(request);
      }
    },
  };
}
