import type { Point } from '../../model/index';
import { confidenceText, percent } from '../confidence/bands';
import { ConfidenceBadge, ConfidenceLegend } from '../confidence/Confidence';
import type { QueryResult, Side } from '../protocol';
import { deletePin, selectPin, shownQuery, useStore, type Pin } from '../store';

const xy = (p: Point) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;

/** One line: the answer to the shown query (hover or selected pin), then the pins as chips. */
export function Inspector() {
  return (
    <div className="inspector">
      <Readout />
      <PinList />
      <ConfidenceLegend />
    </div>
  );
}

function Readout() {
  const query = useStore(shownQuery);
  const color = useStore((s) => (s.hoverMode && s.hover?.result ? undefined : s.pins.find((p) => p.id === s.selectedPin)?.color));
  const result = query?.result;
  if (!query || !result) {
    return <p className="readout muted">Click the source (or the target, for the reverse direction) to place a pin.</p>;
  }
  return (
    <p
      className="readout"
      data-testid="readout"
      data-side={query.side}
      // The query the shown match answers: while hovering, the pointer may already be elsewhere.
      data-query={xy(result.query)}
      data-match={xy(result.match)}
    >
      {color && <span className="swatch" style={{ background: color }} />}
      <Direction side={query.side} />{' '}
      <span className="coords">
        ({xy(query.point)}) → ({xy(result.match)})
      </span>
      <Confidence result={result} />
    </p>
  );
}

function Direction({ side }: { side: Side }) {
  return <span className="direction">{side === 'source' ? 'source → target' : 'target → source'}</span>;
}

/** The calibrated confidence and the forward–backward check. */
function Confidence({ result }: { result: QueryResult }) {
  return (
    <span className={result.consistent ? 'confidence' : 'confidence inconsistent'}>
      <ConfidenceBadge match={result} />
      <span className="metric" title="Forward–backward check: how far the match, matched back, lands from the query">
        back {result.backError.toFixed(1)} px {result.consistent ? '✓ consistent' : '⚠ lands far from the pin when matched back'}
      </span>
    </span>
  );
}

/** What a pin's chip says in full (to screen readers and in its tooltip). */
function describe(pin: Pin): string {
  const direction = pin.side === 'source' ? 'source → target' : 'target → source';
  const answer = pin.result
    ? `(${xy(pin.result.match)}) · ${confidenceText(pin.result)} · peak p = ${(100 * pin.result.probability).toFixed(1)} % · back ${pin.result.backError.toFixed(1)} px ${pin.result.consistent ? '✓ consistent' : '⚠ inconsistent'}`
    : '…';
  return `Pin ${pin.id}: ${direction} (${xy(pin.point)}) → ${answer}`;
}

function PinList() {
  const pins = useStore((s) => s.pins);
  const selected = useStore((s) => s.selectedPin);
  if (pins.length === 0) return null;
  return (
    <ol className="pins" aria-label="Pins">
      {pins.map((pin) => (
        <li
          key={pin.id}
          data-testid="pin"
          data-side={pin.side}
          data-query={xy(pin.point)}
          data-match={pin.result ? xy(pin.result.match) : ''}
          data-band={pin.result?.band}
          className={pin.id === selected ? 'chip selected' : 'chip'}
        >
          <button
            type="button"
            className="chip-select"
            title={describe(pin)}
            aria-pressed={pin.id === selected}
            onClick={() => selectPin(pin.id)}
          >
            <span className="swatch" style={{ background: pin.color }} />
            <span aria-hidden>
              {pin.result ? percent(pin.result.confidence) : '…'}
              {pin.result && !pin.result.consistent && ' ⚠'}
            </span>
            <span className="sr-only">{describe(pin)}</span>
          </button>
          <button
            type="button"
            className="link chip-delete"
            aria-label={`Delete pin ${pin.id}`}
            title="Delete this pin"
            onClick={() => deletePin(pin.id)}
          >
            ✕
          </button>
        </li>
      ))}
    </ol>
  );
}
