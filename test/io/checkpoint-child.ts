// Child process for the kill-safety test of src/io/checkpoint.ts: saves checkpoints of a ~4 MB model in a loop,
// printing "saving <step>" before each save, until the parent kills it (SIGKILL) at an arbitrary instant.
import { saveCheckpoint } from '../../src/io/checkpoint.js';

const dir = process.argv[2];
const first = Number(process.argv[3]);
const w = new Float32Array(1024 * 1024);
for (let step = first; step < first + 1000; step++) {
  w.fill(step);
  process.stdout.write(`saving ${step}\n`);
  saveCheckpoint(dir, {
    model: new Map([['w', { shape: [w.length], data: w }]]),
    config: { hidden_size: 4 },
    state: { step, rngState: [step], optimizer: {}, schedule: {}, indexSnapshotId: null, extra: {} },
    optimizer: new Map([['w', { expAvg: w, expAvgSq: w }]]),
  }, { keepLast: 2 });
}
