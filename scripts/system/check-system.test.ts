import { describe, expect, it } from 'vitest';
import { instructions, mesaMajor, plan, shellLine, type SystemFacts } from './check-system';

const BOOKWORM = { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' };

/** A bookworm machine with everything npm test needs; each test takes something away. */
const complete = (changes: Partial<SystemFacts> = {}): SystemFacts => ({
  os: BOOKWORM,
  root: false,
  chromium: true,
  python: { torch: true, numpy: true, PIL: true },
  lavapipeIcd: true,
  mesaVersion: '25.0.7-2~bpo12+1',
  backportsSource: true,
  ...changes,
});

const lines = (facts: SystemFacts) => {
  const p = plan(facts);
  if (p.kind !== 'install') throw new Error(`expected an install plan, got ${p.kind}`);
  return p.steps.map(shellLine);
};

const SOURCE_LINE =
  "printf '%s\\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' 'Components: main' " +
  "'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' | sudo tee /etc/apt/sources.list.d/backports.sources > /dev/null";

describe('check-system', () => {
  it('asks for nothing when everything is there', () => {
    expect(plan(complete())).toEqual({ kind: 'ok' });
  });

  it('installs the missing Debian packages from main on bookworm', () => {
    expect(lines(complete({ chromium: false, python: { torch: false, numpy: false, PIL: true } }))).toEqual([
      'sudo apt-get update',
      'sudo apt-get install -y chromium python3-torch python3-numpy',
    ]);
  });

  it('takes Mesa from bookworm-backports, adding the apt source when there is none', () => {
    const bare = complete({ chromium: false, lavapipeIcd: false, mesaVersion: undefined, backportsSource: false });
    expect(lines(bare)).toEqual([
      SOURCE_LINE,
      'sudo apt-get update',
      'sudo apt-get install -y chromium',
      'sudo apt-get install -y -t bookworm-backports mesa-vulkan-drivers',
    ]);
    expect(lines({ ...bare, backportsSource: true })).not.toContain(SOURCE_LINE);
  });

  it("rejects bookworm's own Mesa 22.3 even though its lavapipe ICD file exists", () => {
    const old = complete({ mesaVersion: '22.3.6-1+deb12u2' });
    expect(lines(old)).toEqual(['sudo apt-get update', 'sudo apt-get install -y -t bookworm-backports mesa-vulkan-drivers']);
    const p = plan(old);
    expect(p.kind === 'install' && p.missing.join()).toContain('22.3.6-1+deb12u2 is installed');
  });

  it('takes Mesa from main after bookworm (trixie, and sid without VERSION_ID)', () => {
    const trixie = complete({
      os: { id: 'debian', versionId: '13', codename: 'trixie' },
      lavapipeIcd: false,
      mesaVersion: undefined,
      backportsSource: false,
    });
    expect(lines(trixie)).toEqual(['sudo apt-get update', 'sudo apt-get install -y mesa-vulkan-drivers']);
    expect(lines({ ...trixie, os: { id: 'debian', codename: 'sid' } })).toEqual(lines(trixie));
  });

  it('explains instead of installing on a system that is not Debian, or an old Debian', () => {
    const ubuntu = plan(
      complete({ os: { id: 'ubuntu', versionId: '24.04', prettyName: 'Ubuntu 24.04 LTS' }, chromium: false, root: true }),
    );
    expect(ubuntu.kind).toBe('unsupported');
    expect(instructions(ubuntu as Exclude<typeof ubuntu, { kind: 'ok' }>)).toMatch(/chromium[\s\S]*Ubuntu 24\.04 LTS is not Debian/);
    expect(plan(complete({ os: undefined, chromium: false })).kind).toBe('unsupported');
    const bullseye = plan(
      complete({ os: { id: 'debian', versionId: '11', prettyName: 'Debian GNU/Linux 11 (bullseye)' }, chromium: false }),
    );
    expect(bullseye.kind === 'unsupported' && bullseye.reason).toMatch(/too old.*Debian 12/);
  });

  it('needs nothing from a non-Debian system that already has everything', () => {
    expect(plan(complete({ os: { id: 'fedora' }, mesaVersion: undefined })).kind).toBe('ok');
    expect(plan(complete({ os: { id: 'fedora' }, mesaVersion: '22.3.6' })).kind).toBe('unsupported');
  });

  it('prints every missing package and the exact lines to run', () => {
    const p = plan(complete({ python: { torch: false, numpy: true, PIL: true } }));
    expect(p.kind).toBe('install');
    expect(instructions(p as Exclude<typeof p, { kind: 'ok' }>).split('\n')).toEqual([
      'npm test needs system packages that are missing:',
      expect.stringMatching(/^ {2}- python3-torch: /),
      'Install them (as root, npm test does this itself), then run npm test again:',
      '  sudo apt-get update',
      '  sudo apt-get install -y python3-torch',
    ]);
  });

  it('reads the Mesa major version from a Debian version string', () => {
    expect(mesaMajor('25.0.7-2~bpo12+1')).toBe(25);
    expect(mesaMajor('1:24.2.8-1')).toBe(24);
    expect(mesaMajor(undefined)).toBeNaN();
  });
});
