/**
 * The dataman configuration (behaviour.md §8): YAML in, one validation pass, a frozen and fully
 * resolved object out. The reference `dataman_MODSn.ini` files load unchanged; everything added
 * since is optional with the defaults documented here. Relative paths are resolved against the
 * configuration file's folder, so the service does not depend on its working directory.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { ConfigError } from './config-error.js';
import { checkShadow } from './shadow.js';
import { Reader, type Raw } from './config-schema.js';
import {
  ALL_STEPS_ON, REFERENCE_DEFAULT_SENSORS, REFERENCE_SENSORS, STEP_NAMES, type StepSwitches, type TemperatureSensors,
} from '../steps/types.js';
import { LBT_SITE, type Site } from '../time/index.js';

export const MODS_CHANNELS = ['mods1b', 'mods1r', 'mods2b', 'mods2r'] as const;

/** `<chan>.<YYYYMMDD>.<NNNN>.fits` (raw-format.md §1.2). */
export const DEFAULT_RAW_NAME_PATTERN = '^(mods[12][br])\\.(\\d{8})\\.(\\d{4})\\.fits$';

export interface DatamanConfig {
  /** The file this was loaded from (undefined for built-in defaults). */
  readonly file: string | undefined;
  readonly server: {
    /** Address the UDP trigger listener binds to (the instrument server's own address). */
    readonly ipAddr: string;
    /** UDP port of the trigger listener. @default 10301 in the reference files */
    readonly ipPort: number;
    /** Whether a `quit` datagram stops the service. @default true */
    readonly allowQuit: boolean;
    /** Sender addresses or CIDR blocks allowed to send triggers; empty = anyone. @default [] */
    readonly allowFrom: readonly string[];
    /** Listen for UDP triggers on ipAddr:ipPort; off, the watcher alone finds the files (a shadow). @default true */
    readonly udpTrigger: boolean;
  };
  readonly paths: {
    /** Raw data root; each channel's raw files are in `<dataDir>/<chan>/`. */
    readonly dataDir: string;
    /** Processed files go to `<procDir>/<obsDate>/`. */
    readonly procDir: string;
    /** The archive's new-data folder (`/newdata`): processed copies and `<CHAN>.new`. */
    readonly repoDir: string;
    /** Log folder. */
    readonly logDir: string;
    /** Operator drop folder for reprocessing; absent = no drop folder. */
    readonly dropDir: string | undefined;
    /** The ledger's folder. @default `<procDir>/.dataman` */
    readonly stateDir: string;
    /** Night logs, `<YYYYMMDD>_<instrument>.txt` (OSU modsLog format). @default `<procDir>/nightlogs` */
    readonly nightLogDir: string;
    /** Latest quick-look PNG per channel, `<chan>.png`, for the status page. @default `<stateDir>/quicklook` */
    readonly quickLookDir: string;
  };
  /** Processing steps, in the reference's order. @default all on */
  readonly processing: Readonly<StepSwitches>;
  /** Log at debug level. @default false */
  readonly debug: boolean;
  /** Channel folders to watch under dataDir. @default all four MODS channels */
  readonly channels: readonly string[];
  readonly watch: {
    /** Poll the raw folders (inotify sees nothing on NFS). @default true */
    readonly usePolling: boolean;
    /** Poll interval in ms. @default 1000 */
    readonly intervalMs: number;
    /** Size and mtime must hold still this long before a file counts as complete, ms. @default 500 */
    readonly settleMs: number;
    /** A whole file without CONPARS is processed after this long, ms. @default 15000 */
    readonly noConparsGraceMs: number;
    /** A file still incomplete after this long is recorded as failed, ms. @default 120000 */
    readonly incompleteTimeoutMs: number;
    /** At start, catch up on raw files modified within this many hours. @default 36 */
    readonly catchUpHours: number;
    /** Regular expression raw file names must match. @default `<chan>.<YYYYMMDD>.<NNNN>.fits` */
    readonly namePattern: string;
  };
  readonly queue: {
    /** Files processed at the same time. @default 2 */
    readonly concurrency: number;
  };
  readonly delivery: {
    /** Write and verify CHECKSUM/DATASUM. @default true */
    readonly checksums: boolean;
    /** Mode of delivered files. @default 0o644 */
    readonly fileMode: number;
    /** Mode of created folders. @default 0o775 */
    readonly dirMode: number;
  };
  /** Observatory site for HJD/BJD. @default LBT: 32.70131 N, -109.88906 E, 3221 m */
  readonly site: Readonly<Site>;
  /** CONPARS rows of the CCD and base temperatures per INSTRUME. @default the reference's wiring */
  readonly sensors: Readonly<Record<string, TemperatureSensors>>;
  readonly defaultSensors: TemperatureSensors;
  /** IANA zone of the "local" clock (observing date, UNIQNAME). @default the host's */
  readonly timeZone: string | undefined;
  readonly http: {
    /** Serve the status page. @default true */
    readonly enabled: boolean;
    /** @default 127.0.0.1 */
    readonly host: string;
    /** @default 8080 */
    readonly port: number;
  };
  /** The optional ISIS (IMPv2.5) client of the caliban era (isis.md §3.4 item 6). @default off */
  readonly isis: IsisConfig | { readonly enabled: false };
  /**
   * A shadow instance beside the production service (behaviour.md §8.1): it must write nothing
   * the production service owns, listen for no trigger and have ISIS off. @default false
   */
  readonly shadow: boolean;
}

