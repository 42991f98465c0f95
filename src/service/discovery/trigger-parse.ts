/**
 * The trigger protocol of the reference (raw-format.md §1.3), as a pure function from one datagram
 * to one decision. azcam sends `proc /home/data/<name>.fits` (one datagram, single space, no
 * newline) after each exposure; an operator may send `quit`. Everything else is explained and
 * ignored — the reference's main loop died on an empty or non-UTF-8 datagram (§11 item 11), and it
 * passed whatever followed `proc` on to its worker.
 */

/** The reference read datagrams with `recvfrom(1024)`; anything longer is not ours. */
export const MAX_DATAGRAM_BYTES = 1024;

/** Why a datagram was ignored: stable, for tests, counters and the status page. */
export type IgnoredCode =
  | 'empty'
  | 'too-long'
  | 'not-utf8'
  | 'unknown-command'
  | 'missing-argument'
  | 'extra-arguments'
  | 'bad-name'
  | 'quit-disabled'
  | 'sender-not-allowed';

export type TriggerCommand =
  /** Process the raw file `name` (a base name that matches the raw pattern). */
  | { kind: 'proc'; name: string }
  /** Stop the service gracefully. */
  | { kind: 'quit' }
  /** Not acted upon; `reason` is a sentence for the log. */
  | { kind: 'ignored'; code: IgnoredCode; reason: string };

export interface ParseOptions {
  /** Raw file base names must match this pattern as a whole (config `watch.namePattern`). */
  namePattern: RegExp;
  /** Whether `quit` is obeyed (config `server.allowQuit`). */
  allowQuit: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8', { fatal: false });

/** C0/C1 controls, DEL, invisible format characters (bidi overrides, zero-width spaces) and the
 * line and paragraph separators U+2028/U+2029, which would split a log line. */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Decides what one datagram asks for. Never throws. */
export function parseTrigger(datagram: Buffer, options: ParseOptions): TriggerCommand {
  if (datagram.length === 0) return ignored('empty', 'empty datagram');
  if (datagram.length > MAX_DATAGRAM_BYTES) {
    return ignored('too-long', `datagram of ${datagram.length} bytes is longer than the ${MAX_DATAGRAM_BYTES}-byte limit`);
  }
  let text: string;
  try {
    text = utf8.decode(datagram);
  } catch {
    return ignored('not-utf8', `datagram is not valid UTF-8: ${previewDatagram(datagram)}`);
  }
  // Tolerate what a hand-typed `echo proc … | nc -u` adds: surrounding blanks and a line end.
  const words = text.trim().split(/\s+/u).filter((w) => w !== '');
  const [word, ...args] = words;
  if (word === undefined) return ignored('empty', `blank datagram ${previewText(text)}`);

  switch (word.toLowerCase()) {
    case 'quit':
      if (args.length > 0) return ignored('extra-arguments', `quit takes no argument, got ${previewText(args.join(' '))}`);
      if (!options.allowQuit) return ignored('quit-disabled', 'quit received but disabled in the configuration (server.allowQuit: false)');
      return { kind: 'quit' };
    case 'proc': {
      const [path, ...extra] = args;
      if (path === undefined) return ignored('missing-argument', 'proc without a file name');
      if (extra.length > 0) {
        return ignored('extra-arguments', `proc takes one file name, got ${args.length} words: ${previewText(args.join(' '))}`);
      }
      return checkName(path, options.namePattern);
    }
    default:
      // The reference's message, word for word (raw-format.md §10.3).
      return ignored('unknown-command', `Unknown command ${previewText(word, false)} received`);
  }
}

/**
 * Only the base name is used: azcam sends its own folder (`/home/data/…` on the archon server),
 * which is not where the instrument server sees the file (`<dataDir>/<chan>/`). The base name
 * must then be a plain raw file name — it becomes part of paths we open and write.
 */
function checkName(path: string, namePattern: RegExp): TriggerCommand {
  const shown = previewText(path);
  if (CONTROL.test(path)) return ignored('bad-name', `proc ${shown}: the name contains control characters`);
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === '') return ignored('bad-name', `proc ${shown}: no file name after the last "/"`);
  if (name.includes('\\')) return ignored('bad-name', `proc ${shown}: the file name contains a path separator "\\"`);
  if (name === '.' || name.includes('..')) return ignored('bad-name', `proc ${shown}: "${name}" is not a plain file name`);
  if (!matchesWhole(namePattern, name)) {
    return ignored('bad-name', `proc ${shown}: "${name}" is not a raw file name (pattern ${namePattern.source})`);
  }
  return { kind: 'proc', name };
}

/** Whole-string match, whatever the pattern's anchors and flags (a `g`/`y` RegExp is stateful). */
function matchesWhole(pattern: RegExp, name: string): boolean {
  const re = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
  const m = re.exec(name);
  return m !== null && m.index === 0 && m[0].length === name.length;
}

function ignored(code: IgnoredCode, reason: string): TriggerCommand {
  return { kind: 'ignored', code, reason };
}

const PREVIEW_CHARS = 80;

/**
 * Text safe to put into one log line: control and format characters escaped (`\n`, `\x00`,
 * `\u202e`), cut to 80 characters. Quoted unless `quote` is false.
 */
export function previewText(text: string, quote = true): string {
  const chars = [...text];
  const cut = chars.length > PREVIEW_CHARS;
  let out = '';
  for (const ch of cut ? chars.slice(0, PREVIEW_CHARS) : chars) out += escapeChar(ch);
  if (cut) out += `…(${chars.length} characters)`;
  return quote ? `"${out}"` : out;
}

/** A datagram for the log whatever it holds: invalid UTF-8 shows as U+FFFD. */
export function previewDatagram(datagram: Buffer): string {
  return previewText(lenient.decode(datagram.subarray(0, PREVIEW_CHARS * 4)));
}

function escapeChar(ch: string): string {
  if (ch === '"') return '\\"';
  if (ch === '\\') return '\\\\';
  if (!CONTROL.test(ch)) return ch;
  switch (ch) {
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    default: {
      const code = ch.codePointAt(0) ?? 0;
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    }
  }
}
