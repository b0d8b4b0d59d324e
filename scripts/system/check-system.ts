/**
 * `npm test`'s pretest: what the suite needs beyond npm, as Debian packages. Playwright drives Debian's
 * chromium, the training smoke test imports torch, numpy and PIL in /usr/bin/python3, and WebGPU in Node
 * (src/model/node/webgpu.ts) runs on Mesa's lavapipe Vulkan driver, which Dawn accepts from Mesa 24 on (Debian
 * 12 ships 22.3; bookworm-backports has 25).
 *
 * Run as root, it installs what is missing with apt-get and says so on stderr; otherwise it prints the exact
 * `sudo` lines and exits 1. `--dry-run` prints the plan (as for a non-root user) and exits 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
export const PYTHON = process.env.MMNET_PYTHON ?? '/usr/bin/python3';
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
/** The oldest Mesa whose lavapipe Dawn accepts. */
export const MIN_MESA_MAJOR = 24;
export const BACKPORTS_SOURCE_FILE = '/etc/apt/sources.list.d/backports.sources';
export const BACKPORTS_SOURCE = [
  'Types: deb',
  'URIs: http://deb.debian.org/debian',
  'Suites: bookworm-backports',
  'Components: main',
  'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
];
const PYTHON_MODULES = ['torch', 'numpy', 'PIL'] as const;
type PythonModule = (typeof PYTHON_MODULES)[number];

/** What the machine has, as probed (`probeSystem`) or made up by a test. */
export interface SystemFacts {
  /** /etc/os-release; undefined where there is none. */
  os?: { id?: string; versionId?: string; codename?: string; prettyName?: string };
  root: boolean;
  chromium: boolean;
  /** Modules PYTHON finds; false for all when there is no PYTHON. */
  python: Record<PythonModule, boolean>;
  lavapipeIcd: boolean;
  /** The installed `mesa-vulkan-drivers` version (dpkg), if any. */
  mesaVersion?: string;
  /** Some apt source already names bookworm-backports. */
  backportsSource: boolean;
}

interface Need {
  pkg: string;
  why: string;
  met: (f: SystemFacts) => boolean;
}

const NEEDS: Need[] = [
  { pkg: 'chromium', why: `the browser Playwright drives (${CHROMIUM})`, met: (f) => f.chromium },
  { pkg: 'python3-torch', why: `torch for the training smoke test (${PYTHON})`, met: (f) => f.python.torch },
  { pkg: 'python3-numpy', why: `numpy for the training smoke test`, met: (f) => f.python.numpy },
  { pkg: 'python3-pil', why: `PIL for the training smoke test`, met: (f) => f.python.PIL },
  {
    pkg: 'mesa-vulkan-drivers',
    why: `Mesa ≥ ${MIN_MESA_MAJOR} lavapipe (${LAVAPIPE_ICD}), the Vulkan CPU driver for WebGPU in Node`,
    // Without dpkg's record (not Debian) the ICD file is all there is to go by.
    met: (f) => f.lavapipeIcd && ((f.mesaVersion === undefined && f.os?.id !== 'debian') || mesaMajor(f.mesaVersion) >= MIN_MESA_MAJOR),
  },
];

/** One thing to do as root: write the backports apt source, or run apt-get with these arguments. */
export type Step = { kind: 'backports-source' } | { kind: 'apt-get'; args: string[] };

export type Plan =
  | { kind: 'ok' }
  /** `missing`: what is absent and why it is needed; `steps` install it. */
  | { kind: 'install'; missing: string[]; steps: Step[] }
  /** Not a system this script knows how to set up: what is missing and what to do instead. */
  | { kind: 'unsupported'; missing: string[]; reason: string };

/** "25.0.7-2~bpo12+1" → 25; NaN when unknown. */
export function mesaMajor(version: string | undefined): number {
  const match = version?.match(/^(?:\d+:)?(\d+)\./);
  return match ? Number(match[1]) : NaN;
}

/** What to install, and how, given what the machine has. */
export function plan(facts: SystemFacts): Plan {
  const unmet = NEEDS.filter((n) => !n.met(facts));
  if (unmet.length === 0) return { kind: 'ok' };
  const missing = unmet.map(
    (n) => `${n.pkg}: ${n.why}${n.pkg === 'mesa-vulkan-drivers' && facts.mesaVersion ? `; ${facts.mesaVersion} is installed` : ''}`,
  );

  const { id, versionId, codename, prettyName } = facts.os ?? {};
  const name = prettyName ?? id ?? 'this system (no /etc/os-release)';
  if (id !== 'debian') {
    return { kind: 'unsupported', missing, reason: `${name} is not Debian: install the equivalents of these Debian packages by hand` };
  }
  // testing and sid have no VERSION_ID; they are newer than bookworm.
  const release = versionId === undefined ? Infinity : Number(versionId);
  if (!(release >= 12)) {
    return { kind: 'unsupported', missing, reason: `${name} is too old: npm test's packages need Debian 12 (bookworm) or later` };
  }

  // Only bookworm needs backports, and only for Mesa; later releases carry Mesa ≥ 24 in main.
  const fromBackports = release === 12 || codename === 'bookworm';
  const main = unmet.map((n) => n.pkg).filter((pkg) => !(fromBackports && pkg === 'mesa-vulkan-drivers'));
  const backports = fromBackports && main.length < unmet.length;
  const steps: Step[] = [];
  if (backports && !facts.backportsSource) steps.push({ kind: 'backports-source' });
  steps.push({ kind: 'apt-get', args: ['update'] });
  if (main.length) steps.push({ kind: 'apt-get', args: ['install', '-y', ...main] });
  if (backports) steps.push({ kind: 'apt-get', args: ['install', '-y', '-t', 'bookworm-backports', 'mesa-vulkan-drivers'] });
  return { kind: 'install', missing, steps };
}

