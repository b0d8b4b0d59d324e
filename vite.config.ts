import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  // Relative URLs: the built site works from any sub-path (e.g. /demos/mmnet/).
  base: './',
  plugins: [react()],
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // The wasm backend is single-threaded; parallel files would only fight over 2 cores.
    fileParallelism: false,
  },
});
