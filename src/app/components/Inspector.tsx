import type { Point } from '../../model/index';
import type { QueryResult, Side } from '../protocol';
import { deletePin, selectPin, shownQuery, useStore } from '../store';

const xy = (p: Point) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;

/** The answer to the shown query (hover or selected pin) and the list of pins. */
export function Inspector() {
  return (
    <div className="inspector">
      <Readout />
      <PinList />
    </div>
  );
}

function Readout() {
  const query = useStore(shownQuery);
  const result = query?.result;
  if (!query || !result) {
    return <p className="readout muted">Click the source (or the target, for the reverse direction) to place a pin.</p>;
  }
  return (
    <p className="readout" data-testid="readout" data-side={query.side} data-query={xy(query.point)} data-match={xy(result.match)}>
      <Direction side={query.side} /> ({xy(query.point)}) → ({xy(result.match)}) · <Confidence result={result} />
    </p>
  );
}

function Direction({ side }: { side: Side }) {
  return <span className="direction">{side === 'source' ? 'source → target' : 'target → source'}</span>;
}

function Confidence({ result }: { result: QueryResult }) {
  return (
    <span className={result.consistent ? 'confidence' : 'confidence inconsistent'}>
      p = {(100 * result.probability).toFixed(1)} % · back {result.backError.toFixed(1)} px{' '}
      {result.consistent ? '✓ consistent' : '⚠ lands far from the pin when matched back'}
    </span>
  );
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
          className={pin.id === selected ? 'selected' : undefined}
          onClick={() => selectPin(pin.id)}
        >
          <span className="swatch" style={{ background: pin.color }} />
          <Direction side={pin.side} /> ({xy(pin.point)}) → {pin.result ? `(${xy(pin.result.match)})` : '…'}{' '}
          {pin.result && <Confidence result={pin.result} />}
          <button type="button" className="link" aria-label={`Delete pin ${pin.id}`} onClick={() => deletePin(pin.id)}>
            ✕
          </button>
        </li>
      ))}
    </ol>
  );
}
