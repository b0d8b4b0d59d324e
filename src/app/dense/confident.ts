/**
 * Which matches the dense views show. Until a calibrated `confidence` comes with every match, the
 * forward–backward check stands in for it: a match that lands back on its query (within the PCK@0.05
 * radius) is kept. Background cells rarely pass it, which is what keeps the views on the object.
 * Switching to the calibrated value is this one line.
 */
import type { Correspondence } from '../protocol';

export const isConfident = (c: Correspondence): boolean => c.consistent;
