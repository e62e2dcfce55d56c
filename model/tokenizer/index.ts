// The tokenizer's public surface: the Tokenizer class, the SentencePiece model beneath it, the chat
// format, the trainer, and the ModelProto reader/writer.

export { Tokenizer, type EncodeOptions } from './tokenizer.js';
export { SentencePieceModel, type Encoding } from './unigram.js';
export { decodeIds, decodeBytes } from './decode.js';
export { normalize, SPACE_SYMBOL } from './normalizer.js';
export {
  SpecialTokens,
  LLMJP4_NAMED_TOKENS,
  llmjp4ReservedPieces,
  llmjp4SpecialNames,
  type SpecialRole,
} from './special_tokens.js';
export {
  parseModelProto,
  readModelProto,
  serializeModelProto,
  validateModelProto,
  PieceType,
  ModelType,
  type ModelProto,
  type SentencePiece,
  type TrainerSpec,
  type NormalizerSpec,
} from './model_proto.js';
export {
  renderChat,
  parseChat,
  parseReply,
  type ChatMessage,
  type ChatOptions,
  type RenderedChat,
  type ParsedMessage,
} from './chat.js';
export { trainUnigram, trainFromDir, writeModel, META_PIECES, type TrainOptions } from './trainer.js';
