export { loadMMNet, MMNet, Features, type LoadOptions } from './mmnet';
export { selectBackend, BACKEND_ORDER } from './backend';
export { MMNetError, type MMNetErrorCode } from './errors';
export { toInput, toOriginal } from './image';
export type { ModelMetadata } from './weights';
export * from './constants';
export type * from './types';
