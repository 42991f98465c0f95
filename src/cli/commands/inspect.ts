/**
 * `dataman inspect FILE [--json]`: the HDU list and every header card, like astropy's fitsinfo
 * and fitsheader. Reads headers only.
 */
import type { Command } from 'commander';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { type Card, type CardValue, type Hdu, readStructure, withFileSource } from '../../fits/index.js';

export interface CardJson {
  keyword: string;
  value: boolean | number | string | { re: number; im: number } | null;
  comment: string;
}

export interface HduJson {
  index: number;
  extname: string | null;
  type: string;
  cards: CardJson[];
  headerOffset: number;
  dataOffset: number;
  dataBytes: number;
}

export interface InspectJson {
  file: string;
  complete: boolean;
  fileLength: number;
  impliedLength: number;
  problem?: string;
  hdus: HduJson[];
}

/** A card's value as JSON: numbers stay numbers (an integer too large for a double becomes text). */
export function cardValueJson(value: CardValue): CardJson['value'] {
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function cardJson(card: Card): CardJson {
  return { keyword: card.keyword, value: cardValueJson(card.value), comment: card.comment ?? '' };
}

export function hduJson(hdu: Hdu): HduJson {
  return {
    index: hdu.index,
    extname: hdu.extname ?? null,
    type: hdu.type,
    cards: hdu.header.cards.map(cardJson),
    headerOffset: hdu.headerOffset,
    dataOffset: hdu.dataOffset,
    dataBytes: hdu.dataBytes,
  };
}

/** Reads a file's headers and returns both the HDUs and their JSON description. */
export async function inspectFile(path: string): Promise<{ report: InspectJson; hdus: Hdu[] }> {
  return withFileSource(path, async (source) => {
    const s = await readStructure(source);
    const report: InspectJson = {
      file: path,
      complete: s.complete,
      fileLength: s.fileLength,
      impliedLength: s.impliedLength,
      ...(s.truncation ? { problem: s.truncation.message } : {}),
      hdus: s.hdus.map(hduJson),
    };
    return { report, hdus: s.hdus };
  });
}

function dimensions(hdu: Hdu): string {
  return hdu.axes.length === 0 ? '()' : `(${hdu.axes.join(', ')})`;
}

function formatText(report: InspectJson, hdus: Hdu[]): string {
  const lines = [`Filename: ${report.file}`, 'No.    Name      Type      Cards   Dimensions   Format'];
  for (const h of hdus) {
    const format = `BITPIX ${h.bitpix}`;
    lines.push(
      `${String(h.index).padEnd(6)} ${(h.extname ?? (h.index === 0 ? 'PRIMARY' : '')).padEnd(9)} ${h.type.padEnd(9)} ` +
        `${String(h.header.cards.length).padStart(5)}   ${dimensions(h).padEnd(12)} ${format}`,
    );
  }
  for (const h of hdus) {
    lines.push('', `# HDU ${h.index} in ${report.file}:`);
    for (const card of h.header.cards) lines.push(cardLine(card));
  }
  if (report.problem) lines.push('', `INCOMPLETE: ${report.problem}`);
  return lines.join('\n') + '\n';
}

function cardLine(card: Card): string {
  if (card.image !== undefined) {
    return card.image.match(/.{1,80}/g)!.map((l) => l.trimEnd()).join('\n');
  }
  return `${card.keyword} = ${JSON.stringify(cardValueJson(card.value))}${card.comment ? ` / ${card.comment}` : ''}`;
}

export const registerInspect: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('inspect')
    .description('list the HDUs of a FITS file and every header card (reads headers only)')
    .argument('<file>', 'FITS file')
    .option('--json', 'print JSON: {file, hdus: [{index, extname, type, cards: [{keyword, value, comment}], dataOffset, dataBytes}]}')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { report, hdus } = await inspectFile(file);
      ctx.stdout.write(opts.json ? `${JSON.stringify(report, null, 1)}\n` : formatText(report, hdus));
      if (!report.complete) failWith(ctx, ExitCode.failed);
    });
};
