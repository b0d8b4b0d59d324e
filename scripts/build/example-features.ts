/**
 * The examples' features, computed with the built model and written beside it (`featuresPath`), so the
 * app's first screen answers clicks before the weights arrive. Run by `npm run models` after the model;
 * redone when the model, the photos or the file format change.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { featuresPath } from '../../src/app/examples/files';
import { serializeFeatures } from '../../src/model/feature-file';
import { loadNodeModel, readJpeg } from '../../src/model/node/io';
import { REPO_ROOT } from '../../src/model/testing/paths';
import { CALTECH_DIR, examplePhotos, photoName } from './example-pairs';

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
