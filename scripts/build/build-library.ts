/**
 * Builds the package's `lib/` from `src/model/` (npm's `prepack`): ES modules and `.d.ts` types, by tsc
 * with `tsconfig.lib.json` (no tests, no test helpers, no Node glue). The sources import siblings without
 * extensions, as bundlers allow; Node's ESM loader and TypeScript's `node16` resolution do not, so every
 * relative specifier of the output is rewritten to the file it names (`./mmnet` → `./mmnet.js`,
 * `./kernels` → `./kernels/index.js`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../src/model/testing/paths';

const OUT = join(REPO_ROOT, 'lib');

/** `from './x'`, `import('./x')` and `export … from '../x'`: the specifier is group 2. */
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g;

/** The specifier with the file it resolves to, relative to the importing file's folder. */
function resolveSpecifier(specifier: string, folder: string): string {
  if (existsSync(join(folder, `${specifier}.js`))) return `${specifier}.js`;
  if (existsSync(join(folder, specifier, 'index.js'))) return `${specifier.replace(/\/$/, '')}/index.js`;
  throw new Error(`build-library: ${specifier} (imported in ${folder}) names no module of the output`);
}

function rewriteSpecifiers(file: string): void {
  const folder = dirname(file);
  const text = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    text.replace(
      RELATIVE_SPECIFIER,
      (_, before: string, quote: string, specifier: string) => before + quote + resolveSpecifier(specifier, folder) + quote,
    ),
  );
}

rmSync(OUT, { recursive: true, force: true });
execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(REPO_ROOT, 'tsconfig.lib.json')], {
  stdio: 'inherit',
});
const outputs = readdirSync(OUT, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'));
for (const file of outputs) rewriteSpecifiers(join(OUT, file));
console.log(`build-library: ${outputs.length} files → lib/`);
