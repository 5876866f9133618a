// The contract between the MIPS benchmark driver (bench/mips-glove.ts) and one peer's process (bench/peers/run.ts):
// what a peer gets (the loaded set, sweep settings, a require() rooted at bench/peers/node_modules) and the record it
// returns (build seconds, resident memory, sweep points, QPS at recall targets). One peer per process so that its
// resident memory is attributable.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QpsSummary, SweepPoint } from './metrics.js';
import type { QuerySet, SweepOptions } from './sweep.js';

/** What a peer's run function receives. */
export interface PeerContext {
  /** [n, d] base vectors */
  base: Float32Array;
  /** number of base vectors */
  n: number;
  /** dimension */
  d: number;
  /** queries + ground truth */
  qs: QuerySet;
  /** reduced sweeps / subsets for development runs */
  quick: boolean;
  /** sweep settings (k, single-query count, stop rules) */
  sweep: SweepOptions;
  /** require() resolving bench-only peers from bench/peers/node_modules */
  require: NodeRequire;
  /** scratch directory for index files */
  scratchDir: string;
  /** progress lines (stderr) */
  log: (msg: string) => void;
  /** RSS (MiB, after GC) with the data loaded and nothing built */
  rssLoadedMB: number;
}

/** One peer's result (one JSON record in bench/results/mips-glove.json "peers"). */
export interface PeerRecord extends Partial<QpsSummary> {
  /** peer name, e.g. "hnswlib-node" */
  peer: string;
  /** package / library version */
  version?: string;
  /** build / search configuration */
  params?: Record<string, unknown>;
  /** build seconds (single thread) */
  build_s?: number;
  /** RSS after GC with the data loaded, before building (MiB) */
  rss_loaded_mb?: number;
  /** RSS growth from building the index (MiB, after GC) */
  rss_index_mb?: number;
  /** ScannIndex: index RSS after trimHeap() (freed build temporaries returned to the OS) */
  rss_index_trimmed_mb?: number;
  /** RSS after build (MiB) */
  rss_mb?: number;
  /** peak RSS of the process (MiB) */
  max_rss_mb?: number;
  /** the sweep */
  sweep?: SweepPoint[];
  /** exact search rates (recall 1.0 peers) */
  exact?: Record<string, { nq: number; qps: number; recall: number; gflops?: number; threads?: number }>;
  /** why the peer did not run */
  skipped?: string;
  /** anything a reader must know about the numbers */
  notes?: string[];
  /** peer-specific extras */
  [extra: string]: unknown;
}

/** A peer implementation. */
export type PeerRun = (ctx: PeerContext) => Promise<PeerRecord>;

/** bench/peers/ (package.json of the bench-only peers). */
export const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');

/** require() rooted at bench/peers/ (peers are installed with `npm install --prefix bench/peers`). */
export function peersRequire(): NodeRequire {
  return createRequire(join(PEERS_DIR, 'package.json'));
}

/** Version of an installed bench peer, or null when it is not installed. */
export function peerVersion(req: NodeRequire, name: string): string | null {
  try {
    return (req(`${name}/package.json`) as { version: string }).version;
  } catch { /* "exports" may hide package.json: read it from bench/peers/node_modules */ }
  const p = join(PEERS_DIR, 'node_modules', name, 'package.json');
  if (!existsSync(p)) return null;
  return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
}

/** Marker of the result line a peer process prints on stdout. */
export const RESULT_MARK = '@@MIPS_RESULT ';
