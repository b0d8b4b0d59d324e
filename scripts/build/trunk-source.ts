/**
 * Where the ResNet-101 v2 trunk weights come from (issue 6).
 *
 * A fresh clone has no ../shared, so `npm run models` must be able to fetch the trunk from its public source,
 * but must never touch the network when a local copy exists. Resolution order:
 *   1. `$MMNET_MODELS_DIR/resnet_v2_101`   (when set, it replaces ../shared entirely: an explicit choice
 *                                           must not be silently overridden by a stray sibling folder)
 *   2. `<repo>/../shared/models/resnet_v2_101`
 *   3. the download cache `<cache>/resnet_v2_101` (`$MMNET_CACHE_DIR`, `$XDG_CACHE_HOME/mmnet-web` or
 *      `~/.cache/mmnet-web`)
 *   4. a download into that cache from `$MMNET_TRUNK_URL` or the first reachable `candidate_base_urls` of
 *      `models/resnet_v2_101.sources.json`, every file checked against its sha256 and size.
 *
 * Local folders hold float16 (shared) or float32 (downloaded) `.npy` files; the converter reads both, so only
 * downloads are checked against the float32 checksums.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { REPO_ROOT, SHARED_DIR } from '../../src/model/testing/paths';

const TRUNK_NAME = 'resnet_v2_101';
/** Committed manifest: origin, candidate base URLs and sha256/bytes/shape of each float32 file. */
const DEFAULT_SOURCES_PATH = path.join(REPO_ROOT, 'models', `${TRUNK_NAME}.sources.json`);
/** The project's read-only data folder, a sibling of the repository (absent in a public clone). */
const DEFAULT_SHARED_DIR = SHARED_DIR;
/** Records the files of the cache whose sha256 was checked, so later builds only compare sizes. */
export const VERIFIED_MARKER = '.verified.json';

export interface TrunkFileSpec {
  sha256: string;
  bytes: number;
  shape?: number[];
  dtype?: string;
}

export interface TrunkSources {
  candidate_base_urls: string[];
  files: Record<string, TrunkFileSpec>;
  about?: string;
  licence?: string;
  origin?: string;
}

export type TrunkOrigin = 'env' | 'shared' | 'cache' | 'download';

export interface ResolvedTrunk {
  /** Folder holding the 248 `resnet_v2_101_*.npy` files. */
  dir: string;
  origin: TrunkOrigin;
}

/** Where the progress bar goes; `isTTY` picks one redrawn line over periodic lines. */
export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ResolveTrunkOptions {
  /** Status lines (which source was used, retries). Default: stderr. */
  log?: (line: string) => void;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** The shared data folder; the trunk is looked up in `<sharedDir>/models/resnet_v2_101`. */
  sharedDir?: string;
  /** Cache root; the trunk goes to `<cacheDir>/resnet_v2_101`. Default: see {@link defaultCacheRoot}. */
  cacheDir?: string;
  /** Default: {@link loadTrunkSources}(). */
  sources?: TrunkSources;
  /** A request that receives nothing for this long fails (and is retried). Default 30 s. */
  fetchTimeoutMs?: number;
  /** Extra attempts per file after the first for transient failures. Default 3. */
  retries?: number;
  /** First retry delay; doubles each attempt. Default 500 ms. */
  retryDelayMs?: number;
  /** Parallel downloads. Default 4. */
  concurrency?: number;
  /** Progress bar output; `null` disables it. Default: process.stderr. */
  progress?: ProgressSink | null;
}

// ---------------------------------------------------------------------------------------------------------
// Manifest and local folders

/** Checks the manifest's structure, so a bad edit fails here rather than as a confusing download error. */
function parseTrunkSources(json: unknown, origin = 'trunk sources'): TrunkSources {
  const o = json as Partial<TrunkSources> | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.candidate_base_urls) || !o.files || typeof o.files !== 'object') {
    throw new Error(`${origin}: expected { candidate_base_urls: string[], files: { name: { sha256, bytes } } }`);
  }
  for (const [name, spec] of Object.entries(o.files)) {
    if (!/^[0-9a-f]{64}$/.test(spec?.sha256 ?? '') || !Number.isInteger(spec?.bytes) || spec.bytes < 0) {
      throw new Error(`${origin}: ${name} needs a hex sha256 and an integer byte size`);
    }
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) {
      throw new Error(`${origin}: ${name} is not a plain file name`);
    }
  }
  return o as TrunkSources;
}

