/**
 * A shadow configuration (behaviour.md §8.1) runs dataman beside the production data manager on
 * the same raw folders. It is refused at start when it could touch what production owns:
 *
 * - the production folders: every folder the shipped production configurations name (procDir,
 *   repoDir, logDir, stateDir, dropDir, nightLogDir, quickLookDir; config/dataman_MODSn.yaml,
 *   the same as the Python dataMan's ini files for the first four) and this configuration's own
 *   dataDir (azcam's raw folders);
 * - a shadow folder may be none of them, lie inside none of them and contain none of them
 *   (`/home/data/shadow` is inside `/home/data`; `/home` contains it);
 * - the UDP trigger (`server.udpTrigger`) must be off: the port is production's;
 * - ISIS (`isis.enabled`) must be off: the GUI would show the shadow's files.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from './config-error.js';

/** What the check reads of a configuration (config.ts's DatamanConfig has it). */
export interface ShadowSubject {
  readonly server: { readonly udpTrigger: boolean; readonly ipPort: number };
  readonly isis: { readonly enabled: boolean };
  readonly paths: { readonly dataDir: string } & { readonly [K in (typeof OUTPUT_KEYS)[number]]: string | undefined };
}

/** The folders of config/dataman_MODS1.yaml and dataman_MODS2.yaml (test/ops/shadow-config.test.ts checks). */
export const PRODUCTION_FOLDERS: readonly string[] = [
  '/home/data', '/lbt/data/new', '/home/Logs/dataMan', '/home/data/.dataman', '/home/data/dropbox', '/home/data/nightlogs',
  '/home/data/.dataman/quicklook',
];

/**
 * Other names of what production owns: `/newdata` is the LBTO's name for `/lbt/data/new` (a
 * link, deploy/INSTALL.md), `/data` the raw data root of the production configurations.
 */
export const PRODUCTION_ALIASES: readonly string[] = ['/newdata', '/data'];

/** The shadow's output folders, by their key. */
const OUTPUT_KEYS = ['procDir', 'repoDir', 'logDir', 'stateDir', 'dropDir', 'nightLogDir', 'quickLookDir'] as const;

export function checkShadow(config: ShadowSubject, file: string): void {
  if (config.server.udpTrigger) {
    throw new ConfigError(`${file}: server.udpTrigger: a shadow configuration (shadow: Y) must not listen for triggers (port ${config.server.ipPort} is the production service's); set server.udpTrigger: N`);
  }
  if (config.isis.enabled) throw new ConfigError(`${file}: isis.enabled: a shadow configuration (shadow: Y) must not talk to ISIS; set isis.enabled: N`);
  const owned = [
    ...PRODUCTION_FOLDERS.map((f) => ({ folder: f, what: 'a production folder' })),
    { folder: config.paths.dataDir, what: 'the raw folder paths.dataDir' },
    ...PRODUCTION_ALIASES.map((f) => ({ folder: f, what: 'a production folder' })),
  ];
  for (const key of OUTPUT_KEYS) {
    const folder = config.paths[key];
    if (folder === undefined) continue;
    for (const o of owned) {
      const clash = overlap(folder, o.folder);
      if (clash !== undefined) {
        throw new ConfigError(`${file}: paths.${key}: ${folder} ${clash} ${o.what} (${o.folder}); a shadow configuration (shadow: Y) writes only outside what the production service owns`);
      }
    }
  }
}

/**
 * How `folder` overlaps `owned`: 'is', 'is inside' or 'contains'; undefined when apart. Compared
 * as written and with links followed (a shadow folder reached through a link into production is
 * production's).
 */
export function overlap(folder: string, owned: string): string | undefined {
  return overlapOf(resolve(folder), resolve(owned)) ?? overlapOf(realFolder(folder), realFolder(owned));
}

/** The folder with every link followed, as far as it exists (what is below that is kept as written). */
function realFolder(folder: string): string {
  const absolute = resolve(folder);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realFolder(parent), basename(absolute));
}

function overlapOf(a: string, b: string): string | undefined {
  if (a === b) return 'is';
  const inside = (x: string, y: string) => {
    const rel = relative(y, x);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  };
  if (inside(a, b)) return 'is inside';
  if (inside(b, a)) return 'contains';
  return undefined;
}
