/** The model's download: byte ranges in the shards' order, whole files where ranges are not served, the hand-over. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadModel, PARALLEL_DOWNLOADS, RANGE_BYTES, WHOLE_FILES_AT_ONCE, type Shard } from './download';
import { fileFetch, modelUrl } from './node/io';
import { TEST_MODEL_DIR } from './testing/paths';

const fileOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** The byte range a request for a shard asks for; undefined for any other request. */
function askedRange(url: string, init?: RequestInit) {
  const range = new Headers(init?.headers).get('Range');
  if (!url.endsWith('.bin') || !range) return undefined;
  const [from, to] = /^bytes=(\d+)-(\d+)$/.exec(range)!.slice(1).map(Number);
  return { file: fileOf(url), from, to };
}

/** Those bytes of the file. */
const rangeBytes = async (url: string, { from, to }: { from: number; to: number }) =>
  new Uint8Array(await (await fileFetch(url)).arrayBuffer()).slice(from, to + 1);

/** fileFetch that serves byte ranges (206) and counts the requests in flight. */
function rangeServer() {
  const asked: { file: string; from: number; to: number }[] = [];
  let inFlight = 0;
  const server = {
    asked,
    most: 0,
    fetch: async (url: string, init?: RequestInit) => {
      const range = askedRange(url, init);
      if (!range) return fileFetch(url);
      asked.push(range);
      server.most = Math.max(server.most, ++inFlight);
      const body = await rangeBytes(url, range);
      await new Promise((done) => setTimeout(done, 5));
      inFlight--;
      return new Response(body, { status: 206 });
    },
  };
  return server;
}

/** Takes every shard of a download; resolves with them in arrival order once all are in. */
async function takeAll(download: ReturnType<typeof downloadModel>) {
  const shards: { shard: Shard; bytes: Uint8Array }[] = [];
  const result = await download.take({ onShard: (shard, bytes) => shards.push({ shard, bytes }) });
  return { shards, result };
}

async function expectFilesOnDisk(shards: { shard: Shard; bytes: Uint8Array }[]) {
  for (const { shard, bytes } of shards) expect(Buffer.from(bytes).equals(await readFile(join(TEST_MODEL_DIR, shard.path)))).toBe(true);
}

describe('downloadModel', () => {
  it("asks for byte ranges, PARALLEL_DOWNLOADS at a time, in the shards' order, so that each shard is whole early", async () => {
    const server = rangeServer();
    const download = downloadModel(modelUrl(TEST_MODEL_DIR), { fetch: server.fetch });
    const { metadata } = await download.model;
    const { shards } = await takeAll(download);
    expect(metadata.shards.length).toBeGreaterThan(1);
    expect(server.most).toBe(PARALLEL_DOWNLOADS);
    // Every shard asked for in RANGE_BYTES pieces that tile it, the shards one after another.
    for (const { path, bytes } of metadata.shards) {
      const mine = server.asked.filter((a) => a.file === path);
      expect(mine.map((a) => a.from)).toEqual(Array.from({ length: Math.ceil(bytes / RANGE_BYTES) }, (_, k) => k * RANGE_BYTES));
      expect(mine.at(-1)!.to).toBe(bytes - 1);
    }
    const order = metadata.shards.map((s) => s.path);
    expect(server.asked.map((a) => order.indexOf(a.file))).toEqual(server.asked.map((a) => order.indexOf(a.file)).sort((a, b) => a - b));
    expect(shards.map(({ shard }) => shard.path).sort()).toEqual([...order].sort());
    await expectFilesOnDisk(shards);
  });

  it("starts the other ranges as soon as the first one's headers say ranges are served, before its body", async () => {
    let secondAsked!: () => void;
    const second = new Promise<void>((done) => (secondAsked = done));
    let ranges = 0;
    const fetch = async (url: string, init?: RequestInit) => {
      const range = askedRange(url, init);
      if (!range) return fileFetch(url);
      const bytes = await rangeBytes(url, range);
      if (++ranges === 2) secondAsked();
      if (ranges > 1) return new Response(bytes, { status: 206 });
      // The first range's body comes only once a second range is asked for.
      const body = new ReadableStream({
        async start(controller) {
          await second;
          controller.enqueue(bytes);
          controller.close();
        },
      });
      return new Response(body, { status: 206 });
    };
    const { shards } = await takeAll(downloadModel(modelUrl(TEST_MODEL_DIR), { fetch }));
    await expectFilesOnDisk(shards);
  });

  it('downloads each shard once, whole and WHOLE_FILES_AT_ONCE at a time, from a server that ignores ranges', async () => {
    const asked: string[] = [];
    let inFlight = 0;
    let most = 0;
    const fetch = async (url: string) => {
      if (!url.endsWith('.bin')) return fileFetch(url);
      asked.push(fileOf(url));
      most = Math.max(most, ++inFlight);
      const response = await fileFetch(url);
      await new Promise((done) => setTimeout(done, 5));
      inFlight--;
      return response;
    };
    const download = downloadModel(modelUrl(TEST_MODEL_DIR), { fetch });
    const { shards } = await takeAll(download);
    expect(asked).toEqual((await download.model).metadata.shards.map((s) => s.path));
    expect(most).toBe(WHOLE_FILES_AT_ONCE);
    await expectFilesOnDisk(shards);
  });

  it('rejects a range answered with the wrong number of bytes', async () => {
    const fetch = async (url: string, init?: RequestInit) =>
      askedRange(url, init) ? new Response(new Uint8Array(10), { status: 206 }) : fileFetch(url);
    await expect(takeAll(downloadModel(modelUrl(TEST_MODEL_DIR), { fetch }))).rejects.toThrow(/10 bytes for the range 0–/);
  });

  it('keeps the shards that arrive before anyone takes them, and hands them over once', async () => {
    const server = rangeServer();
    const download = downloadModel(modelUrl(TEST_MODEL_DIR), { fetch: server.fetch });
    const { metadata } = await download.model;
    // Every range answered before the shards are taken: what a worker's entry downloads while its code loads.
    await expect
      .poll(() => server.asked.length, { timeout: 30_000 })
      .toBe(metadata.shards.reduce((n, s) => n + Math.ceil(s.bytes / RANGE_BYTES), 0));
    await new Promise((done) => setTimeout(done, 200));
    const progress: number[] = [];
    const shards: Shard[] = [];
    const result = await download.take({ onShard: (shard) => shards.push(shard), onProgress: (p) => progress.push(p.loaded) });
    expect(shards.map((s) => s.path).sort()).toEqual(metadata.shards.map((s) => s.path).sort());
    expect(progress.at(-1)).toBe(metadata.shards.reduce((n, s) => n + s.bytes, 0));
    expect(result.fromCache).toBe(false);
    expect(() => download.take({ onShard: () => undefined })).toThrow(/once/);
  });
});