/** A step as a shell line a non-root user can paste. */
export function shellLine(step: Step): string {
  if (step.kind === 'apt-get') return `sudo apt-get ${step.args.join(' ')}`;
  return `printf '%s\\n' ${BACKPORTS_SOURCE.map((l) => `'${l}'`).join(' ')} | sudo tee ${BACKPORTS_SOURCE_FILE} > /dev/null`;
}

/** The message for a user who must install by hand. */
export function instructions(p: Exclude<Plan, { kind: 'ok' }>): string {
  const lines = ['npm test needs system packages that are missing:', ...p.missing.map((m) => `  - ${m}`)];
  if (p.kind === 'unsupported') lines.push(p.reason + '.');
  else
    lines.push('Install them (as root, npm test does this itself), then run npm test again:', ...p.steps.map((s) => `  ${shellLine(s)}`));
  return lines.join('\n');
}

export function probeSystem(): SystemFacts {
  return {
    os: readOsRelease(),
    root: process.getuid?.() === 0,
    chromium: existsSync(CHROMIUM),
    python: pythonModules(),
    lavapipeIcd: existsSync(LAVAPIPE_ICD),
    mesaVersion: installedVersion('mesa-vulkan-drivers'),
    backportsSource: hasBackportsSource(),
  };
}

function readOsRelease(): SystemFacts['os'] {
  let text: string;
  try {
    text = readFileSync('/etc/os-release', 'utf8');
  } catch {
    return undefined;
  }
  const fields = Object.fromEntries(
    text.split('\n').flatMap((line) => {
      const m = line.match(/^([A-Z_]+)=(.*)$/);
      return m ? [[m[1], m[2].replace(/^(["'])(.*)\1$/, '$2')]] : [];
    }),
  );
  return { id: fields.ID, versionId: fields.VERSION_ID, codename: fields.VERSION_CODENAME, prettyName: fields.PRETTY_NAME };
}

function pythonModules(): SystemFacts['python'] {
  // find_spec locates a module without importing it (importing torch takes seconds).
  const script = `import importlib.util, json; print(json.dumps({m: importlib.util.find_spec(m) is not None for m in ${JSON.stringify(PYTHON_MODULES)}}))`;
  const run = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
  const none = Object.fromEntries(PYTHON_MODULES.map((m) => [m, false])) as SystemFacts['python'];
  return run.status === 0 ? { ...none, ...(JSON.parse(run.stdout) as SystemFacts['python']) } : none;
}

function installedVersion(pkg: string): string | undefined {
  const run = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Abbrev}${Version}', pkg], { encoding: 'utf8' });
  // "ii " then the version: installed; anything else (removed, config files only) is not.
  return run.status === 0 && run.stdout.startsWith('ii ') ? run.stdout.slice(3).trim() : undefined;
}

function hasBackportsSource(): boolean {
  const dir = '/etc/apt/sources.list.d';
  const files = [
    '/etc/apt/sources.list',
    ...(existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.(list|sources)$/.test(f))
          .map((f) => join(dir, f))
      : []),
  ];
  return files.some((file) => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => !line.trimStart().startsWith('#') && line.includes('bookworm-backports'));
    } catch {
      return false;
    }
  });
}

function install(steps: Step[]): void {
  for (const step of steps) {
    if (step.kind === 'backports-source') {
      console.error(`check-system: adding the bookworm-backports apt source (${BACKPORTS_SOURCE_FILE})`);
      writeFileSync(BACKPORTS_SOURCE_FILE, BACKPORTS_SOURCE.join('\n') + '\n');
    } else {
      console.error(`check-system: apt-get ${step.args.join(' ')}`);
      execFileSync('apt-get', step.args, {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
  }
}

function main(): number {
  const dryRun = process.argv.includes('--dry-run');
  const facts = probeSystem();
  const p = plan(facts);
  if (p.kind === 'ok') {
    if (dryRun) console.error('check-system: everything npm test needs outside npm is installed');
    return 0;
  }
  if (dryRun || !facts.root || p.kind === 'unsupported') {
    console.error(instructions(p));
    return dryRun ? 0 : 1;
  }
  console.error(`check-system: running as root, installing what npm test needs:\n${p.missing.map((m) => `  - ${m}`).join('\n')}`);
  try {
    install(p.steps);
  } catch (e) {
    console.error(`check-system: installing failed (${(e as Error).message.split('\n')[0]})`);
    return 1;
  }
  const after = plan(probeSystem());
  if (after.kind === 'ok') return 0;
  console.error(`check-system: still missing after apt-get:\n${after.missing.map((m) => `  - ${m}`).join('\n')}`);
  return 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
