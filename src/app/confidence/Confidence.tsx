/** The confidence as people read it: a badge in words and number, the legends, the "nothing here is sure" note. */
import { HEAT_RANGE, heatGradientCss } from '../colormap';
import type { Correspondence } from '../protocol';
import { useStore, type AppState } from '../store';
import { allUncertain, BAND_WORDS, bandRanges, confidenceText, UNCALIBRATED } from './bands';
import './confidence.css';

/** "likely right · 83 %", coloured by band. */
export function ConfidenceBadge({ match }: { match: Pick<Correspondence, 'confidence' | 'band' | 'probability'> }) {
  return (
    <span
      className={`confidence-badge band-${match.band}`}
      data-testid="confidence"
      data-band={match.band}
      data-confidence={match.confidence}
      title={`Calibrated chance that this match is right (heat-map peak ${(100 * match.probability).toFixed(1)} %)`}
    >
      {confidenceText(match)}
    </span>
  );
}

/** What the bands mean and how the heat map's colours read. */
export function ConfidenceLegend() {
  const bands = useStore((s) => s.model.bands ?? UNCALIBRATED);
  return (
    <div className="confidence-legend" data-testid="confidence-legend">
      <span
        className="legend-title"
        title="The chance that a match lands on the right part (within 10 % of the object's size), calibrated on held-out image pairs"
      >
        Confidence:
      </span>
      {bandRanges(bands).map(({ band, range }) => (
        <span key={band} className={`legend-band band-${band}`} title={`${BAND_WORDS[band]} ${range}`}>
          <span className="legend-mark" aria-hidden />
          {BAND_WORDS[band]} <span className="muted">{range}</span>
        </span>
      ))}
    </div>
  );
}

/** The heat map's colours, over the pane it is drawn in: one fixed log scale for every match. */
export function HeatLegend() {
  return (
    <span
      className="heat-legend"
      data-testid="heat-legend"
      title="Heat map: the probability of each cell, on one fixed log scale for every match"
    >
      {HEAT_RANGE.from}
      <span className="heat-bar" style={{ background: heatGradientCss }} aria-hidden />
      {HEAT_RANGE.to}
    </span>
  );
}

/** Every answer of the pair: the pins' and the dense grid's. */
const pairMatches = (s: AppState): Correspondence[] => [
  ...s.pins.flatMap((p) => (p.result ? [p.result] : [])),
  ...(s.dense && s.denseResult ? s.denseResult.matches : []),
];

/** Said once, when no match of the pair is likely right (unrelated photos, a photo and a flat image). */
export function UncertainPairNote() {
  const uncertain = useStore((s) => allUncertain(pairMatches(s)));
  if (!uncertain) return null;
  return (
    <p className="uncertain-pair" role="status" data-testid="uncertain-pair">
      None of these matches is likely right: the two images may not show the same kind of object. Read the arrows as guesses.
    </p>
  );
}
