/** Card values as the comparison sees them: text without trailing blanks, numbers by value. */
import { numericValue, valueText, type Card } from '../fits/index.js';

/** A string without its trailing blanks (not significant, FITS §4.2.1); other values as text. */
export function cardText(card: Card): string {
  const text = valueText(card.value);
  return card.kind === 'string' ? text.replace(/\s+$/, '') : text;
}

export function numberOf(card: Card | undefined): number | undefined {
  return numericValue(card);
}

/**
 * Same value: numbers by value whatever their form (astropy writes `BZERO = 32768` where the
 * raw file had `32768.0`), strings without trailing blanks, the rest as text.
 */
export function sameCardValue(a: Card, b: Card): boolean {
  const x = numberOf(a);
  const y = numberOf(b);
  if (x !== undefined || y !== undefined) return x === y;
  return a.kind === b.kind && cardText(a) === cardText(b);
}

export function sameComment(a: Card, b: Card): boolean {
  return (a.comment ?? '').trim() === (b.comment ?? '').trim();
}

/** A card for a report: `value / comment`, or `(absent)`. */
export function describeCard(card: Card | undefined): string {
  if (card === undefined) return '(absent)';
  const value = card.kind === 'string' ? `'${cardText(card)}'` : cardText(card);
  return card.comment ? `${value} / ${card.comment.trim()}` : value;
}
