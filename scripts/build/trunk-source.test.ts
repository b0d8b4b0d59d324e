/**
 * The trunk downloader against a loopback HTTP server this test starts and fills with generated files
 * (the real base URLs are never contacted; every URL here is 127.0.0.1).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  VERIFIED_MARKER,
  assertTrunkFiles,
  baseUrlsFor,
  contentRangeStart,
  defaultCacheRoot,
  formatProgress,
  loadTrunkSources,
  resolveTrunk,
  type ResolveTrunkOptions,
  type TrunkSources,
} from './trunk-source';

/** A float32 .npy file: enough realism that a converter could read it; the downloader only sees bytes. */
function fakeNpy(values: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${values},), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  const data = Buffer.alloc(values * 4);
  for (let i = 0; i < values; i++) data.writeFloatLE(Math.sin(i * 0.37 + values), i * 4);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}

const A = 'resnet_v2_101_block1_unit_1_a.npy';
const B = 'resnet_v2_101_block1_unit_1_b.npy';
const C = 'resnet_v2_101_block1_unit_1_c.npy';
const FILES: Record<string, Buffer> = { [A]: fakeNpy(16), [B]: fakeNpy(40_000), [C]: fakeNpy(1000) };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Mode = 'ok' | 'corrupt' | 'truncate-once' | 'truncate-once-ignore-range' | '404' | 'stall-body' | 'stall-headers';
const modes = new Map<string, Mode>();
const truncated = new Set<string>();
let requests: Array<{ name: string; range?: string; status: number }> = [];

/** Serves FILES under /w/, honouring `Range: bytes=a-[b]`, misbehaving per file as `modes` says. */
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const name = decodeURIComponent(url.pathname.replace(/^\/w\//, ''));
  const range = req.headers.range;
  const mode = modes.get(name) ?? 'ok';
  const body = url.pathname.startsWith('/w/') ? FILES[name] : undefined;
  const log = (status: number) => requests.push({ name, range, status });
  if (!body || mode === '404') {
    log(404);
    res.writeHead(404).end('not found');
    return;
  }
  if (mode === 'stall-headers') return log(0); // accepts, then never answers
  const data = mode === 'corrupt' ? Buffer.from(body.map((x, i) => (i === body.length - 3 ? x ^ 0xff : x))) : body;
  const isProbe = range === 'bytes=0-0';
  const truncate = mode.startsWith('truncate-once') && !isProbe && !truncated.has(name);
  const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
  let slice = data;
  if (m && mode !== 'truncate-once-ignore-range') {
    const start = Number(m[1]);
    const end = m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
    if (start >= data.length) {
      log(416);
      res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
      return;
    }
    slice = data.subarray(start, end + 1);
    log(206);
    res.writeHead(206, { 'Content-Length': slice.length, 'Content-Range': `bytes ${start}-${end}/${data.length}` });
  } else {
    log(200);
    res.writeHead(200, { 'Content-Length': data.length });
  }
  if (mode === 'stall-body' && !isProbe) {
    res.write(slice.subarray(0, 100)); // then nothing, connection kept open
    return;
  }
  if (truncate) {
    truncated.add(name);
    // Half the body, then the connection closes: what a flaky network does mid-download. end(), not
    // destroy(): a reset may discard bytes the client has not read yet, and then there is nothing to resume.
    res.write(slice.subarray(0, slice.length >> 1), () => res.socket?.end());
    return;
  }
  res.end(slice);
});