/** The ISIS client when it is switched on (`isis.enabled`). */
export interface IsisConfig {
  readonly enabled: true;
  /** This node's ISIS ID, 2–8 characters from A-Z 0-9 . _; the GUI's BDMHost/RDMHost, e.g. `M1.BD`. Required. */
  readonly node: string;
  /** Address of the ISIS server. Required. */
  readonly serverHost: string;
  /** UDP port of the ISIS server. @default 6600 */
  readonly serverPort: number;
  /** Address the node binds (and sends from). @default server.ipAddr */
  readonly localHost: string;
  /** The node's own fixed UDP port; ISIS replies to the port a node sends from. Required (0 picks a free one: tests only). */
  readonly localPort: number;
  /** Announce the node to the server again this often, ms. @default 60000 */
  readonly pingIntervalMs: number;
  /** Node to push `STATUS: delivered LASTFILE=<name>` to after each delivery (the GUI, `MC1`); absent = no push. */
  readonly guiNode: string | undefined;
  /** Channels this node reports (the GUI shows one node per channel). @default every watched channel */
  readonly channels: readonly string[];
}

const TOP_KEYS = ['server', 'paths', 'processing', 'debug', 'channels', 'watch', 'queue', 'delivery', 'site', 'sensors', 'timeZone', 'http', 'isis', 'shadow'] as const;

/** Reads and validates a configuration file. */
export async function loadConfig(path: string): Promise<DatamanConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(text, resolve(path));
}

