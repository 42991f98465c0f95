/**
 * An ordered list of cards with the edits a FITS header needs: set a value keeping the card's
 * position, insert, append after the last non-commentary card, delete. A header read from a
 * file and left unmodified serialises to its original bytes.
 */
import { type Card, type CardKind, type CardValue, CARD_LENGTH, padToBlock, numericValue } from './card.js';
import { checkCardImage, parseCard } from './card-parser.js';
import { formatCard } from './card-formatter.js';
import { type FitsLocation } from './errors.js';

export const END_CARD = 'END'.padEnd(CARD_LENGTH);

export interface SetOptions {
  /** New comment; omitted keeps the existing card's comment. */
  comment?: string;
  /** Value type; inferred from the value when omitted (see `inferKind`). */
  kind?: CardKind;
}

export class Header {
  private readonly list: Card[];
  /** The original header bytes (cards, END, padding) while nothing has been changed. */
  private original: Buffer | undefined;

  constructor(cards: Card[] = [], original?: Buffer) {
    this.list = cards;
    this.original = original;
  }

  /**
   * Parses header bytes that hold whole cards up to and including END (more bytes after END
   * are ignored). Returns `undefined` when there is no END card in `bytes`.
   * @param baseOffset file offset of `bytes[0]`, for error messages.
   */
  static parse(bytes: Buffer, loc: FitsLocation = {}, baseOffset = 0): { header: Header; byteLength: number } | undefined {
    const cards: Card[] = [];
    const count = Math.floor(bytes.length / CARD_LENGTH);
    for (let i = 0; i < count; i++) {
      const image = bytes.toString('latin1', i * CARD_LENGTH, (i + 1) * CARD_LENGTH);
      const cardLoc = { ...loc, offset: baseOffset + i * CARD_LENGTH };
      if (image.startsWith('END') && image.slice(3).trim() === '') {
        const byteLength = padToBlock((i + 1) * CARD_LENGTH);
        const original = bytes.length >= byteLength ? Buffer.from(bytes.subarray(0, byteLength)) : undefined;
        return { header: new Header(joinContinuations(cards), original), byteLength };
      }
      checkCardImage(image, cardLoc);
      cards.push(parseCard(image));
    }
    return undefined;
  }

  /** All cards, in order (END excluded). Do not mutate: use the editing methods. */
  get cards(): readonly Card[] {
    return this.list;
  }

  get modified(): boolean {
    return this.original === undefined;
  }

  /** Index of the first card with this keyword, or -1. */
  indexOf(keyword: string): number {
    return this.list.findIndex((c) => c.keyword === keyword);
  }

  has(keyword: string): boolean {
    return this.indexOf(keyword) >= 0;
  }

  get(keyword: string): Card | undefined {
    return this.list.find((c) => c.keyword === keyword);
  }

  /** The value of the first card with this keyword (undefined if absent). */
  value(keyword: string): CardValue | undefined {
    return this.get(keyword)?.value;
  }

  /** A numeric value, or undefined when absent or not a number. */
  number(keyword: string): number | undefined {
    return numericValue(this.get(keyword));
  }

  /** A string value, or undefined when absent or not a string. */
  string(keyword: string): string | undefined {
    const card = this.get(keyword);
    return card?.kind === 'string' ? (card.value as string) : undefined;
  }

  /**
   * Sets a keyword's value (and comment): an existing card keeps its position, a new one is
   * appended after the last non-commentary card.
   */
  set(keyword: string, value: CardValue, options: SetOptions = {}): void {
    const index = this.indexOf(keyword);
    const old = index >= 0 ? this.list[index] : undefined;
    const card: Card = {
      keyword,
      kind: options.kind ?? inferKind(value, old),
      value,
      comment: options.comment ?? old?.comment,
      ...(old?.hierarch ? { hierarch: true } : {}),
    };
    formatCard(card); // fail now, naming the keyword, rather than at write time
    this.touch();
    if (old !== undefined) this.list[index] = card;
    else this.list.splice(this.appendIndex(), 0, card);
  }

  /** Inserts a card before position `index` (0 = first). */
  insert(index: number, card: Card): void {
    formatCard(card);
    this.touch();
    this.list.splice(index, 0, { ...card, image: undefined });
  }

  /** Appends a card at the very end (after commentary cards too). */
  push(card: Card): void {
    this.insert(this.list.length, card);
  }

  /** Removes every card with this keyword; returns how many were removed. */
  delete(keyword: string): number {
    let removed = 0;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i]!.keyword === keyword) {
        this.list.splice(i, 1);
        removed++;
      }
    }
    if (removed > 0) this.touch();
    return removed;
  }

  /** A deep copy (cards are value objects) that forgets the original bytes if asked to. */
  clone(): Header {
    return new Header(this.list.map((c) => ({ ...c })), this.original);
  }

  /** The header as FITS bytes: card images, END, blank padding to a whole block. */
  toBuffer(): Buffer {
    if (this.original !== undefined) return this.original;
    const text = this.list.map(formatCard).join('') + END_CARD;
    const out = Buffer.alloc(padToBlock(text.length), 0x20);
    out.write(text, 0, 'latin1');
    return out;
  }

  /** Length in bytes of `toBuffer()`. */
  get byteLength(): number {
    if (this.original !== undefined) return this.original.length;
    const cards = this.list.reduce((n, c) => n + formatCard(c).length / CARD_LENGTH, 0) + 1;
    return padToBlock(cards * CARD_LENGTH);
  }

  private touch(): void {
    this.original = undefined;
  }

  /** After the last card that is not commentary (COMMENT/HISTORY/blank). */
  private appendIndex(): number {
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i]!.kind !== 'commentary') return i + 1;
    }
    return this.list.length;
  }
}

/**
 * The value type of a new value: booleans are logical, strings string, bigints integer, null
 * undefined, `{re, im}` complex. A number keeps the numeric kind of the card it replaces;
 * otherwise it is an integer when it is a whole number, else real. Pass `kind: 'real'` for a
 * whole number that must be written as a real (`2000.0`).
 */
export function inferKind(value: CardValue, old?: Card): CardKind {
  if (value === null) return 'undefined';
  if (typeof value === 'boolean') return 'logical';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') {
    if (old?.kind === 'real') return 'real';
    if (old?.kind === 'integer' && Number.isInteger(value)) return 'integer';
    return Number.isInteger(value) ? 'integer' : 'real';
  }
  return 'complex';
}

/** Joins CONTINUE cards into the string card they extend (long-string convention §4.2.1.2). */
function joinContinuations(cards: Card[]): Card[] {
  const out: Card[] = [];
  for (const card of cards) {
    const prev = out[out.length - 1];
    if (
      card.keyword === 'CONTINUE' &&
      card.kind === 'string' &&
      prev !== undefined &&
      prev.kind === 'string' &&
      typeof prev.value === 'string' &&
      prev.value.endsWith('&')
    ) {
      const comments = [prev.comment, card.comment].filter((c): c is string => c !== undefined && c !== '');
      out[out.length - 1] = {
        ...prev,
        value: prev.value.slice(0, -1) + (card.value as string),
        comment: comments.length > 0 ? comments.join(' ') : undefined,
        image: (prev.image ?? '') + (card.image ?? ''),
      };
      continue;
    }
    out.push(card);
  }
  return out;
}