export function loadTrunkSources(file = DEFAULT_SOURCES_PATH): TrunkSources {
  return parseTrunkSources(JSON.parse(readFileSync(file, 'utf8')), file);
}

const trunkFileNames = (sources: TrunkSources): string[] => Object.keys(sources.files);

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The manifest's files that `dir` lacks (all of them when `dir` does not exist). */
function missingTrunkFiles(dir: string, sources: TrunkSources): string[] {
  return trunkFileNames(sources).filter((name) => !isFile(path.join(dir, name)));
}

/** Throws an Error naming the first missing file (and how many more) unless `dir` holds every trunk file. */
export function assertTrunkFiles(dir: string, sources: TrunkSources): void {
  const missing = missingTrunkFiles(dir, sources);
  if (missing.length === 0) return;
  const more = missing.length > 1 ? ` and ${missing.length - 1} more of the ${trunkFileNames(sources).length}` : '';
  throw new Error(`Trunk folder ${dir} is incomplete: missing ${missing[0]}${more}.`);
}

/**
 * A local folder either lacks the trunk (false: try the next source), holds all of it (true), or is a broken
 * copy (throws naming a missing file: quietly downloading 110 MB would hide the broken copy).
 */
function localTrunkPresent(dir: string, sources: TrunkSources): boolean {
  const missing = missingTrunkFiles(dir, sources);
  if (missing.length === trunkFileNames(sources).length) return false;
  assertTrunkFiles(dir, sources);
  return true;
}

/** `$MMNET_CACHE_DIR`, else `$XDG_CACHE_HOME/mmnet-web`, else `~/.cache/mmnet-web`. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MMNET_CACHE_DIR) return path.resolve(env.MMNET_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.resolve(env.XDG_CACHE_HOME, 'mmnet-web');
  return path.join(env.HOME || os.homedir(), '.cache', 'mmnet-web');
}

/** `MMNET_TRUNK_URL` replaces the manifest's candidates (a mirror is an explicit choice). */
export function baseUrlsFor(env: NodeJS.ProcessEnv, sources: TrunkSources): string[] {
  const override = env.MMNET_TRUNK_URL?.trim();
  return (override ? [override] : sources.candidate_base_urls).map(withSlash);
}

const withSlash = (base: string): string => (base.endsWith('/') ? base : `${base}/`);

const fileUrl = (base: string, name: string): string => new URL(encodeURIComponent(name), withSlash(base)).href;

// ---------------------------------------------------------------------------------------------------------
// Small pure helpers

/** Start offset of a `Content-Range: bytes <start>-<end>/<total>` header, or undefined. */
export function contentRangeStart(header: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

const backoffMs = (attempt: number, baseMs: number): number => baseMs * 2 ** attempt;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}

