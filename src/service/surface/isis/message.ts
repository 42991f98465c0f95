/**
 * IMPv2.5 messages as ISIS carries them (`docs/isis.md` §2): `SRC>DEST [TYPE:] cmd body\r`.
 * Pure functions, no I/O. The parser is tolerant where the real clients deviate from the protocol
 * document (§2.8: modsCCD ends its replies with `\n`, modsUI trims every datagram), strict where
 * a wrong guess would misroute a reply (the address header), and it never throws: a message it
 * cannot read comes back as a reason, to be logged and ignored (§2.5).
 */

/** Longest message the protocol allows, terminator included [IMP p.6 §3.1.3]. */
export const MAX_MESSAGE_CHARS = 2048;

/** Message types [IMP p.7-8 §3.3]; `REQ` is implicit when no type token is present. */
export const MESSAGE_TYPES = ['REQ', 'EXEC', 'DONE', 'STATUS', 'WARNING', 'ERROR', 'FATAL'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Node names: 2–8 characters from `[A-Z0-9._]`, case-insensitive [IMP p.6 §3.2.1]. */
export const NODE_NAME = /^[A-Z0-9._]{2,8}$/i;

/** The body read as keyword=value pairs, `+FLAG`/`-FLAG` state flags and plain words [IMP §3.5]. */
export interface MessageArgs {
  /** Keys upper-cased (the GUI matches them case-insensitively); values unquoted: `'a b'` and `(a b)` give `a b`. */
  keys: Map<string, string>;
  /** `+FLAG` true, `-FLAG` false; names upper-cased. */
  flags: Map<string, boolean>;
  /** Every other token, unquoted, in order. */
  words: string[];
}

export interface IsisMessage {
  /** Sender ID, upper-cased (ISIS upper-cases IDs when it routes). */
  src: string;
  /** Destination ID, upper-cased; `AL`/`ALL` is the broadcast node. */
  dest: string;
  /** `REQ` when the message has no type token (requests, `PING`/`PONG`, heartbeats). */
  type: MessageType;
  /** Whether a type token was present. */
  explicitType: boolean;
  /** The command word as sent (case kept: replies echo it), or undefined for a bare-header heartbeat. */
  command: string | undefined;
  /** The text after the command word, as sent. */
  body: string;
  args: MessageArgs;
}

export type ParseResult =
  | { ok: true; message: IsisMessage }
  /** `oversized`: more than {@link MAX_MESSAGE_CHARS}, which the protocol wants flagged, not only dropped (§2.5). */
  | { ok: false; reason: string; oversized: boolean };

/** Reads one datagram. Never throws. */
export function parseMessage(datagram: Buffer | string): ParseResult {
  const length = typeof datagram === 'string' ? datagram.length : datagram.byteLength;
  if (length > MAX_MESSAGE_CHARS) {
    return { ok: false, reason: `oversized message: ${length} characters, more than ${MAX_MESSAGE_CHARS}`, oversized: true };
  }
  // latin1 maps every byte to one character, so a stray byte shows up as non-ASCII below
  // instead of being folded into a replacement character.
  const raw = typeof datagram === 'string' ? datagram : datagram.toString('latin1');
  // `\r` is the protocol's terminator, `\n` modsCCD's; modsUI trims whatever surrounds a message.
  const text = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const bad = /[^\x20-\x7e]/.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(2, '0');
    return { ok: false, reason: `non-printable character 0x${code} at position ${bad.index}`, oversized: false };
  }
  if (text === '') return { ok: false, reason: 'empty message', oversized: false };
  const tokens = tokenize(text);
  const header = tokens[0]!;
  const gt = header.token.indexOf('>');
  if (gt < 0) return { ok: false, reason: `no address header (the first token "${header.token}" has no ">")`, oversized: false };
  const src = header.token.slice(0, gt);
  const dest = header.token.slice(gt + 1);
  for (const [what, id] of [['sender', src], ['destination', dest]] as const) {
    if (!NODE_NAME.test(id)) {
      return { ok: false, reason: `bad ${what} node name "${id}" (2 to 8 characters from A-Z 0-9 . _)`, oversized: false };
    }
  }
  let next = 1;
  let type: MessageType = 'REQ';
  const typeToken = tokens[1]?.token.toUpperCase();
  const explicitType = typeToken !== undefined && typeToken.endsWith(':') && (MESSAGE_TYPES as readonly string[]).includes(typeToken.slice(0, -1));
  if (explicitType) {
    type = typeToken.slice(0, -1) as MessageType;
    next = 2;
  }
  const commandToken = tokens[next];
  const bodyStart = tokens[next + 1]?.start;
  const body = bodyStart === undefined ? '' : text.slice(bodyStart);
  return {
    ok: true,
    message: {
      src: src.toUpperCase(), dest: dest.toUpperCase(), type, explicitType,
      command: commandToken?.token, body, args: parseArgs(body),
    },
  };
}