let base = '';
const closedBases: string[] = [];
let tmp = '';
let nDir = 0;
const newDir = (label: string) => {
  const d = path.join(tmp, `${label}-${nDir++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const sourcesFor = (...bases: string[]): TrunkSources => ({
  candidate_base_urls: bases,
  files: Object.fromEntries(Object.entries(FILES).map(([n, b]) => [n, { sha256: sha(b), bytes: b.length, dtype: 'float32' }])),
});

/** A trunk folder as shared/ or MMNET_MODELS_DIR would hold it (contents irrelevant: float16 there). */
function localTrunk(root: string, names = Object.keys(FILES)): string {
  const dir = path.join(root, 'resnet_v2_101');
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(path.join(dir, n), 'f16');
  return root;
}

interface Run {
  opts: ResolveTrunkOptions;
  logs: string[];
  progress: string[];
}
/** Options isolated from the machine: empty env, no shared folder, a fresh temp cache. */
function setup(over: Partial<ResolveTrunkOptions> = {}): Run {
  const logs: string[] = [];
  const progress: string[] = [];
  const opts: ResolveTrunkOptions = {
    env: {},
    sharedDir: path.join(tmp, 'no-shared'),
    cacheDir: newDir('cache'),
    sources: sourcesFor(base),
    fetchTimeoutMs: 2000,
    retries: 2,
    retryDelayMs: 10,
    log: (l) => logs.push(l),
    progress: { write: (s) => progress.push(s), isTTY: false },
    ...over,
  };
  return { opts, logs, progress };
}

const cacheTrunk = (r: Run) => path.join(r.opts.cacheDir!, 'resnet_v2_101');
const fileRequests = (name: string) => requests.filter((q) => q.name === name && q.range !== 'bytes=0-0');

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mmnet-trunk-test-'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/w/`;
  // Ports that were just free: connecting there is refused, like an unreachable host but instant.
  for (let i = 0; i < 2; i++) {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closedBases.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}/gone${i}/`);
    await new Promise((r) => s.close(r));
  }
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  modes.clear();
  truncated.clear();
  requests = [];
});

describe('download', () => {
  it('downloads and verifies every file, then serves the cache without any request', async () => {
    const run = setup();
    const got = await resolveTrunk(run.opts);
    expect(got).toEqual({ dir: cacheTrunk(run), origin: 'download' });
    for (const [n, b] of Object.entries(FILES)) expect(readFileSync(path.join(got.dir, n)).equals(b)).toBe(true);
    const marker = JSON.parse(readFileSync(path.join(got.dir, VERIFIED_MARKER), 'utf8'));
    expect(marker).toEqual(Object.fromEntries(Object.entries(FILES).map(([n, b]) => [n, sha(b)])));
    expect(run.progress.join('')).toMatch(/files 3\/3/);
    expect(run.logs.join('\n')).toContain(base);

    const before = requests.length;
    const again = await resolveTrunk(run.opts);
    expect(again).toEqual({ dir: cacheTrunk(run), origin: 'cache' });
    expect(requests.length).toBe(before);
  });

  it('re-hashes a cache without its marker and re-downloads only a damaged file', async () => {
    const run = setup();
    await resolveTrunk(run.opts);
    const dir = cacheTrunk(run);
    rmSync(path.join(dir, VERIFIED_MARKER));
    const damaged = Buffer.from(FILES[C]);
    damaged[damaged.length - 1] ^= 1; // same size: only the hash can tell
    writeFileSync(path.join(dir, C), damaged);
    requests = [];
    expect(await resolveTrunk(run.opts)).toEqual({ dir, origin: 'download' });
    expect(new Set(requests.map((q) => q.name))).toEqual(new Set([C]));
    expect(readFileSync(path.join(dir, C)).equals(FILES[C])).toBe(true);
  });

  it('deletes a file whose sha256 does not match and fails naming it', async () => {
    modes.set(B, 'corrupt');
    const run = setup();
    await expect(resolveTrunk(run.opts)).rejects.toThrow(new RegExp(`${B}.*sha256`));
    expect(existsSync(path.join(cacheTrunk(run), B))).toBe(false);
    expect(existsSync(path.join(cacheTrunk(run), `${B}.part`))).toBe(false);
    // No retries: the same bytes would come back.
    expect(fileRequests(B)).toHaveLength(1);
  });

  it('resumes a dropped connection with a Range request', async () => {
    modes.set(B, 'truncate-once');
    const run = setup();
    const got = await resolveTrunk(run.opts);
    expect(got.origin).toBe('download');
    expect(readFileSync(path.join(got.dir, B)).equals(FILES[B])).toBe(true);
    const [first, second] = fileRequests(B);
    expect(first).toMatchObject({ range: undefined, status: 200 });
    expect(second).toMatchObject({ range: expect.stringMatching(/^bytes=[1-9]\d*-$/), status: 206 });
    expect(run.logs.join('\n')).toMatch(new RegExp(`${B}.*retry 1/2`));
  });

  it('continues a .part left by an earlier run from its size', async () => {
    const run = setup();
    const dir = cacheTrunk(run);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${B}.part`), FILES[B].subarray(0, 12_345));
    await resolveTrunk(run.opts);
    expect(fileRequests(B)).toEqual([{ name: B, range: 'bytes=12345-', status: 206 }]);
    expect(readFileSync(path.join(dir, B)).equals(FILES[B])).toBe(true);
    expect(existsSync(path.join(dir, `${B}.part`))).toBe(false);
  });

  it('starts over when the server ignores Range and answers 200', async () => {
    modes.set(B, 'truncate-once-ignore-range');
    const run = setup();
    const got = await resolveTrunk(run.opts);
    expect(readFileSync(path.join(got.dir, B)).equals(FILES[B])).toBe(true);
    expect(fileRequests(B).map((q) => q.status)).toEqual([200, 200]);
  });

  it('fails on a 404 naming the file and its URL', async () => {
    modes.set(C, '404');
    const run = setup();
    const err = await resolveTrunk(run.opts).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(C);
    expect((err as Error).message).toContain(`${base}${C}`);
    expect((err as Error).message).toContain('404');
    expect(fileRequests(C)).toHaveLength(1); // a 404 is not retried
  });

  it.each(['stall-body', 'stall-headers'] as const)('times out on a server that stalls (%s)', async (mode) => {
    modes.set(C, mode);
    const run = setup({ fetchTimeoutMs: 300, retries: 1 });
    const t0 = Date.now();
    await expect(resolveTrunk(run.opts)).rejects.toThrow(new RegExp(`${C}.*timed out`));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(fileRequests(C)).toHaveLength(2); // the first attempt and one retry
    expect(existsSync(path.join(cacheTrunk(run), C))).toBe(false);
  });
});

