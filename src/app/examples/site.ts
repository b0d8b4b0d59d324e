/**
 * The examples' files fetched from the site. The page's first view (src/app/first-paint/) and the app ask
 * for the same manifest, photos and first matches: each is fetched once a page, so the app finds them in.
 */
import { firstMatchesPath, MANIFEST_PATH, photoPath, type ExamplePair, type FirstMatches, type Manifest } from './files';

const siteUrl = (path: string) => new URL(path, document.baseURI);

const fetched = new Map<string, Promise<unknown>>();

/** `read` of the file at `path`, run once; later calls share its promise (a failed read is tried again). */
function once<T>(path: string, read: (url: URL) => Promise<T>): Promise<T> {
  let result = fetched.get(path) as Promise<T> | undefined;
  if (!result) {
    result = read(siteUrl(path));
    fetched.set(path, result);
    result.catch(() => fetched.delete(path));
  }
  return result;
}

/** The manifest, or null where the site was built without examples. */
export const loadManifest = (): Promise<Manifest | null> =>
  once(MANIFEST_PATH, (url) =>
    fetch(url)
      .then((r) => (r.ok ? (r.json() as Promise<Manifest>) : null))
      .catch(() => null),
  );

export const photoBlob = (photo: string): Promise<Blob> => once(photoPath(photo), (url) => fetch(url).then((r) => r.blob()));

/** The pair's build-time answers, or undefined where the site has none. */
export const firstMatchesOf = (pair: ExamplePair): Promise<FirstMatches | undefined> =>
  once(firstMatchesPath(pair), (url) =>
    fetch(url).then(
      (r) => (r.ok ? (r.json() as Promise<FirstMatches>) : undefined),
      () => undefined,
    ),
  );

/** A file's bytes (each call its own: they are handed to the worker), or undefined where it is missing. */
export const bytesOf = (path: string): Promise<ArrayBuffer | undefined> =>
  fetch(siteUrl(path)).then(
    (r) => (r.ok ? r.arrayBuffer() : undefined),
    () => undefined,
  );
