/** A perceptual colour map (viridis, 9 stops interpolated to 256) as a lookup table, built once. */
const STOPS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** RGB of level 0–255 at `3 * level`. */
export const VIRIDIS = new Uint8Array(256 * 3);
for (let level = 0; level < 256; level++) {
  const t = (level / 255) * (STOPS.length - 1);
  const k = Math.min(Math.floor(t), STOPS.length - 2);
  const f = t - k;
  for (let c = 0; c < 3; c++) VIRIDIS[3 * level + c] = Math.round(STOPS[k][c] * (1 - f) + STOPS[k + 1][c] * f);
}

/** Decades of probability the heat map's fixed scale spans: 0.1 % (dark) to 100 % (bright). */
const HEAT_DECADES = 3;

/**
 * A heat-map probability as a colour level in [0, 1], on one absolute log scale for every match (a flat,
 * uncertain row stays dark instead of being stretched to its own peak).
 */
export const probabilityLevel = (probability: number) =>
  Math.min(Math.max(1 + Math.log10(Math.max(probability, 1e-9)) / HEAT_DECADES, 0), 1);

/** The heat legend's ends: the probabilities of level 0 and level 1. */
export const HEAT_RANGE = { from: `${10 ** -HEAT_DECADES * 100} %`, to: '100 %' };

/** The colour map as a CSS gradient, for the legend. */
export const heatGradientCss = `linear-gradient(to right, ${STOPS.map((c) => `rgb(${c.join(',')})`).join(', ')})`;
