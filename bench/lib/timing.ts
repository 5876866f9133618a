/**
 * A timing proxy around an engine backend for the train-step benchmarks: accumulates wall time per kernel (keyed by
 * name, or by `keyOf` — e.g. with GEMM shapes) and counts the GEMM FLOP (2·M·N·K) of sgemm / sgemmBatched calls and of
 * the product inside linearForward (rows x nOut x nIn).
 */
import { performance } from 'node:perf_hooks';
import type { Backend } from '../../src/engine/index.js';

/** Key of one call in the time table (default: the kernel name). */
export type TimingKey = (name: string, args: unknown[]) => string;

export function timingBackend(inner: Backend, keyOf: TimingKey = (name) => name): { backend: Backend; reset(): void; table(): Record<string, number>; gemmFlops(): number } {
  const acc = new Map<string, number>();
  let flops = 0; // 2·M·N·K summed over sgemm / sgemmBatched / linearForward calls since reset
  const wrapped: Record<string, unknown> = {};
  const names = new Set<string>([...Object.keys(inner), ...Object.getOwnPropertyNames(Object.getPrototypeOf(inner))]);
  for (const name of names) {
    const v = (inner as unknown as Record<string, unknown>)[name];
    if (typeof v !== 'function' || name === 'constructor') continue;
    const f = v as (...a: unknown[]) => unknown;
    wrapped[name] = ['getThreads', 'setThreads'].includes(name) ? f.bind(inner) : (...a: unknown[]) => {
      const t0 = performance.now();
      const r = f.apply(inner, a);
      const key = keyOf(name, a);
      acc.set(key, (acc.get(key) ?? 0) + performance.now() - t0);
      if (name === 'sgemm') flops += 2 * (a[2] as number) * (a[3] as number) * (a[4] as number);
      if (name === 'sgemmBatched') flops += 2 * (a[0] as number) * (a[3] as number) * (a[4] as number) * (a[5] as number);
      if (name === 'linearForward') flops += 2 * (a[5] as number) * (a[6] as number) * (a[7] as number);
      return r;
    };
  }
  wrapped.name = inner.name;
  return {
    backend: wrapped as unknown as Backend,
    reset: () => {
      acc.clear();
      flops = 0;
    },
    gemmFlops: () => flops,
    table: () => Object.fromEntries([...acc].sort((a, b) => b[1] - a[1])),
  };
}
