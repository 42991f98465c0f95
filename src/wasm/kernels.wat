;; SIMD kernels for the two passes over every pixel of a full frame (about 25 million): the
;; merged preview's conversion and the FITS checksum of the amplifier data. Hand-written
;; WebAssembly (SIMD128), compiled by `npm run build:wasm` into kernels-binary.ts.
;;
;; Memory belongs to the caller, who places the data and reads the results.
(module
  (memory (export "memory") 1)

  ;; place(src, n, flip, bias, dst, sums)
  ;;   src: n stored big-endian 16-bit words (BZERO 32768: physical = signed word + 32768)
  ;;   dst: n big-endian float32 = physical - bias, in order, or reversed when flip = 1
  ;;   sums: two u32 written there, the totals of the high and the low 16-bit halves of the
  ;;   output words as big-endian values (the FITS checksum's two running sums).
  ;; n <= 32768, so that neither u32 total can overflow. Exact: physical and bias are
  ;; integers or halves below 65536, so physical - bias is exact in float32.
  (func (export "place") (param $src i32) (param $n i32) (param $flip i32) (param $bias f32) (param $dst i32) (param $sums i32)
    (local $c i32) (local $n8 i32) (local $v v128) (local $a v128) (local $b v128)
    (local $hi v128) (local $lo v128) (local $biases v128) (local $offset v128) (local $mask v128)
    (local $w i32) (local $bits i32) (local $his i32) (local $los i32)
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (local.set $biases (f32x4.splat (local.get $bias)))
    (local.set $offset (i32x4.splat (i32.const 32768)))
    (local.set $mask (i32x4.splat (i32.const 0xffff)))
    (local.set $hi (v128.const i32x4 0 0 0 0))
    (local.set $lo (v128.const i32x4 0 0 0 0))
    (local.set $c (i32.const 0))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $c) (local.get $n8)))
        (if (local.get $flip)
          (then
            ;; words n-8-c .. n-1-c, reversed: reversing all 16 bytes reverses the words and
            ;; swaps the bytes of each.
            (local.set $v (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0
              (v128.load align=1 (i32.add (local.get $src) (i32.shl (i32.sub (i32.sub (local.get $n) (i32.const 8)) (local.get $c)) (i32.const 1))))
              (v128.const i32x4 0 0 0 0))))
          (else
            (local.set $v (i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14
              (v128.load align=1 (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 1))))
              (v128.const i32x4 0 0 0 0)))))
        (local.set $a (f32x4.sub (f32x4.convert_i32x4_s (i32x4.add (i32x4.extend_low_i16x8_s (local.get $v)) (local.get $offset))) (local.get $biases)))
        (local.set $b (f32x4.sub (f32x4.convert_i32x4_s (i32x4.add (i32x4.extend_high_i16x8_s (local.get $v)) (local.get $offset))) (local.get $biases)))
        (local.set $hi (i32x4.add (local.get $hi) (i32x4.add (i32x4.shr_u (local.get $a) (i32.const 16)) (i32x4.shr_u (local.get $b) (i32.const 16)))))
        (local.set $lo (i32x4.add (local.get $lo) (i32x4.add (v128.and (local.get $a) (local.get $mask)) (v128.and (local.get $b) (local.get $mask)))))
        (v128.store align=1 (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
          (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get $a) (local.get $a)))
        (v128.store align=1 (i32.add (local.get $dst) (i32.add (i32.shl (local.get $c) (i32.const 2)) (i32.const 16)))
          (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get $b) (local.get $b)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (br $eight)))
    (local.set $his (i32.add (i32.add (i32x4.extract_lane 0 (local.get $hi)) (i32x4.extract_lane 1 (local.get $hi)))
                             (i32.add (i32x4.extract_lane 2 (local.get $hi)) (i32x4.extract_lane 3 (local.get $hi)))))
    (local.set $los (i32.add (i32.add (i32x4.extract_lane 0 (local.get $lo)) (i32x4.extract_lane 1 (local.get $lo)))
                             (i32.add (i32x4.extract_lane 2 (local.get $lo)) (i32x4.extract_lane 3 (local.get $lo)))))
    ;; The last n mod 8 pixels one at a time.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $c) (local.get $n)))
        (local.set $w (i32.load16_u (i32.add (local.get $src) (i32.shl
          (if (result i32) (local.get $flip)
            (then (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $c)))
            (else (local.get $c)))
          (i32.const 1)))))
        (local.set $w (i32.or (i32.shl (i32.and (local.get $w) (i32.const 0xff)) (i32.const 8)) (i32.shr_u (local.get $w) (i32.const 8))))
        (local.set $bits (i32.reinterpret_f32 (f32.sub
          (f32.convert_i32_s (i32.add (i32.extend16_s (local.get $w)) (i32.const 32768)))
          (local.get $bias))))
        (local.set $his (i32.add (local.get $his) (i32.shr_u (local.get $bits) (i32.const 16))))
        (local.set $los (i32.add (local.get $los) (i32.and (local.get $bits) (i32.const 0xffff))))
        (i32.store align=1 (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
          (i32.or
            (i32.or (i32.shl (local.get $bits) (i32.const 24)) (i32.shl (i32.and (local.get $bits) (i32.const 0xff00)) (i32.const 8)))
            (i32.or (i32.and (i32.shr_u (local.get $bits) (i32.const 8)) (i32.const 0xff00)) (i32.shr_u (local.get $bits) (i32.const 24)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $tail)))
    (i32.store (local.get $sums) (local.get $his))
    (i32.store offset=4 (local.get $sums) (local.get $los)))

  ;; halves(src, words, sums): the totals of the high and the low 16-bit halves of `words`
  ;; big-endian 32-bit words, written as two u32 at sums. words <= 65536 (256 KiB), so that
  ;; neither u32 total can overflow.
  (func (export "halves") (param $src i32) (param $words i32) (param $sums i32)
    (local $i i32) (local $end4 i32) (local $x v128) (local $even v128) (local $odd v128) (local $mask v128)
    (local $w i32) (local $his i32) (local $los i32)
    (local.set $end4 (i32.and (local.get $words) (i32.const -4)))
    (local.set $mask (i32x4.splat (i32.const 0xffff)))
    (local.set $even (v128.const i32x4 0 0 0 0))
    (local.set $odd (v128.const i32x4 0 0 0 0))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $i) (local.get $end4)))
        ;; Swapping the bytes of each 16-bit half leaves the high half in the low 16 bits of
        ;; each little-endian 32-bit lane and the low half in the high 16 bits.
        (local.set $x (i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14
          (v128.load align=1 (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
          (v128.const i32x4 0 0 0 0)))
        (local.set $even (i32x4.add (local.get $even) (v128.and (local.get $x) (local.get $mask))))
        (local.set $odd (i32x4.add (local.get $odd) (i32x4.shr_u (local.get $x) (i32.const 16))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four)))
    (local.set $his (i32.add (i32.add (i32x4.extract_lane 0 (local.get $even)) (i32x4.extract_lane 1 (local.get $even)))
                             (i32.add (i32x4.extract_lane 2 (local.get $even)) (i32x4.extract_lane 3 (local.get $even)))))
    (local.set $los (i32.add (i32.add (i32x4.extract_lane 0 (local.get $odd)) (i32x4.extract_lane 1 (local.get $odd)))
                             (i32.add (i32x4.extract_lane 2 (local.get $odd)) (i32x4.extract_lane 3 (local.get $odd)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $words)))
        (local.set $w (i32.load align=1 (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        ;; little-endian load of big-endian bytes b0 b1 b2 b3: high half = b0 << 8 | b1
        (local.set $his (i32.add (local.get $his) (i32.or (i32.shl (i32.and (local.get $w) (i32.const 0xff)) (i32.const 8)) (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 0xff)))))
        (local.set $los (i32.add (local.get $los) (i32.or (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 0xff00)) (i32.shr_u (local.get $w) (i32.const 24)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (i32.store (local.get $sums) (local.get $his))
    (i32.store offset=4 (local.get $sums) (local.get $los)))
)
