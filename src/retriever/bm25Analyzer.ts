// Text analyser for the BM25 baseline (DPR / ORQA compare every learned retriever with BM25): lower-case,
// strip accents (NFKD, drop combining marks), split on every run of characters that are not letters or digits,
// drop stop words. This matches the analyser of the shared reference run (shared/data/CORPUS_COVERAGE.md:
// lower-cased, accents stripped, non-alphanumeric runs as separators, stop words removed, no stemming).

/** NLTK's English stop-word list (179 words; apostrophe forms split the same way as the text). */
export const NLTK_STOPWORDS: readonly string[] = (
  'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself ' +
  'it its itself they them their theirs themselves what which who whom this that these those am is are was were be ' +
  'been being have has had having do does did doing a an the and but if or because as until while of at by for with ' +
  'about against between into through during before after above below to from up down in out on off over under again ' +
  'further then once here there when where why how all any both each few more most other some such no nor not only ' +
  'own same so than too very s t can will just don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn ' +
  'haven isn ma mightn mustn needn shan shouldn wasn weren won wouldn'
).split(' ');

/** Lucene's default English stop set (33 words; Anserini's default analyser). */
export const LUCENE_STOPWORDS: readonly string[] = (
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they ' +
  'this to was will with'
).split(' ');

/** Analyser configuration. */
export interface AnalyzerConfig {
  /** Stop words removed after normalisation (default NLTK_STOPWORDS). */
  stopwords: readonly string[];
}

/** Lower-cases and strips accents (é → e, ß kept) — shared by the analyser and answer matching. */
export function foldCase(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** Builds an analyser `text → terms`. */
export function createAnalyzer(config: Partial<AnalyzerConfig> = {}): (text: string) => string[] {
  const stop = new Set(config.stopwords ?? NLTK_STOPWORDS);
  const split = /[^\p{L}\p{N}]+/u;
  return (text: string): string[] => {
    const out: string[] = [];
    for (const t of foldCase(text).split(split)) if (t !== '' && !stop.has(t)) out.push(t);
    return out;
  };
}