export interface ProgressState {
  doneBytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

export function formatProgress(s: ProgressState, width = 24): string {
  const frac = s.totalBytes > 0 ? Math.min(1, s.doneBytes / s.totalBytes) : 1;
  const fill = Math.round(frac * width);
  const bar = '#'.repeat(fill) + '-'.repeat(width - fill);
  const pct = `${Math.floor(frac * 100)}`.padStart(3);
  const bytes = `${formatBytes(s.doneBytes)} / ${formatBytes(s.totalBytes)}`;
  return `trunk [${bar}] ${pct}% ${bytes}, files ${s.filesDone}/${s.filesTotal}`;
}

/** Error text that is never empty (Node's connect errors can be AggregateErrors with no message). */
function describeError(e: unknown): string {
  if (e instanceof AggregateError && !e.message) return e.errors.map(describeError).join('; ') || 'AggregateError';
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

// ---------------------------------------------------------------------------------------------------------
// Progress bar

class ProgressBar {
  private readonly perFile = new Map<string, number>();
  private state: ProgressState;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly log: (line: string) => void,
    totalBytes: number,
    filesTotal: number,
    filesDone: number,
    doneBytes: number,
  ) {
    this.state = { doneBytes, totalBytes, filesDone, filesTotal };
    this.draw(true);
  }

  /** Bytes of `name` on disk now; a restarted file goes back to 0, so the bar never over-counts. */
  set(name: string, bytes: number): void {
    this.state.doneBytes += bytes - (this.perFile.get(name) ?? 0);
    this.perFile.set(name, bytes);
    this.draw(false);
  }

  fileDone(): void {
    this.state.filesDone++;
    this.draw(false);
  }

  /** Logs a line without garbling the redrawn TTY line. */
  note(line: string): void {
    if (this.sink?.isTTY && this.drawn) this.sink.write('\r\x1b[K');
    this.log(line);
    if (this.sink?.isTTY) this.draw(true);
  }

  finish(): void {
    this.draw(true);
    if (this.sink?.isTTY) this.sink.write('\n');
  }

  private draw(force: boolean): void {
    if (!this.sink) return;
    const now = Date.now();
    // A TTY line is cheap to redraw; a log file should get a line every few seconds, not thousands.
    const every = this.sink.isTTY ? 100 : 5000;
    if (!force && now - this.lastDraw < every) return;
    this.lastDraw = now;
    this.drawn = true;
    const line = formatProgress(this.state);
    this.sink.write(this.sink.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
class TimeoutError extends Error {}
/** The downloaded bytes are wrong: retrying would fetch the same bytes, so this is fatal. */
class VerifyError extends Error {}

/** Network errors, stalls, truncation and server-side errors may pass; a 404 or a wrong checksum won't. */
function isRetryable(e: unknown): boolean {
  if (e instanceof VerifyError) return false;
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 408 || e.status === 429;
  return true;
}

interface OpenResponse {
  res: http.IncomingMessage;
  /** Re-arms the stall timer; call on each body chunk. */
  touch(): void;
  /** Stops the stall timer. */
  close(): void;
  /** The timeout that killed the request, if any (the stream itself reports a less useful error). */
  stalled(): Error | undefined;
}

/**
 * GET with an inactivity timeout covering connect, headers and body (a stalled server must fail, not hang),
 * following up to 5 redirects. A fresh connection per request (agent: false): no idle sockets keep the
 * process or a test server alive.
 */
function openGet(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 5): Promise<OpenResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) return reject(new Error(`unsupported URL ${url} (http or https only)`));
    let res: http.IncomingMessage | undefined;
    let stall: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const onStall = () => {
      stall = new TimeoutError(`timed out: no data for ${timeoutMs} ms from ${url}`);
      res?.destroy(stall);
      req.destroy(stall);
    };
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(onStall, timeoutMs);
    };
    const close = () => clearTimeout(timer);
    const req = mod.get(u, { headers, agent: false }, (r) => {
      res = r;
      // Errors also reach the consumer's pipeline; this only keeps one outside it (e.g. a stall while the
      // caller deletes a file) from becoming an uncaught exception.
      r.on('error', () => {});
      const status = r.statusCode ?? 0;
      const location = r.headers.location;
      if (status >= 300 && status < 400 && location && redirects > 0) {
        close();
        r.resume();
        openGet(new URL(location, url).href, headers, timeoutMs, redirects - 1).then(resolve, reject);
        return;
      }
      touch();
      resolve({ res: r, touch, close, stalled: () => stall });
    });
    req.on('error', (e) => {
      close();
      reject(stall ?? e);
    });
    touch();
  });
}

/** undefined when `base` serves the probe file, else why not (for the "tried" list). */
async function probeBase(base: string, name: string, timeoutMs: number): Promise<string | undefined> {
  try {
    // One byte is enough to learn that the server exists and has the file.
    const o = await openGet(fileUrl(base, name), { Range: 'bytes=0-0' }, timeoutMs);
    o.close();
    o.res.destroy();
    const s = o.res.statusCode ?? 0;
    if (s === 200 || s === 206 || s === 416 /* an empty file */) return undefined;
    return `HTTP ${s} ${o.res.statusMessage ?? ''}`.trim();
  } catch (e) {
    return describeError(e);
  }
}

const fileSize = async (p: string): Promise<number> => {
  try {
    return (await stat(p)).size;
  } catch {
    return 0;
  }
};

/**
 * Fetches `url` into `part`, continuing from the bytes already there when the server honours Range (206) and
 * starting over when it answers 200. Resolves once `part` holds exactly `expected` bytes.
 */
