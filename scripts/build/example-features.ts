/**
 * The examples' features, computed with the built model and written beside it (`featuresPath`), so the
 * app's first screen answers clicks before the weights arrive. Run by `npm run models` after the model;
 * redone when the model, the photos or the file format change.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bandsOf } from '../../src/app/confidence/bands';
import { toCorrespondence, toEncoded } from '../../src/app/correspondence';
import { consensusPath, featuresPath, firstMatchesPath, type ExamplePair, type FirstMatches } from '../../src/app/examples/files';
import { DEFAULT_SETTINGS } from '../../src/app/protocol';
import { selectBackend } from '../../src/model/backend';
import { readFeatures, serializeFeatures } from '../../src/model/feature-file';
import { Matcher } from '../../src/model/matcher';
import { fileFetch, loadNodeModel, modelUrl, readJpeg } from '../../src/model/node/io';
import { REPO_ROOT } from '../../src/model/testing/paths';
import { loadMetadata } from '../../src/model/download';
import { CALTECH_DIR, EXAMPLES, examplePhotos, photoName } from './example-pairs';

/** The file of a photo's features under the site's root (`public/`). */
export const featuresFile = (photo: string) => join(REPO_ROOT, 'public', featuresPath(photo));

export async function buildExampleFeatures(modelDir: string): Promise<void> {
  if (!existsSync(CALTECH_DIR)) return console.warn(`example features: ${CALTECH_DIR} not found; none built`);
  const photos = examplePhotos();
  const keyFile = join(dirname(featuresFile('x')), 'key');
  const hash = createHash('sha256').update(readFileSync(join(modelDir, 'model.json')));
  hash.update(readFileSync(join(REPO_ROOT, 'src/model/feature-file.ts')));
  for (const [category, file] of photos) hash.update(`${category}/${file}:`).update(readFileSync(join(CALTECH_DIR, category, file)));
  const key = hash.digest('hex');
  const current = existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key;
  if (current && photos.every(([c, f]) => existsSync(featuresFile(photoName(c, f))))) {
    return console.log('npm run models: example features are up to date');
  }

  rmSync(dirname(keyFile), { recursive: true, force: true });
  mkdirSync(dirname(keyFile), { recursive: true });
  const model = await loadNodeModel(modelDir);
  let largest = 0;
  try {
    for (const [category, file] of photos) {
      const features = await model.encode(readJpeg(join(CALTECH_DIR, category, file)));
      const bytes = await serializeFeatures(features);
      features.dispose();
      writeFileSync(featuresFile(photoName(category, file)), bytes);
      largest = Math.max(largest, bytes.byteLength);
    }
  } finally {
    model.dispose();
  }
  writeFileSync(keyFile, key);
  console.log(`npm run models: features of ${photos.length} example photos (≤ ${(largest / 1024).toFixed(0)} KiB each)`);
}

/**
 * Each example pair's pins matched on the shipped features, as the page's worker first matches them: the
 * model's metadata (no weights), the panes' default settings, no mirror rule; and the pair's consensus both
 * ways, which that matching computed. Cheap, so always redone.
 */
export async function buildFirstMatches(modelDir: string): Promise<void> {
  if (!existsSync(CALTECH_DIR)) return;
  const matcher = await exampleMatcher(modelDir);
  for (const example of EXAMPLES) {
    const { source, target } = pairOf(example);
    const { first, consensus } = await pairFiles(example, matcher);
    writeFileSync(join(REPO_ROOT, 'public', firstMatchesPath(pairOf(example))), JSON.stringify(first));
    writeFileSync(join(REPO_ROOT, 'public', consensusPath(source, target)), consensus.forward);
    writeFileSync(join(REPO_ROOT, 'public', consensusPath(target, source)), consensus.backward);
  }
  console.log(`npm run models: first matches of ${EXAMPLES.length} example pairs`);
}

/** Matching with the built model's constants, on the backend the page's worker reads features with first. */
export async function exampleMatcher(modelDir: string): Promise<Matcher> {
  await selectBackend({ backend: 'wasm' });
  return new Matcher(await loadMetadata(modelUrl(modelDir), { fetch: fileFetch }));
}

/** The pair's photo names in the site's `examples/`. */
export const pairOf = (example: ExamplePair) => ({
  source: photoName(example.category, example.source),
  target: photoName(example.category, example.target),
});

/**
 * The example's pins matched on its shipped features (written by `buildExampleFeatures`), and the pair's
 * consensus that matching computed, source to target (`forward`) and back (the backward check's).
 */
export async function pairFiles(
  example: ExamplePair,
  matcher: Matcher,
): Promise<{ first: FirstMatches; consensus: { forward: Uint8Array; backward: Uint8Array } }> {
  const images = await Promise.all(
    [example.source, example.target].map((file) =>
      readFeatures(readFileSync(featuresFile(photoName(example.category, file))), readJpeg(join(CALTECH_DIR, example.category, file))),
    ),
  );
  try {
    const [from, to] = images.map((features) => ({ width: features.width, height: features.height, features }));
    const points = example.pins.map((p) => toEncoded(p, from));
    const [found] = await matcher.matchMany([{ source: from.features, target: to.features, points }], {
      ...DEFAULT_SETTINGS,
      mirror: false,
    });
    return {
      first: {
        settings: DEFAULT_SETTINGS,
        matches: found.map((match, n) => toCorrespondence(match, example.pins[n], from, to, bandsOf(matcher.metadata))),
      },
      consensus: {
        forward: await matcher.consensusFile(from.features, to.features, true),
        backward: await matcher.consensusFile(to.features, from.features),
      },
    };
  } finally {
    for (const features of images) features.dispose();
  }
}
