import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addSums, bufferSource, CHECKSUM_OK, encodeChecksum, hduSums, memorySink, onesComplementSum, readHdus,
  verifyFile, writeFits, type HduOutput,
} from '../../src/fits/index.js';
import { smallMef } from '../helpers/small-fits.js';

async function rewrite(bytes: Buffer, edit?: (outputs: HduOutput[]) => void, checksums = false): Promise<Buffer> {
  const source = bufferSource(bytes);
  const hdus = await readHdus(source);
  const outputs: HduOutput[] = hdus.map((h) => ({
    header: h.header,
    data: { kind: 'copy', source, offset: h.dataOffset, length: h.dataPaddedBytes },
  }));
  edit?.(outputs);
  const sink = memorySink();
  await writeFits(sink, outputs, { checksums: checksums ? { timestamp: '2026-01-15T04:12:33' } : undefined, chunkBytes: 2880 });
  return sink.bytes();
}

test('reading and writing an untouched file gives identical bytes', async () => {
  for (const checksums of [false, true]) {
    const original = await smallMef({ checksums });
    assert.ok((await rewrite(original)).equals(original));
  }
});

test('editing one header leaves every other byte where it was', async () => {
  const original = await smallMef();
  const edited = await rewrite(original, (out) => out[1]!.header.set('BUNIT', 'ADU'));
  assert.equal(edited.length, original.length);
  assert.ok(edited.subarray(0, 2880).equals(original.subarray(0, 2880)));
  assert.ok(edited.subarray(5760).equals(original.subarray(5760)));
  assert.ok(edited.toString('latin1', 2880, 5760).includes("BUNIT   = 'ADU     '"));
});

test('stamped checksums verify, and one changed byte is caught in data or header', async () => {
  const stamped = await rewrite(await smallMef(), undefined, true);
  const report = await verifyFile(bufferSource(stamped));
  assert.equal(report.ok, true);
  assert.deepEqual(report.hdus.map((h) => [h.checksumOk, h.datasumOk]), [[true, true], [true, true], [true, true]]);
  for (const [offset, keyword] of [[5761, 'DATASUM'], [2880 + 45, 'CHECKSUM']] as const) {
    const broken = Buffer.from(stamped);
    broken[offset] = broken[offset]! ^ 0x01;
    const bad = await verifyFile(bufferSource(broken, 'b.fits'));
    assert.equal(bad.ok, false);
    assert.ok(bad.problems.some((p) => p.location.keyword === keyword && p.location.hduIndex === 1), `${keyword} not flagged`);
  }
});

test('every stamped HDU sums to all ones', async () => {
  const source = bufferSource(await smallMef({ checksums: true }));
  for (const hdu of await readHdus(source)) {
    const sums = await hduSums(source, hdu);
    assert.equal(addSums(sums.header, sums.data), CHECKSUM_OK);
  }
});

test('checksum arithmetic and encoding match known answers (from astropy)', () => {
  const words = Buffer.alloc(2880);
  for (let i = 0; i < 720; i++) words.writeInt32BE(i, i * 4);
  assert.equal(onesComplementSum(words), 258840);
  assert.equal(onesComplementSum(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01])), 1);
  const known: Array<[number, string]> = [
    [0, '0000000000000000'],
    [1, '0000100000000000'],
    [0xffffffff, 'orrrrooooooooooo'],
    [868229149, '7Bf889Z87Af877Z8'],
    [2503531142, 'QVChSU9fQUCfQU9f'],
    [123456789, '54Id61Fc51Fc51Fc'],
  ];
  for (const [value, text] of known) assert.equal(encodeChecksum(value, false), text, String(value));
});

/** The checksum the way the convention defines it: big-endian 16-bit halves, carries folded at the end. */
function referenceSum(bytes: Uint8Array): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < bytes.length; i += 4) {
    hi += (bytes[i]! << 8) | bytes[i + 1]!;
    lo += (bytes[i + 2]! << 8) | bytes[i + 3]!;
  }
  while (hi > 0xffff || lo > 0xffff) [hi, lo] = [(hi & 0xffff) + Math.floor(lo / 0x10000), (lo & 0xffff) + Math.floor(hi / 0x10000)];
  return ((hi << 16) | lo) >>> 0;
}