describe('base URLs', () => {
  it('lists every URL tried and how to provide the weights when none is reachable', async () => {
    const notHere = base.replace('/w/', '/nothing/');
    const run = setup({ sources: sourcesFor(...closedBases, notHere) });
    const err = await resolveTrunk(run.opts).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    for (const u of [...closedBases, notHere]) expect(msg).toContain(u);
    expect(msg).toMatch(/ECONNREFUSED/);
    expect(msg).toMatch(/HTTP 404/);
    expect(msg).toContain('MMNET_MODELS_DIR');
    expect(msg).toContain('MMNET_TRUNK_URL');
    expect(existsSync(cacheTrunk(run))).toBe(false); // nothing created when nothing was downloaded
  });

  it('takes the first reachable candidate', async () => {
    const run = setup({ sources: sourcesFor(closedBases[0], base) });
    expect((await resolveTrunk(run.opts)).origin).toBe('download');
    expect(run.logs.join('\n')).toContain(`${closedBases[0]} unreachable`);
  });

  it('MMNET_TRUNK_URL replaces the candidates (a trailing slash is optional)', async () => {
    const run = setup({ env: { MMNET_TRUNK_URL: base.slice(0, -1) }, sources: sourcesFor(closedBases[0]) });
    expect((await resolveTrunk(run.opts)).origin).toBe('download');
    expect(run.logs.join('\n')).not.toContain(closedBases[0]);
    expect(baseUrlsFor({}, sourcesFor('http://a/x'))).toEqual(['http://a/x/']);
  });
});

