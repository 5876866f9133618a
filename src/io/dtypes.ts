/**
 * safetensors dtypes: the element sizes of every dtype the format defines (needed to validate any file's offsets) and
 * the conversions of the ones we read into our two in-memory types: F32/F16/BF16 → Float32Array (exact: every F16
 * and BF16 value, NaN payloads included, is representable in F32) and I32/I64 → Int32Array (I64 range-checked).
 * All multi-byte data in safetensors is little-endian.
 */

import { endianness } from 'node:os';

/** Every dtype name the safetensors format defines, with its size in bits. */
export const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, C64: 64,
};

/** The dtypes this project reads. */
export type ReadableDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';
/** The dtypes this project writes (Float32Array → F32, or F16 on request; Int32Array → I32). */
export type WritableDtype = 'F32' | 'F16' | 'I32';

export const READABLE_DTYPES: readonly ReadableDtype[] = ['F32', 'F16', 'BF16', 'I32', 'I64'];

/** Whether the host is little-endian (every supported Node target is; big-endian hosts are refused clearly). */
export const HOST_IS_LE = endianness() === 'LE';

let halfTable: Uint32Array | null = null;

/** F32 bit pattern of the F16 value with bit pattern h (exact, including subnormals, ±Inf and NaN payloads). */
export function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let man = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (man << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (man << 13)) >>> 0;
  if (man === 0) return sign >>> 0;
  // subnormal: value = man * 2^-24; normalise so the leading 1 moves to bit 10
  let e = -14;
  while ((man & 0x400) === 0) {
    man <<= 1;
    e -= 1;
  }
  return (sign | ((e + 127) << 23) | ((man & 0x3ff) << 13)) >>> 0;
}

/** Convert little-endian F16 bytes to a new Float32Array. */
export function f16ToF32(bytes: Uint8Array): Float32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfBitsToFloatBits(h);
  }
  const n = bytes.byteLength >> 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfTable[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return new Float32Array(out.buffer);
}

/**
 * F16 bit pattern nearest to the F32 value with bit pattern f (IEEE round to nearest, ties to even): overflow → ±Inf,
 * underflow → F16 subnormals or ±0, NaN stays NaN with its top 10 payload bits (1 if those are all zero), as numpy does.
 */
export function floatBitsToHalfBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const man = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man === 0 ? 0 : man >>> 13 || 1); // NaN: top payload bits (numpy's rule)
  const e = exp - 127 + 15; // biased F16 exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    let h = (e << 10) | (man >>> 13);
    const rem = man & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is the right rounding
    return sign | h;
  }
  // F16 subnormal: value = m · 2^-24 with m = (1.man) · 2^(E + 24), E = e - 15
  const shift = 14 - e;
  if (shift >= 25) return sign;
  const full = man | 0x800000;
  let m = full >>> shift;
  const rem = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (m & 1) === 1)) m++;
  return sign | m;
}

/** Convert a Float32Array to little-endian F16 bytes (round to nearest even). */
export function f32ToF16(data: Float32Array): Uint8Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint8Array(data.length * 2);
  for (let i = 0; i < bits.length; i++) {
    const h = floatBitsToHalfBits(bits[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** Convert little-endian BF16 bytes (the top half of an F32) to a new Float32Array. */
export function bf16ToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  return new Float32Array(out.buffer);
}

/**
 * Convert little-endian I64 bytes to Int32Array; returns the index of the first out-of-range element instead when
 * one does not fit in int32 (the caller reports it with the file and tensor name).
 */
export function i64ToI32(bytes: Uint8Array): Int32Array | { badIndex: number; value: bigint } {
  const n = bytes.byteLength >> 3;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = view.getUint32(8 * i, true);
    const hi = view.getInt32(8 * i + 4, true);
    // fits in int32 iff hi is the sign extension of lo
    if (hi !== (lo & 0x80000000 ? -1 : 0)) return { badIndex: i, value: view.getBigInt64(8 * i, true) };
    out[i] = lo | 0;
  }
  return out;
}