/** Validates configuration text; `file` names it in messages and anchors relative paths. */
export function parseConfig(text: string, file: string): DatamanConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new ConfigError(`${file}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const r = new Reader(file);
  if (doc === null || doc === undefined) throw new ConfigError(`${file}: the configuration file is empty`);
  const top = r.section(doc, '', TOP_KEYS);
  const base = dirname(file);
  const path = (value: unknown, key: string, fallback?: string) => {
    const p = r.string(value, key, fallback);
    return isAbsolute(p) ? p : resolve(base, p);
  };

  const server = r.section(top.server, 'server', ['ipAddr', 'ipPort', 'allowQuit', 'allowFrom', 'udpTrigger']);
  const paths = r.section(top.paths, 'paths', ['dataDir', 'procDir', 'repoDir', 'logDir', 'dropDir', 'stateDir', 'nightLogDir', 'quickLookDir']);
  const processing = r.section(top.processing, 'processing', STEP_NAMES);
  const watch = r.section(top.watch, 'watch', ['usePolling', 'intervalMs', 'settleMs', 'noConparsGraceMs', 'incompleteTimeoutMs', 'catchUpHours', 'namePattern']);
  const queue = r.section(top.queue, 'queue', ['concurrency']);
  const delivery = r.section(top.delivery, 'delivery', ['checksums', 'fileMode', 'dirMode']);
  const site = r.section(top.site, 'site', ['latitude', 'longitude', 'height']);
  const http = r.section(top.http, 'http', ['enabled', 'host', 'port']);
  const isis = r.section(top.isis, 'isis', ['enabled', 'node', 'serverHost', 'serverPort', 'localHost', 'localPort', 'pingIntervalMs', 'guiNode', 'channels']);

  const procDir = path(paths.procDir, 'paths.procDir');
  const stateDir = paths.stateDir === undefined || paths.stateDir === null ? resolve(procDir, '.dataman') : path(paths.stateDir, 'paths.stateDir');
  const dropDir = paths.dropDir === undefined || paths.dropDir === null ? undefined : path(paths.dropDir, 'paths.dropDir');
  const channels = r.stringList(top.channels, 'channels', [...MODS_CHANNELS]);
  channels.forEach((c, i) => {
    if (!/^[a-z0-9_-]+$/i.test(c)) r.fail(`channels[${i}]`, 'a channel folder name such as mods1b', c);
  });
  const namePattern = r.string(watch.namePattern, 'watch.namePattern', DEFAULT_RAW_NAME_PATTERN);
  try {
    new RegExp(namePattern);
  } catch (err) {
    r.fail('watch.namePattern', `a regular expression (${(err as Error).message})`, namePattern);
  }
  const allowFrom = r.stringList(server.allowFrom, 'server.allowFrom', []);
  allowFrom.forEach((a, i) => {
    if (!isAddressOrCidr(a)) r.fail(`server.allowFrom[${i}]`, 'an IPv4/IPv6 address or CIDR block such as 192.168.139.0/24', a);
  });
  const timeZone = r.optionalString(top.timeZone, 'timeZone');
  if (timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      r.fail('timeZone', 'an IANA time zone such as America/Phoenix', timeZone);
    }
  }

  const config: DatamanConfig = {
    file,
    server: {
      ipAddr: r.string(server.ipAddr, 'server.ipAddr'),
      ipPort: r.integer(server.ipPort, 'server.ipPort', undefined, 0, 65535),
      allowQuit: r.boolean(server.allowQuit, 'server.allowQuit', true),
      allowFrom,
      udpTrigger: r.boolean(server.udpTrigger, 'server.udpTrigger', true),
    },
    paths: {
      dataDir: path(paths.dataDir, 'paths.dataDir'),
      procDir,
      repoDir: path(paths.repoDir, 'paths.repoDir'),
      logDir: path(paths.logDir, 'paths.logDir'),
      dropDir,
      stateDir,
      nightLogDir: paths.nightLogDir === undefined || paths.nightLogDir === null ? resolve(procDir, 'nightlogs') : path(paths.nightLogDir, 'paths.nightLogDir'),
      quickLookDir: paths.quickLookDir === undefined || paths.quickLookDir === null ? resolve(stateDir, 'quicklook') : path(paths.quickLookDir, 'paths.quickLookDir'),
    },
    processing: Object.fromEntries(STEP_NAMES.map((s) => [s, r.boolean(processing[s], `processing.${s}`, ALL_STEPS_ON[s])])) as StepSwitches,
    debug: r.boolean(top.debug, 'debug', false),
    channels,
    watch: {
      usePolling: r.boolean(watch.usePolling, 'watch.usePolling', true),
      intervalMs: r.integer(watch.intervalMs, 'watch.intervalMs', 1000, 10, 3_600_000),
      settleMs: r.integer(watch.settleMs, 'watch.settleMs', 500, 0, 600_000),
      noConparsGraceMs: r.integer(watch.noConparsGraceMs, 'watch.noConparsGraceMs', 15_000, 0, 3_600_000),
      incompleteTimeoutMs: r.integer(watch.incompleteTimeoutMs, 'watch.incompleteTimeoutMs', 120_000, 1000, 86_400_000),
      catchUpHours: r.number(watch.catchUpHours, 'watch.catchUpHours', 36, 0, 24 * 365 * 20),
      namePattern,
    },
    queue: { concurrency: r.integer(queue.concurrency, 'queue.concurrency', 2, 1, 64) },
    delivery: {
      checksums: r.boolean(delivery.checksums, 'delivery.checksums', true),
      fileMode: fileMode(r, delivery.fileMode, 'delivery.fileMode', 0o644),
      dirMode: fileMode(r, delivery.dirMode, 'delivery.dirMode', 0o775),
    },
    site: {
      latitudeDeg: r.number(site.latitude, 'site.latitude', LBT_SITE.latitudeDeg, -90, 90),
      longitudeDeg: r.number(site.longitude, 'site.longitude', LBT_SITE.longitudeDeg, -180, 360),
      heightM: r.number(site.height, 'site.height', LBT_SITE.heightM, -1000, 10000),
    },
    sensors: sensorMap(r, top.sensors),
    defaultSensors: REFERENCE_DEFAULT_SENSORS,
    timeZone,
    http: {
      enabled: r.boolean(http.enabled, 'http.enabled', true),
      host: r.string(http.host, 'http.host', '127.0.0.1'),
      port: r.integer(http.port, 'http.port', 8080, 0, 65535),
    },
    isis: isisConfig(r, isis, { ipAddr: r.string(server.ipAddr, 'server.ipAddr'), channels }),
    shadow: r.boolean(top.shadow, 'shadow', false),
  };
  if (config.shadow) checkShadow(config, file);
  return deepFreeze(config);
}

/**
 * The `isis` section. Every value given is checked even while the client is off, so that a typo
 * shows at once rather than on the night it is switched on; node, server and local port are
 * required only when it is on (there is no standard port for a data-manager node).
 */
function isisConfig(r: Reader, raw: Raw, service: { ipAddr: string; channels: readonly string[] }): DatamanConfig['isis'] {
  const enabled = r.boolean(raw.enabled, 'isis.enabled', false);
  const nodeName = (value: unknown, key: string) => {
    const id = r.optionalString(value, key);
    if (id !== undefined && !ISIS_NODE_NAME.test(id)) r.fail(key, 'an ISIS node name: 2 to 8 characters from A-Z 0-9 . _ (such as M1.BD)', id);
    return id?.toUpperCase();
  };
  const required = <T>(value: T | undefined, key: string): T => {
    if (value === undefined && enabled) throw new ConfigError(`${r.file}: ${key} is required when isis.enabled is on`);
    return value as T;
  };
  const node = nodeName(raw.node, 'isis.node');
  const serverHost = r.optionalString(raw.serverHost, 'isis.serverHost');
  const localPort = raw.localPort === undefined || raw.localPort === null ? undefined : r.integer(raw.localPort, 'isis.localPort', undefined, 0, 65535);
  const channels = r.stringList(raw.channels, 'isis.channels', [...service.channels]);
  channels.forEach((c, i) => {
    if (!service.channels.includes(c)) r.fail(`isis.channels[${i}]`, `one of the watched channels (${service.channels.join(', ')})`, c);
  });
  const resolved: IsisConfig = {
    enabled: true,
    node: required(node, 'isis.node'),
    serverHost: required(serverHost, 'isis.serverHost'),
    serverPort: r.integer(raw.serverPort, 'isis.serverPort', 6600, 1, 65535),
    localHost: r.string(raw.localHost, 'isis.localHost', service.ipAddr),
    localPort: required(localPort, 'isis.localPort'),
    pingIntervalMs: r.integer(raw.pingIntervalMs, 'isis.pingIntervalMs', 60_000, 1000, 86_400_000),
    guiNode: nodeName(raw.guiNode, 'isis.guiNode'),
    channels,
  };
  return enabled ? resolved : { enabled: false };
}

/** IMPv2.5 node names [IMP p.6 §3.2.1]; the same rule as `src/service/surface/isis/message.ts`. */
const ISIS_NODE_NAME = /^[A-Z0-9._]{2,8}$/i;

/** `"0644"`, `0644` read by YAML as 644, or an integer such as 420: always as octal digits. */
function fileMode(r: Reader, value: unknown, key: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^0?[0-7]{3}$/.test(text.trim())) r.fail(key, 'an octal file mode such as "0644"', value);
  return parseInt((text).trim(), 8);
}

function sensorMap(r: Reader, value: unknown): Record<string, TemperatureSensors> {
  const map: Record<string, TemperatureSensors> = { ...REFERENCE_SENSORS };
  if (value === undefined || value === null) return map;
  if (typeof value !== 'object' || Array.isArray(value)) r.fail('sensors', 'a mapping of INSTRUME to {ccd, base}', value);
  for (const [instrument, entry] of Object.entries(value as Raw)) {
    const e = r.section(entry, `sensors.${instrument}`, ['ccd', 'base']);
    map[instrument.toUpperCase()] = { ccd: r.string(e.ccd, `sensors.${instrument}.ccd`), base: r.string(e.base, `sensors.${instrument}.base`) };
  }
  return map;
}

function isAddressOrCidr(text: string): boolean {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  const isV4 = v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
  const isV6 = !isV4 && /^[0-9a-f:]+$/i.test(address) && address.includes(':');
  if (!isV4 && !isV6) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (isV4 ? 32 : 128);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