describe('local sources and precedence', () => {
  it('MMNET_MODELS_DIR with the trunk wins over shared, without network', async () => {
    const envDir = localTrunk(newDir('env'));
    const shared = newDir('shared');
    localTrunk(path.join(shared, 'models'));
    const run = setup({ env: { MMNET_MODELS_DIR: envDir }, sharedDir: shared });
    expect(await resolveTrunk(run.opts)).toEqual({ dir: path.join(envDir, 'resnet_v2_101'), origin: 'env' });
    expect(requests).toHaveLength(0);
  });

  it('uses shared when MMNET_MODELS_DIR is unset', async () => {
    const shared = newDir('shared');
    localTrunk(path.join(shared, 'models'));
    const run = setup({ sharedDir: shared });
    const dir = path.join(shared, 'models', 'resnet_v2_101');
    expect(await resolveTrunk(run.opts)).toEqual({ dir, origin: 'shared' });
    expect(requests).toHaveLength(0);
  });

  it('an empty MMNET_MODELS_DIR goes to the cache/download, never to shared', async () => {
    const shared = newDir('shared');
    localTrunk(path.join(shared, 'models'));
    const run = setup({ env: { MMNET_MODELS_DIR: newDir('empty') }, sharedDir: shared });
    expect(await resolveTrunk(run.opts)).toEqual({ dir: cacheTrunk(run), origin: 'download' });
    expect(run.logs.join('\n')).toMatch(/MMNET_MODELS_DIR=.*has no resnet_v2_101/);
  });

  it('an empty MMNET_MODELS_DIR and no shared, nothing reachable: fails naming the URLs', async () => {
    const run = setup({ env: { MMNET_MODELS_DIR: newDir('empty') }, sources: sourcesFor(...closedBases) });
    await expect(resolveTrunk(run.opts)).rejects.toThrow(closedBases[1]);
  });

  it('a partial local folder fails naming a missing file', async () => {
    const envDir = localTrunk(newDir('env'), [A, C]);
    const run = setup({ env: { MMNET_MODELS_DIR: envDir } });
    await expect(resolveTrunk(run.opts)).rejects.toThrow(B);
    expect(() => assertTrunkFiles(path.join(envDir, 'resnet_v2_101'), sourcesFor(base))).toThrow(B);
    expect(requests).toHaveLength(0);
  });

  it('uses the default cache root from MMNET_CACHE_DIR when no cacheDir is given', async () => {
    const root = newDir('envcache');
    const run = setup({ env: { MMNET_CACHE_DIR: root }, cacheDir: undefined });
    expect(await resolveTrunk(run.opts)).toEqual({ dir: path.join(root, 'resnet_v2_101'), origin: 'download' });
  });
});

describe('helpers', () => {
  it('default cache root', () => {
    expect(defaultCacheRoot({ MMNET_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe(path.resolve('/c'));
    expect(defaultCacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe(path.resolve('/x/mmnet-web'));
    expect(defaultCacheRoot({ HOME: '/h' })).toBe(path.join('/h', '.cache', 'mmnet-web'));
  });

  it('parses Content-Range and formats progress', () => {
    expect(contentRangeStart('bytes 100-199/200')).toBe(100);
    expect(contentRangeStart('bytes */200')).toBeUndefined();
    expect(contentRangeStart(undefined)).toBeUndefined();
    const MB = 1024 ** 2;
    const line = formatProgress({ doneBytes: 55 * MB, totalBytes: 110 * MB, filesDone: 124, filesTotal: 248 }, 10);
    expect(line).toBe('trunk [#####-----]  50% 55.0 MB / 110.0 MB, files 124/248');
  });

  it('the committed manifest lists 248 float32 files with checksums and two base URLs', () => {
    const s = loadTrunkSources();
    expect(Object.keys(s.files)).toHaveLength(248);
    expect(s.candidate_base_urls.length).toBeGreaterThanOrEqual(1);
    expect(Object.values(s.files).every((f) => f.dtype === 'float32' && f.bytes > 0)).toBe(true);
  });
});
