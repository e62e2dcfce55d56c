// The data pipeline's public surface, for the stage runner and `llmjp4 eval`: read and split the corpus,
// choose the tokenizer, tokenize through the cache, pack, mix, and batch. A stage uses it like this:
//
//   const data = prepareData({ progress: true });              // small 8k tokenizer, cached under runs/cache
//   const batches = pretrainBatches(data, { batchSize: 8, seqLen: 128, seed: 0, weights: { en: 1, ja: 1 } });
//   const { inputIds, labels } = batches.next();               // int32 [B, T]; model.forward(inputIds, { labels })
//   checkpoint.data = batches.state();                          // JSON; later: batches.restore(checkpoint.data)
//   // mid-training: midtrainBatches(data, opts); SFT: sftBatches(data, { ...opts, mode: 'pack' | 'pad' })
//   // validation: evaluate(model, data, { maxTokens: 2048, choices: false }) from train/eval.ts
//   // the checkpoint folder should carry data.tokenizerPath as tokenizer.model for `llmjp4 eval`.

export {
  loadCorpus,
  chunkText,
  codeCorpus,
  readInstructions,
  DEFAULT_CORPUS_DIR,
  PACKAGE_ROOT,
  type SubCorpus,
  type TextDocument,
  type Instruction,
  type CorpusOptions,
} from './corpus.js';
export { splitHeldOut, DEFAULT_VALID_FRACTION, DEFAULT_SPLIT_SALT, type Split, type SplitOptions } from './split.js';
export {
  smallTokenizer,
  tokenizerFromFile,
  DEFAULT_SMALL_VOCAB,
  type TokenizerChoice,
  type SmallTokenizerOptions,
} from './tokenizer_choice.js';
export {
  cacheKey,
  cachedTokenDocs,
  readTokenCache,
  writeTokenCache,
  docIds,
  docCount,
  fromDocs,
  type TokenDocs,
} from './token_cache.js';
export {
  prepareData,
  subCorpus,
  tokenizeDocs,
  DEFAULT_CACHE_DIR,
  type DataOptions,
  type PreparedData,
  type TokenizedSubCorpus,
  type SplitName,
} from './prepare.js';
export { packDocuments, PackedStream, epochOrder, type Row, type PackOptions, type PackedState } from './packing.js';
export {
  Mixture,
  normalizeWeights,
  midtrainWeights,
  LLMJP4_SHARES,
  MIDTRAIN_INSTRUCT_SHARE,
  type MixtureState,
} from './mixture.js';
export { instructionMessages, renderInstruction, maskedLabels, padRows, SFT_CHAT_OPTIONS, type PaddedRows } from './sft.js';
export {
  pretrainBatches,
  midtrainBatches,
  sftBatches,
  toBatch,
  countTargets,
  type Batch,
  type BatchStream,
  type StreamOptions,
  type SftOptions,
} from './batches.js';
