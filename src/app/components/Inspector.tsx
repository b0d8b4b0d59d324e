import type { Point } from '../../model/index';
import { confidenceText, percent } from '../confidence/bands';
import { ConfidenceBadge, ConfidenceLegend } from '../confidence/Confidence';
import { inkOn } from '../draw';
import { gridShown, useGallery } from '../gallery/gallery';
import type { QueryResult, Side } from '../protocol';
import { deletePin, pinLabel, renamePin, selectedPin, selectPin, shownQuery, useStore, type Pin } from '../store';
import { waitingHint } from './loading';

export const xy = (p: Point) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;
const towards = (side: Side) => (side === 'source' ? 'source → target' : 'target → source');

/** One line: the answer to the shown query (hover or selected pin) in words, then the pins as chips. */
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
  const waiting = useStore((s) => (s.selectedPin !== null && !selectedPin(s)?.result ? waitingHint(s) : undefined));
  const grid = useGallery(gridShown);
  const pin = useStore((s) => (s.hoverMode && s.hover?.result ? undefined : s.pins.find((p) => p.id === s.selectedPin)));
  const result = query?.result;
  if (!query || !result) {
    return (
      <p className="readout muted" data-testid="hint">
        {waiting ??
          (grid
            ? 'Click a point of the source: the pin is carried onto every target.'
            : 'Click either photo to find that point in the other.')}
      </p>
    );
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
      {pin ? <PinBadge pin={pin} /> : <span className="badge hover">pointer</span>}
      {pin && <strong className="readout-name">{pinLabel(pin)}</strong>}
      <span className="direction">{towards(query.side)}</span>
      <Confidence result={result} />
    </p>
  );
}

/** The calibrated confidence and the forward–backward check, in words. */
function Confidence({ result }: { result: QueryResult }) {
  return (
    <span className={result.consistent ? 'confidence' : 'confidence inconsistent'}>
      <ConfidenceBadge match={result} />
      <span
        className="metric"
        title={`Forward–backward check: matched back, the match lands ${result.backError.toFixed(1)} px from the query`}
      >
        {result.consistent ? '✓ consistent: matches back onto the point' : '⚠ doubtful: matched back, it lands elsewhere'}
      </span>
      {result.mirrored && (
        <span
          className="metric"
          data-testid="mirrored"
          title="The objects face opposite ways: the other image was matched as its mirror image"
        >
          ↔ matched mirrored
        </span>
      )}
    </span>
  );
}

/** The pin's colour with its number, as drawn on the images. */
function PinBadge({ pin }: { pin: Pin }) {
  return (
    <span className="badge" style={{ background: pin.color, color: inkOn(pin.color) }} aria-hidden>
      {pin.id}
    </span>
  );
}

/** What a pin's chip says in full (to screen readers and in its tooltip). */
function describe(pin: Pin): string {
  const answer = pin.result
    ? `→ (${xy(pin.result.match)}): ${confidenceText(pin.result)} · heat-map peak p = ${(100 * pin.result.probability).toFixed(1)} % · ` +
      `${pin.result.consistent ? 'consistent' : 'doubtful'}${pin.result.mirrored ? ', matched mirrored' : ''}`
    : 'not matched yet';
  return `${pinLabel(pin)} (${towards(pin.side)}) ${answer}`;
}

/** Every pin as a chip: select it, name it, delete it. The list scrolls; none is ever out of reach. */
function PinList() {
  const pins = useStore((s) => s.pins);
  const selected = useStore((s) => s.selectedPin);
  if (pins.length === 0) return null;
  return (
    <ol className="pins" aria-label="Pins" data-testid="pins">
      {pins.map((pin) => (
        <li
          key={pin.id}
          data-testid="pin"
          data-id={pin.id}
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
            <PinBadge pin={pin} />
            {pin.result && (
              <span aria-hidden className={pin.result.consistent ? undefined : 'warning'}>
                {percent(pin.result.confidence)}
                {!pin.result.consistent && ' ⚠'}
              </span>
            )}
            <span className="sr-only">Select {describe(pin)}</span>
          </button>
          <input
            className="chip-name"
            value={pin.name}
            placeholder={`pin ${pin.id}`}
            aria-label={`Name of pin ${pin.id}`}
            spellCheck={false}
            style={{ width: `${Math.max(pinLabel(pin).length, 5) + 1}ch` }}
            onFocus={() => selectPin(pin.id)}
            onChange={(e) => renamePin(pin.id, e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()}
          />
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