async function fetchToPart(url: string, part: string, expected: number, timeoutMs: number, onBytes: (n: number) => void): Promise<void> {
  let offset = await fileSize(part);
  if (offset > expected) {
    await rm(part, { force: true });
    offset = 0;
  }
  onBytes(offset);
  if (offset === expected) return; // complete but not yet verified (an earlier run stopped in between)
  const o = await openGet(url, offset > 0 ? { Range: `bytes=${offset}-` } : {}, timeoutMs);
  const { res } = o;
  try {
    const status = res.statusCode ?? 0;
    if (status === 416) {
      res.resume();
      await rm(part, { force: true });
      throw new Error(`server refused the range ${offset}- of ${url}; starting over`);
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new HttpStatusError(status, `HTTP ${status} ${res.statusMessage ?? ''}`.trim());
    }
    if (status === 206 && contentRangeStart(res.headers['content-range']) !== offset) {
      res.resume();
      await rm(part, { force: true });
      throw new Error(`unexpected Content-Range "${res.headers['content-range']}" for bytes ${offset}-; starting over`);
    }
    let received = status === 206 ? offset : 0;
    onBytes(received);
    // Opened before the body flows and written chunk by chunk: when the connection drops, every byte received
    // is in `part` for the retry to continue from. (A write stream opens its file later and drops the writes
    // still queued when the response fails: under load the retry found nothing and started over.)
    const file = openSync(part, status === 206 ? 'a' : 'w');
    try {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          if (received + chunk.length > expected) return done(new VerifyError(`server sent more than the expected ${expected} bytes`));
          writeSync(file, chunk);
          received += chunk.length;
          o.touch();
          onBytes(received);
          done();
        },
      });
      await pipeline(res, sink);
    } finally {
      closeSync(file);
    }
    if (received !== expected) throw new Error(`connection closed after ${received} of ${expected} bytes`);
  } catch (e) {
    throw o.stalled() ?? e;
  } finally {
    o.close();
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Download cache

type Marker = Record<string, string>;

function readMarker(dir: string): Marker {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, VERIFIED_MARKER), 'utf8')) as unknown;
    return m && typeof m === 'object' ? (m as Marker) : {};
  } catch {
    return {}; // missing or damaged: files get re-hashed once, nothing is lost
  }
}

/** Write-then-rename, so a crash never leaves a half-written marker. Sync: workers finish concurrently. */
function writeMarker(dir: string, marker: Marker): void {
  const tmp = path.join(dir, `${VERIFIED_MARKER}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(marker, null, 1)}\n`);
  renameSync(tmp, path.join(dir, VERIFIED_MARKER));
}

/**
 * Files of the cache that still need a download. A file counts when its size matches and the marker records
 * its expected sha256; a right-sized file without that record (copied in by hand, or the marker was lost) is
 * hashed once now instead of downloaded again.
 */
async function cachedFilesToFetch(dir: string, sources: TrunkSources, marker: Marker): Promise<string[]> {
  const todo: string[] = [];
  let changed = false;
  for (const [name, spec] of Object.entries(sources.files)) {
    const file = path.join(dir, name);
    if (!isFile(file) || statSync(file).size !== spec.bytes) {
      todo.push(name);
      continue;
    }
    if (marker[name] === spec.sha256) continue;
    if ((await sha256File(file)) === spec.sha256) {
      marker[name] = spec.sha256;
      changed = true;
    } else {
      await rm(file, { force: true });
      todo.push(name);
    }
  }
  if (changed) writeMarker(dir, marker);
  return todo;
}

/** Runs `work` over `items`, `limit` at a time; after the first failure starts nothing new, then rethrows it. */
async function runPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DownloadContext {
  base: string;
  dir: string;
  sources: TrunkSources;
  marker: Marker;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  progress: ProgressBar;
}

/** Downloads, verifies and commits one file: `<name>.part` becomes `<name>` only once its sha256 matches. */
async function downloadFile(ctx: DownloadContext, name: string): Promise<void> {
  const spec = ctx.sources.files[name];
  const url = fileUrl(ctx.base, name);
  const final = path.join(ctx.dir, name);
  const part = `${final}.part`;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchToPart(url, part, spec.bytes, ctx.timeoutMs, (n) => ctx.progress.set(name, n));
      break;
    } catch (e) {
      if (e instanceof VerifyError) await rm(part, { force: true });
      if (!isRetryable(e) || attempt >= ctx.retries) {
        const tries = attempt + 1 > 1 ? ` after ${attempt + 1} attempts` : '';
        const why = describeError(e);
        throw new Error(`Trunk download of ${name} failed${tries}: ${why}${why.includes(url) ? '' : ` (${url})`}`, { cause: e });
      }
      const wait = backoffMs(attempt, ctx.retryDelayMs);
      ctx.progress.note(`trunk: ${name}: ${describeError(e)}; retry ${attempt + 1}/${ctx.retries} in ${wait} ms`);
      await sleep(wait);
    }
  }
  const digest = await sha256File(part);
  if (digest !== spec.sha256) {
    await rm(part, { force: true });
    throw new Error(
      `Trunk file ${name} failed verification: sha256 ${digest}, expected ${spec.sha256} (${url}); ` + 'the download was deleted.',
    );
  }
  await rename(part, final);
  ctx.marker[name] = spec.sha256;
  writeMarker(ctx.dir, ctx.marker);
  ctx.progress.fileDone();
}

