/**
 * A pair's consensus as a file: the one-off work of a pair (`pairConsensus`: its histograms and transport
 * prior), computed at build time for a pair the site ships with its features (an example), so the page's first
 * click on it costs its rows alone. Before the weights arrive the page matches on tfjs's cpu backend, where
 * the consensus of a pair takes seconds.
 *
 * Only the plain geometry is stored: without the mirror rule the mirrored one goes unused, and the matcher
 * computes the pair anew when the rule asks for it. The votes, which the query-centred histogram recasts per
 * click, are stored when asked for (the direction a click matches; its backward check does not recast them),
 * as uint8 per source cell (scale = the cell's largest vote / 255): a quarter of their float32 size.
 *
 * Layout: a container "MMNC" (container.ts), then float32 values in the order the header lists them: the
 * translation histogram, the target prior, each scale hypothesis's histogram, and with votes each source
 * cell's vote scale; then the votes' uint8 codes, source-cell-major, padded to 4 bytes.
 */
import { padded, readContainer, writeContainer } from './container';
import type { HoughHistogram, PairConsensus, ScaledHistograms } from './consensus';
import { MMNetError } from './errors';
import type { Grid } from './matching';

const FORMAT = { magic: 'MMNC', version: 1, what: 'consensus file' };
const VOTE_CODES = 255;

type HistogramShape = { scale: number; height: number; width: number; originY: number; originX: number };

interface Header {
  /** The constants it was computed with (the matcher's cache key): another matcher's constants refuse it. */
  key: string;
  grid: Grid;
  peak: number;
  explained: number;
  bins: number;
  cells: number;
  scaled?: Omit<ScaledHistograms, 'histograms'> & { histograms: HistogramShape[] };
  /** The votes [S, T] (S = T = `cells`) are stored. */
  votes: boolean;
}

/** The float32 values: histograms and prior, then with votes one scale per source cell. */
const valueCount = ({ bins, cells, scaled, votes }: Header) =>
  bins + cells + (scaled?.histograms.reduce((sum, h) => sum + h.height * h.width, 0) ?? 0) + (votes ? cells : 0);
const bodyBytes = (header: Header) => 4 * valueCount(header) + (header.votes ? padded(header.cells * header.cells) : 0);

/** Per source cell (a row of `cells` votes, all ≥ 0): its scale and uint8 codes. */
function quantizeVotes(votes: Float32Array, cells: number): { scales: Float32Array; codes: Uint8Array } {
  const scales = Float32Array.from(
    { length: cells },
    (_, s) => votes.subarray(s * cells, (s + 1) * cells).reduce((a, b) => Math.max(a, b), 0) / VOTE_CODES,
  );
  const codes = Uint8Array.from(votes, (v, k) => {
    const scale = scales[Math.floor(k / cells)];
    return scale > 0 ? Math.round(v / scale) : 0;
  });
  return { scales, codes };
}

/**
 * The file of a pair's plain geometry, computed with the constants `key` names; `withVotes`: its votes too
 * (the consensus must hold them).
 */
export function serializeConsensus({ plain, grid }: PairConsensus, key: string, withVotes = false): Uint8Array {
  const { data, peak, explained, targetPrior, scaled } = plain;
  if (withVotes && !plain.votes) throw new MMNetError('bad-argument', 'this consensus holds no votes');
  const votes = withVotes ? quantizeVotes(plain.votes!, targetPrior.length) : undefined;
  const header: Header = {
    key,
    grid,
    peak,
    explained,
    bins: data.length,
    cells: targetPrior.length,
    scaled: scaled && { ...scaled, histograms: scaled.histograms.map(({ data: _, ...shape }) => shape) },
    votes: withVotes,
  };
  const { bytes, bodyStart } = writeContainer(FORMAT, header, bodyBytes(header));
  const values = new Float32Array(bytes.buffer, bodyStart, valueCount(header));
  let offset = 0;
  for (const part of [data, targetPrior, ...(scaled?.histograms.map((h) => h.data) ?? []), ...(votes ? [votes.scales] : [])]) {
    values.set(part, offset);
    offset += part.length;
  }
  if (votes) bytes.set(votes.codes, bodyStart + 4 * valueCount(header));
  return bytes;
}

/** The pair's consensus and the key of its constants, from a file's bytes. */
export function readConsensus(bytes: ArrayBuffer | Uint8Array): { key: string; consensus: PairConsensus } {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const { header, bodyStart } = readContainer(data, FORMAT, bodyBytes);
  const codesStart = bodyStart + 4 * valueCount(header);
  // A copy: the file's bytes need not be aligned for a float32 view.
  const values = new Float32Array(data.slice(bodyStart, codesStart).buffer);
  let offset = 0;
  const next = (length: number) => values.subarray(offset, (offset += length));
  const plain: HoughHistogram = {
    data: next(header.bins),
    peak: header.peak,
    explained: header.explained,
    targetPrior: next(header.cells),
    scaled: header.scaled && {
      ...header.scaled,
      histograms: header.scaled.histograms.map((h) => ({ ...h, data: next(h.height * h.width) })),
    },
  };
  if (header.votes) {
    const { cells } = header;
    const scales = next(cells);
    plain.votes = Float32Array.from(
      data.subarray(codesStart, codesStart + cells * cells),
      (code, k) => code * scales[Math.floor(k / cells)],
    );
  }
  return { key: header.key, consensus: { plain, mirrored: plain, grid: header.grid } };
}