/**
 * Splits on runs of spaces, keeping quoted (`'…'`, and `"…"` for tolerance) and parenthesised
 * (`(…)`, nested) text in one token. An unclosed quote or parenthesis runs to the end.
 */
export function tokenize(text: string): Array<{ token: string; start: number }> {
  const tokens: Array<{ token: string; start: number }> = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    const start = i;
    let quote: string | undefined;
    let depth = 0;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote !== undefined) {
        if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === '(') {
        depth++;
      } else if (c === ')' && depth > 0) {
        depth--;
      } else if (c === ' ' && depth === 0) {
        break;
      }
    }
    tokens.push({ token: text.slice(start, i), start });
  }
  return tokens;
}

/** `'a b'`, `"a b"` and `(a b)` give `a b`; anything else is returned as it is. */
export function unquote(value: string): string {
  const first = value[0];
  const last = value[value.length - 1];
  if (value.length >= 2 && ((first === "'" && last === "'") || (first === '"' && last === '"') || (first === '(' && last === ')'))) {
    return value.slice(1, -1);
  }
  return value;
}

/** Reads a message body: `key=value`, `+FLAG`/`-FLAG`, words (§2.3). */
export function parseArgs(body: string): MessageArgs {
  const args: MessageArgs = { keys: new Map(), flags: new Map(), words: [] };
  for (const { token } of tokenize(body)) {
    const eq = token.indexOf('=');
    // A quote or parenthesis before the `=` means the `=` is inside a value, not a key.
    if (eq > 0 && !/['"(]/.test(token.slice(0, eq))) {
      args.keys.set(token.slice(0, eq).toUpperCase(), unquote(token.slice(eq + 1)));
    } else if (/^[+-][A-Za-z_]/.test(token)) {
      args.flags.set(token.slice(1).toUpperCase(), token[0] === '+');
    } else {
      args.words.push(unquote(token));
    }
  }
  return args;
}

/**
 * A value for a `key=value` pair: bare when it is one printable word, else in single quotes (or
 * parentheses when it holds a quote). Non-printable characters become `?`: the protocol allows
 * none, and one in a file name must not make the whole message malformed.
 */
export function formatValue(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  if (printable !== '' && /^[^ '"()]+$/.test(printable)) return printable;
  if (!printable.includes("'")) return `'${printable}'`;
  if (!/[()]/.test(printable)) return `(${printable})`;
  return `'${printable.replace(/'/g, '"')}'`;
}

export interface OutgoingMessage {
  src: string;
  dest: string;
  /** Omitted for requests and the out-of-band `PING`/`PONG`, which carry no type token (§2.4). */
  type?: MessageType | undefined;
  command: string;
  /** Already formatted (use {@link formatValue} for values). */
  body?: string | undefined;
}

/**
 * `SRC>DEST [TYPE:] command body\r`, IDs upper-cased, `\r`-terminated as the protocol asks (§2.3).
 * Throws a RangeError beyond {@link MAX_MESSAGE_CHARS} or for a bad node name: both are bugs or
 * bad configuration here, never something a peer sent.
 */
export function formatMessage(m: OutgoingMessage): string {
  for (const id of [m.src, m.dest]) {
    if (!NODE_NAME.test(id)) throw new RangeError(`not an ISIS node name: "${id}"`);
  }
  const parts = [`${m.src.toUpperCase()}>${m.dest.toUpperCase()}`];
  if (m.type !== undefined) parts.push(`${m.type}:`);
  parts.push(m.command);
  if (m.body !== undefined && m.body !== '') parts.push(m.body);
  const text = `${parts.join(' ')}\r`;
  if (text.length > MAX_MESSAGE_CHARS) throw new RangeError(`ISIS message of ${text.length} characters, more than ${MAX_MESSAGE_CHARS}`);
  return text;
}

/** A datagram made safe and short for a log line. */
export function previewMessage(datagram: Buffer | string, max = 120): string {
  const text = (typeof datagram === 'string' ? datagram : datagram.toString('latin1')).replace(/[^\x20-\x7e]/g, (c) => {
    if (c === '\r') return '\\r';
    if (c === '\n') return '\\n';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
