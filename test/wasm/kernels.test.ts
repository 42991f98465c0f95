import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { KernelArena, MAX_PLACE_PIXELS } from '../../src/wasm/kernels.js';

test('the committed kernel binary is what kernels.wat compiles to', () => {
  execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { stdio: 'pipe' });
});

let seed = 12345;
const random16 = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 16;

/** The definition, one pixel at a time: float32(stored + 32768 − bias), written big-endian. */
function reference(words: Buffer, flip: boolean, bias: number): { out: Buffer; hi: number; lo: number } {
  const n = words.length / 2;
  const out = Buffer.alloc(4 * n);
  let hi = 0;
  let lo = 0;
  for (let c = 0; c < n; c++) {
    const stored = words.readInt16BE(2 * (flip ? n - 1 - c : c));
    out.writeFloatBE(stored + 32768 - bias, 4 * c);
    const bits = out.readUInt32BE(4 * c);
    hi += bits >>> 16;
    lo += bits & 0xffff;
  }
  return { out, hi, lo };
}

test('place: every length and tail, both directions, integer and half biases, extreme words', () => {
  for (const n of [1, 3, 7, 8, 9, 15, 16, 17, 100, 4096, MAX_PLACE_PIXELS]) {
    for (const flip of [false, true]) {
      for (const bias of [0, 1000, 1023.5, 65535, 32768.5]) {
        const arena = new KernelArena(6 * n + 64);
        const words = arena.take(2 * n);
        for (let i = 0; i < n; i++) words.writeUInt16BE(i < 4 ? [0, 0x7fff, 0x8000, 0xffff][i]! : random16(), 2 * i);
        const out = arena.take(4 * n);
        const [hi, lo] = arena.place(words, out, flip, bias);
        const expected = reference(words, flip, bias);
        assert.ok(out.equals(expected.out), `n ${n} flip ${flip} bias ${bias}: pixels`);
        assert.deepEqual([hi, lo], [expected.hi, expected.lo], `n ${n} flip ${flip} bias ${bias}: sums`);
      }
    }
  }
});

test('halves: the two 16-bit totals of big-endian words, across the per-call limit and tails', () => {
  for (const words of [1, 3, 4, 5, 65535, 65536, 65537, 300_001]) {
    const arena = new KernelArena(4 * words + 64);
    const data = arena.take(4 * words);
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < words; i++) {
      const w = i % 7 === 0 ? 0xffffffff : ((random16() << 16) | random16()) >>> 0;
      data.writeUInt32BE(w, 4 * i);
      hi += w >>> 16;
      lo += w & 0xffff;
    }
    assert.deepEqual(arena.halves(data), [hi, lo], `${words} words`);
  }
});

test('an arena refuses views that are not its own and data beyond its size', () => {
  const arena = new KernelArena(64);
  assert.throws(() => arena.halves(Buffer.alloc(8)), /not a view of this arena/);
  assert.throws(() => arena.take(1 << 20), /is full/);
  assert.throws(() => arena.place(arena.take(6), arena.take(8), false, 0), /place:/);
});

test('an arena is reused by the next job of the thread when large enough, and released once only', async () => {
  const { acquireArena, releaseArena } = await import('../../src/wasm/kernels.js');
  const first = acquireArena(1 << 20);
  first.take(1000);
  releaseArena(first);
  assert.throws(() => releaseArena(first), /released twice/);
  const again = acquireArena(1 << 19);
  assert.equal(again, first, 'the idle arena is handed out again');
  assert.equal(again.take(16).byteOffset, 0, 'from its start');
  const other = acquireArena(1 << 19);
  assert.notEqual(other, again, 'a busy arena is never handed out twice');
  releaseArena(again);
  releaseArena(other);
  assert.notEqual(acquireArena(4 << 20), first, 'too small: a new one');
});
