/**
 * Every card of one HDU compared between A and B: value cards by keyword (a repeated keyword by
 * its occurrence), commentary cards (COMMENT, HISTORY, blank) as one text per keyword. Order is
 * not compared: both programs edit in place and append new cards, and a reader finds by keyword.
 */
import { COMMENTARY_KEYWORDS, valueText, type Card, type Header } from '../fits/index.js';
import { sameCardValue, sameComment } from './card-values.js';
import type { CardDifference } from './deliberate-differences.js';

export function headerDifferences(hdu: string, a: Header, b: Header): CardDifference[] {
  const left = indexCards(a);
  const right = indexCards(b);
  const out: CardDifference[] = [];
  for (const [key, cardA] of left) {
    const cardB = right.get(key);
    if (cardB === undefined || !sameCardValue(cardA, cardB) || !sameComment(cardA, cardB)) {
      out.push({ hdu, keyword: cardA.keyword, a: cardA, b: cardB });
    }
  }
  for (const [key, cardB] of right) {
    if (!left.has(key)) out.push({ hdu, keyword: cardB.keyword, a: undefined, b: cardB });
  }
  return out;
}

/** Cards by `KEYWORD` (`KEYWORD#2` for a second one); commentary cards merged per keyword. */
function indexCards(header: Header): Map<string, Card> {
  const map = new Map<string, Card>();
  const seen = new Map<string, number>();
  const commentary = new Map<string, string[]>();
  for (const card of header.cards) {
    if (card.keyword === 'END') continue;
    if (COMMENTARY_KEYWORDS.has(card.keyword) || card.kind === 'commentary') {
      const lines = commentary.get(card.keyword) ?? [];
      lines.push(valueText(card.value).replace(/\s+$/, ''));
      commentary.set(card.keyword, lines);
      continue;
    }
    const n = (seen.get(card.keyword) ?? 0) + 1;
    seen.set(card.keyword, n);
    map.set(n === 1 ? card.keyword : `${card.keyword}#${n}`, card);
  }
  for (const [keyword, lines] of commentary) {
    map.set(`${keyword} (commentary)`, { keyword: keyword === '' ? '(blank)' : keyword, kind: 'commentary', value: lines.join('\n'), comment: undefined });
  }
  return map;
}