test('the fast checksum paths equal the definition, at block boundaries and with every lane full', async () => {
  let seed = 7;
  const random = (n: number) => Buffer.from(new Uint8Array(n).map(() => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24));
  // Lengths around the 256-word and 32768-word accumulator blocks; all-0xff bytes fill every lane.
  for (const words of [1, 255, 256, 257, 1023, 32767, 32768, 32769, 70_001]) {
    for (const bytes of [random(words * 4), Buffer.alloc(words * 4, 0xff), Buffer.alloc(words * 4, 0x80)]) {
      const aligned = new Uint8Array(bytes); // own buffer: offset 0, the fast path
      assert.equal(onesComplementSum(aligned), referenceSum(bytes), `${words} words`);
      const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
      unaligned.set(bytes);
      assert.equal(onesComplementSum(unaligned), referenceSum(bytes), `${words} words, unaligned`);
      assert.equal(onesComplementSum(aligned, 0x1234abcd), addSums(referenceSum(bytes), 0x1234abcd), `${words} words, running sum`);
    }
  }
});

test('a streamed data unit is written, padded and summed as the same bytes from memory', async () => {
  const source = bufferSource(await smallMef());
  const hdus = await readHdus(source);
  const payload = Buffer.from(new Uint8Array(10_003).map((_, i) => (i * 37) & 0xff));
  const asBytes = (): HduOutput[] => [
    { header: hdus[0]!.header.clone(), data: undefined },
    { header: hdus[1]!.header.clone(), data: { kind: 'bytes', bytes: payload } },
  ];
  const chunked = (sizes: number[], withSums: boolean): HduOutput[] => {
    const [first, second] = asBytes();
    const chunks = () => {
      let at = 0;
      return sizes.map((n) => {
        const bytes = payload.subarray(at, (at += n));
        return withSums && n % 4 === 0 ? { bytes, sum: onesComplementSum(bytes) } : { bytes };
      });
    };
    return [first!, { header: second!.header, data: { kind: 'stream', length: payload.length, chunks } }];
  };
  const write = async (outputs: HduOutput[]) => {
    const sink = memorySink();
    await writeFits(sink, outputs, { checksums: { timestamp: '2026-01-15T04:12:33' } });
    return sink.bytes();
  };
  const expected = await write(asBytes());
  assert.deepEqual(await write(chunked([4000, 4000, 2003], true)), expected);
  assert.deepEqual(await write(chunked([8, 9992, 3], false)), expected);
  await assert.rejects(write(chunked([4000, 4000], true)), /gave 8000 of the 10003 bytes/);
  await assert.rejects(write(chunked([4001, 6002], false)), /only the last chunk/);
});

test('checksums summed from the file fed in chunks agree with verifyFile, for any chunk size', async () => {
  const { SequentialChecksums } = await import('../../src/fits/index.js');
  const stamped = await rewrite(await smallMef(), undefined, true);
  const hdus = await readHdus(bufferSource(stamped));
  const expected = (await verifyFile(bufferSource(stamped))).hdus;
  const damaged = Buffer.from(stamped);
  damaged[hdus[1]!.dataOffset + 5]! ^= 0x01;
  for (const chunk of [4, 1440, 2880, 4096, 12, stamped.length]) {
    const feed = (bytes: Buffer) => {
      const sums = new SequentialChecksums(hdus);
      for (let at = 0; at < bytes.length; at += chunk) sums.update(bytes.subarray(at, Math.min(bytes.length, at + chunk)), at);
      return sums.results();
    };
    assert.deepEqual(feed(stamped), expected, `chunks of ${chunk}`);
    const bad = feed(damaged);
    assert.deepEqual(bad.map((h) => [h.datasumOk, h.checksumOk]), expected.map((h, i) => (i === 1 ? [false, false] : [h.datasumOk, h.checksumOk])), `damaged, chunks of ${chunk}`);
  }
  const sums = new SequentialChecksums(hdus);
  assert.throws(() => sums.update(stamped.subarray(4, 8), 4), /in order/);
  assert.throws(() => sums.update(stamped.subarray(0, 6), 0), /multiple of 4/);
  sums.update(stamped.subarray(0, 2880), 0);
  assert.throws(() => sums.results(), /were fed/);
});
