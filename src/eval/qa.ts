// Loaders for the open-domain QA evaluation sets staged in shared/data/qa (JSON Lines
// `{"question", "answers": [...], "answer_type"?: "regex"}`): CuratedTREC (regex answers), WebQuestions,
// SQuAD-open, EfficientQA dev — the ORQA/REALM benchmarks (REALM §4.1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from '../corpus/shared.js';
import type { AnswerType } from './answers.js';

/** One question with its gold answers. */
export interface QaExample {
  /** Question text. */
  question: string;
  /** Literal answer strings, or regular expressions when `answerType` is 'regex'. */
  answers: string[];
  /** How `answers` are matched. */
  answerType: AnswerType;
}

/** A malformed or missing QA file. */
export class QaDataError extends Error {
  constructor(message: string, readonly file: string, readonly line?: number) {
    super(message);
    this.name = 'QaDataError';
  }
}

/** Staged QA files, relative to `<dataDir>/qa/`. */
export const QA_SETS = {
  ct_test: 'curatedtrec/test.jsonl',
  ct_train: 'curatedtrec/train.jsonl',
  wq_test: 'webquestions/test.jsonl',
  wq_train: 'webquestions/train.jsonl',
  squad_dev: 'squad_open/dev.jsonl',
  efficientqa_dev: 'nq_open/efficientqa_dev.jsonl',
} as const;

/** Name of a staged QA set. */
export type QaSetName = keyof typeof QA_SETS;

/** Reads a QA JSON Lines file (small: read whole); bad lines are errors naming file:line. */
export function loadQaFile(path: string): QaExample[] {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new QaDataError(`cannot read QA file ${path}: ${(e as Error).message}`, path);
  }
  const out: QaExample[] = [];
  raw.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: { question?: unknown; answers?: unknown; answer_type?: unknown };
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new QaDataError(`${path}:${i + 1}: invalid JSON (${(e as Error).message})`, path, i + 1);
    }
    if (typeof rec.question !== 'string' || !Array.isArray(rec.answers) || !rec.answers.every((a) => typeof a === 'string')) {
      throw new QaDataError(`${path}:${i + 1}: expected {"question": string, "answers": string[]}`, path, i + 1);
    }
    out.push({ question: rec.question, answers: rec.answers as string[], answerType: rec.answer_type === 'regex' ? 'regex' : 'string' });
  });
  if (out.length === 0) throw new QaDataError(`QA file ${path} has no question`, path);
  return out;
}

/** Loads a staged QA set from the shared data folder. */
export function loadQaSet(name: QaSetName, dataDir = sharedDataDir()): QaExample[] {
  return loadQaFile(join(dataDir, 'qa', QA_SETS[name]));
}
