/**
 * Which matches the dense views show: those the calibrated confidence calls likely right. Background cells
 * rarely are, which is what keeps the views on the object.
 */
import type { Correspondence } from '../protocol';

export const isConfident = (c: Pick<Correspondence, 'band'>): boolean => c.band === 'likely';