function unreachableMessage(tried: Array<[string, string]>, cacheDir: string, missing: number, total: number): string {
  return [
    `Cannot obtain the ResNet-101 v2 trunk (${TRUNK_NAME}): no local copy, ${missing} of ${total} files missing`,
    `from the download cache ${cacheDir}, and no download URL was reachable. Tried:`,
    ...tried.map(([url, why]) => `  ${url}  (${why})`),
    'Provide the weights in one of these ways:',
    `  - MMNET_MODELS_DIR=<folder> whose ${TRUNK_NAME}/ holds the ${total} ${TRUNK_NAME}_*.npy files`,
    '    (float16 or float32, e.g. a copy of shared/models);',
    '  - MMNET_TRUNK_URL=<base URL> of a mirror serving those files',
    '    (each checked against models/resnet_v2_101.sources.json);',
    `  - or copy the float32 files into ${cacheDir} (their sha256 is checked on the next run).`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

/** Finds or downloads the trunk; see the file comment for the order. Never uses the network if a local copy exists. */
export async function resolveTrunk(opts: ResolveTrunkOptions = {}): Promise<ResolvedTrunk> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  // MMNET_TRUNK_SOURCES: the manifest of a mirror whose files differ from the public ones.
  const sources = opts.sources ?? loadTrunkSources(env.MMNET_TRUNK_SOURCES || undefined);
  const total = trunkFileNames(sources).length;

  const modelsDir = env.MMNET_MODELS_DIR?.trim();
  if (modelsDir) {
    const dir = path.resolve(modelsDir, TRUNK_NAME);
    if (localTrunkPresent(dir, sources)) {
      log(`trunk: ${dir} (MMNET_MODELS_DIR)`);
      return { dir, origin: 'env' };
    }
    log(`trunk: MMNET_MODELS_DIR=${modelsDir} has no ${TRUNK_NAME}/; ../shared is not consulted when it is set`);
  } else {
    const dir = path.join(opts.sharedDir ?? DEFAULT_SHARED_DIR, 'models', TRUNK_NAME);
    if (localTrunkPresent(dir, sources)) {
      log(`trunk: ${dir} (shared)`);
      return { dir, origin: 'shared' };
    }
  }

  const cacheDir = path.join(opts.cacheDir ?? defaultCacheRoot(env), TRUNK_NAME);
  const marker = existsSync(cacheDir) ? readMarker(cacheDir) : {};
  const todo = existsSync(cacheDir) ? await cachedFilesToFetch(cacheDir, sources, marker) : trunkFileNames(sources);
  if (todo.length === 0) {
    log(`trunk: ${cacheDir} (download cache)`);
    return { dir: cacheDir, origin: 'cache' };
  }

  const timeoutMs = opts.fetchTimeoutMs ?? 30_000;
  const tried: Array<[string, string]> = [];
  let base: string | undefined;
  for (const candidate of baseUrlsFor(env, sources)) {
    const why = await probeBase(candidate, todo[0], timeoutMs);
    if (why === undefined) {
      base = candidate;
      break;
    }
    tried.push([candidate, why]);
    log(`trunk: ${candidate} unreachable (${why})`);
  }
  if (!base) throw new Error(unreachableMessage(tried, cacheDir, todo.length, total));

  await mkdir(cacheDir, { recursive: true });
  const sizeOf = (names: string[]) => names.reduce((s, n) => s + sources.files[n].bytes, 0);
  const todoBytes = sizeOf(todo);
  log(`trunk: downloading ${todo.length} files (${formatBytes(todoBytes)}) from ${base} into ${cacheDir}`);
  const allBytes = sizeOf(trunkFileNames(sources));
  const progress = new ProgressBar(
    opts.progress === undefined ? process.stderr : opts.progress,
    log,
    allBytes,
    total,
    total - todo.length,
    allBytes - todoBytes,
  );
  const ctx: DownloadContext = {
    base,
    dir: cacheDir,
    sources,
    marker,
    timeoutMs,
    retries: opts.retries ?? 3,
    retryDelayMs: opts.retryDelayMs ?? 500,
    progress,
  };
  try {
    await runPool(todo, opts.concurrency ?? 4, (name) => downloadFile(ctx, name));
  } finally {
    progress.finish();
  }
  assertTrunkFiles(cacheDir, sources);
  log(`trunk: ${cacheDir} (downloaded, ${total} files verified)`);
  return { dir: cacheDir, origin: 'download' };
}
